"""Property test, materialized: random synthetic wheel sets, written as real wheels, assembled
under `merge` with the host interpreter and checked with `harness check`'s own function, hold A1.

test_plan_property.py proves the plan invariants on facts alone; this one takes a small
deterministic sample all the way: real wheel files (write_wheel), the cache, read-only install
trees, a virtualenv, the probe inside it. A1 (every module the concrete tree shows resolves at
runtime to the same real file) must hold for every sample; any other finding must be one the
plan explains (`explained_by_plan`).
"""

from __future__ import annotations

import functools
import importlib.machinery
import re
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from harness.cases.words import prepare_args
from harness.commands.check import check_venv
from harness.engine.assemble import assemble
from harness.errors import PlanError
from harness.judge import Finding
from harness.model import Interpreter, Plan
from harness.supply.interpreters import resolve
from harness.supply.wheelbuilder import write_wheel

EXT = importlib.machinery.EXTENSION_SUFFIXES[0]  # the host's: only then is a .so a module
NATIVE = b"\x7fELF not really, never imported: find_spec only reads the name"

# Overlapping shapes (file top-levels, namespaces, regular packages, native code, nested
# regular-in-namespace, a graft into a regular package). Module files are empty so that the
# probe's find_spec, which runs parents' __init__.py, can never fail on their content.
PATH_POOL = (
    "single.py",
    "pkg/__init__.py",
    "pkg/core.py",
    f"pkg/_speedups{EXT}",
    "pkg/native/__init__.py",
    f"pkg/native/_ext{EXT}",
    "ns/a.py",
    "ns/b.py",
    "ns/sub/__init__.py",
    "ns/sub/x.py",
    f"ns/sub/_ext{EXT}",
    "ns/deep/inner/leaf.py",
    "ns/deep/other.py",
    "nat/__init__.py",
    f"nat/_core{EXT}",
)
NAMES = ("alpha", "beta")  # shared names make duplicated distributions


@st.composite
def wheel_sets(draw: st.DrawFn) -> list[tuple[str, str, dict[str, str | bytes]]]:
    """(name, version, files) per wheel, in install order."""
    count = draw(st.integers(min_value=1, max_value=4))
    wheels = []
    for i in range(count):
        paths = draw(st.sets(st.sampled_from(PATH_POOL), min_size=1, max_size=6))
        if draw(st.booleans()):
            paths.add(f"own{i}/__init__.py")  # a top-level nobody else has
        name = draw(st.sampled_from((*NAMES, f"own{i}")))
        # versions differ per position, so two copies of one distribution never share a file name
        version = f"{draw(st.sampled_from((1, 2)))}.{i}"
        files = {p: (NATIVE if p.endswith(EXT) else "") for p in sorted(paths)}
        wheels.append((name, version, files))
    return draw(st.permutations(wheels))


def metadata_hard_error(error: PlanError) -> bool:
    """The one refusal the planner may make here: many visible copies of one distribution."""
    return re.match(r"distribution `[^`]+` would have \d+ visible metadata copies", str(error))


def explained_by_plan(finding: Finding, plan: Plan) -> bool:
    """A finding the plan accounts for: a collision recorded on its top-level, or (for a lost
    module, A2) a decision that gave a directory holding it to another claimant. The second is
    the native span (engine-contract.md §3.2.2): a conflicted regular root with native code is
    projected whole to its last regular claimant, the others stay on fallback, and no collision
    is recorded for it, so only the decision explains the loss."""
    if finding.subject.split(".")[0] in {c.name.split("/")[0] for c in plan.collisions}:
        return True
    if finding.rule != "A2":
        return False
    path = finding.subject.replace(".", "/")
    losers = set(finding.wheels) - set(plan.superseded)  # a superseded copy is gone by design
    return bool(losers) and any(
        (path == d.path or path.startswith(d.path + "/"))
        and d.winner is not None
        and d.winner not in losers
        and losers <= set(d.claimants)
        for d in plan.decisions
    )


@functools.cache
def host() -> Interpreter:
    return resolve(sys.executable)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(wheels=wheel_sets())
def test_materialized_merge_venvs_hold_a1(
    wheels: list[tuple[str, str, dict[str, str | bytes]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one private cache and tree store for every example: both are content-addressed
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    with tempfile.TemporaryDirectory(dir=tmp_path) as work:
        paths = [
            str(write_wheel(Path(work) / f"w{i}", name, version, files))
            for i, (name, version, files) in enumerate(wheels)
        ]
        prepared = prepare_args(paths, host())
        try:
            assembly = assemble(
                prepared, host(), Path(work) / "venv", engine="merge", policy="ignore"
            )
        except PlanError as exc:
            assert metadata_hard_error(exc), str(exc)
            event("refused: many metadata copies")
            return
        findings, _blind = check_venv(assembly.venv.path)
    event(f"materialized, {len(findings)} finding(s)")

    assert [f.render() for f in findings if f.rule == "A1"] == []
    unexplained = [f.render() for f in findings if not explained_by_plan(f, assembly.plan)]
    assert unexplained == []
