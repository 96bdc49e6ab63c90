"""Shared vocabulary for the planner tests: synthetic wheels and a whole-plan comparison.

The synthetic wheels translate the upstream fixture vocabulary (engine-contract.md §9.2) into
RECORD path lists, so the planner sees exactly the facts a real wheel of that shape would
produce.
`assert_plan` compares every field of a plan against an expectation, and runs the plan
invariants too, so each table row checks the whole plan, not one field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from harness.engine.invariants import check_plan_invariants
from harness.engine.plan import plan
from harness.facts import facts_from_paths
from harness.model import Plan, WheelFacts

KINDS = ("ordinary", "regular", "extend_path", "native_root", "native_namespace", "metadata_only")


def synthetic(
    value: str,
    *kinds: str,
    metadata_name: str | None = None,
    namespace: bool = True,
    label: str | None = None,
) -> WheelFacts:
    """A wheel of the `py_venv_conflict` fixture family (engine-contract.md §9.2), by path list.

    Every wheel ships `collision_<metadata_name or value>-1.0.dist-info`; unless
    `metadata_only` (or `namespace=False`) the PEP 420 namespace `collision_namespace/` with
    `shared.py` and `<value>.py`. `ordinary` adds the file top-level `collision_order.py` and the
    console script `collision-order`; `regular`/`extend_path` a regular `collision_order/`
    package (extend_path only changes the `__init__.py` bytes, not the paths); `native_root`
    adds `collision_order.libs/marker.txt` and a native file that makes `collision_order`
    native; `native_namespace` ships `collision_order/` without `__init__.py` but with a `.so`.
    """
    unknown = set(kinds) - set(KINDS)
    assert not unknown, unknown
    paths: list[str] = []
    scripts: list[str] = []
    if "metadata_only" not in kinds and namespace:
        paths += ["collision_namespace/shared.py", f"collision_namespace/{value}.py"]
    if "ordinary" in kinds:
        paths.append("collision_order.py")
        scripts.append(f"collision-order=collision_namespace.{value}:main")
    if "regular" in kinds or "extend_path" in kinds:
        paths += ["collision_order/__init__.py", f"collision_order/{value}.py"]
    if "native_root" in kinds:
        paths += ["collision_order.libs/marker.txt", "collision_order/_native.so"]
    if "native_namespace" in kinds:
        paths += [f"collision_order/{value}.py", "collision_order/native_extension.so"]
    return facts_from_paths(
        label or value,
        sorted(set(paths)),
        dist_info=f"collision_{metadata_name or value}-1.0.dist-info",
        console_scripts=scripts,
    )


def wheel(
    label: str,
    paths: Iterable[str],
    *,
    dist: str | None = None,
    scripts: Iterable[str] = (),
    data: Iterable[str] = (),
) -> WheelFacts:
    """A wheel from a bare path list; `dist` is its dist-info directory name."""
    return facts_from_paths(
        label, list(paths), dist_info=dist, console_scripts=scripts, data_files=data
    )


def dist(label: str) -> str:
    """The dist-info directory `facts_from_paths` gives a wheel by default."""
    return f"{label.replace('-', '_')}-1.0.dist-info"


def assert_plan(
    wheels: Sequence[WheelFacts], expected: dict[str, Any], engine: str = "merge"
) -> Plan:
    """Plan `wheels` and compare EVERY field with `expected`; absent keys mean "empty".

    Keys: projections {path: label}, merges {root: [labels]}, fallbacks [label or
    (label, addsitedir)], metadata {name: label}, collisions [(kind, name, first, second)],
    scripts {name: (label, "module:attr")}, data {path: label}, superseded [labels],
    rules {path: rule} (a subset of decisions that must exist). Fully covered is implied:
    every wheel neither on fallback nor superseded. The plan must also satisfy every invariant.
    """
    result = plan(wheels, engine)
    labels = list(dict.fromkeys(w.label for w in wheels))
    fallbacks = [f if isinstance(f, tuple) else (f, False) for f in expected.get("fallbacks", [])]
    superseded = list(expected.get("superseded", []))
    got = {
        "projections": dict(result.projections),
        "merges": {m.root: list(m.contributors) for m in result.merges},
        "fallbacks": [(f.label, f.addsitedir) for f in result.fallbacks],
        "metadata": dict(result.metadata_owners),
        "collisions": [(c.kind, c.name, c.first, c.second) for c in result.collisions],
        "scripts": {n: (label, f"{m}:{a}") for n, label, m, a in result.console_scripts},
        "data": dict(result.data_projections),
        "superseded": list(result.superseded),
        "fully_covered": list(result.fully_covered),
        "wheels": list(result.wheels),
    }
    want = {
        "projections": expected.get("projections", {}),
        "merges": {k: list(v) for k, v in expected.get("merges", {}).items()},
        "fallbacks": fallbacks,
        "metadata": expected.get("metadata", {}),
        "collisions": [tuple(c) for c in expected.get("collisions", [])],
        "scripts": expected.get("scripts", {}),
        "data": expected.get("data", {}),
        "superseded": superseded,
        "fully_covered": [
            label
            for label in labels
            if label not in {f for f, _ in fallbacks} and label not in superseded
        ],
        "wheels": labels,
    }
    if engine == "flat":
        want["fully_covered"] = []
    mismatches = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not mismatches, "plan differs from expectation:\n" + "\n".join(
        f"  {k}:\n    got  {g!r}\n    want {w!r}" for k, (g, w) in mismatches.items()
    )
    rules = {(d.path, d.rule) for d in result.decisions}
    for path, rule in expected.get("rules", {}).items():
        assert (path, rule) in rules, f"no decision {rule} for {path}: {sorted(rules)}"
    for c in result.collisions:
        assert c.first in c.describe() and c.second in c.describe(), c
    assert check_plan_invariants(wheels, result) == []
    return result
