"""Determinism: the same cases run twice, and under -j 1 and -j 2, give the same answer.

Byte-identical plan JSON, the same concrete tree listing, the same JSON report apart from the
`seconds` fields. The cases are written into tmp_path with `[wheels.synthetic]` wheels, so the
runs are offline; `keep` points both runs at the same directory so the kept venvs (where the plan
and the trees can be read back) have the same paths in both runs.
"""

from __future__ import annotations

import importlib.machinery
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cases import load_case
from harness.engine.materialize import STATE_DIR
from harness.observe.concrete import concrete_view
from harness.observe.venv import extension_suffixes
from harness.run import report, runner
from harness.supply.interpreters import resolve

EXT = importlib.machinery.EXTENSION_SUFFIXES[0]

# A regular package shipped by two wheels with different __init__.py: physically merged, with
# a merge conflict warning (the later file wins).
SPANNING = r"""
description = "a regular package spanning two wheels is merged"
[[wheels]]
name = "span-a"
version = "1.0"
[wheels.synthetic]
files = { "span/__init__.py" = "WHO = 'a'\n", "span/a.py" = "A = 1\n" }
[[wheels]]
name = "span-b"
version = "1.0"
[wheels.synthetic]
files = { "span/__init__.py" = "WHO = 'b'\n", "span/b.py" = "B = 2\n" }
[[expect.module]]
name = "span.a"
owner = "span-a"
explanation = "the merged directory keeps span-a's module beside span-b's"
"""

# A regular package and a native graft under it: merge projects the regular package, the
# whole-tree variant is expected to fail (findings are part of the report, so they must be
# deterministic too).
GRAFT = rf"""
description = "a native graft under a regular package"
detects = ["whole-tree"]
[[wheels]]
name = "regular"
version = "1.0"
[wheels.synthetic]
files = {{ "pkg/__init__.py" = "VALUE = 'regular'\n", "pkg/mod.py" = "" }}
[[wheels]]
name = "graft"
version = "1.0"
[wheels.synthetic]
files = {{ "pkg/native/__init__.py" = "", "pkg/native/_ext{EXT}" = "\u007fELF" }}
[[expect.module]]
name = "pkg"
owner = "regular"
explanation = "the regular package binds pkg; the graft only adds pkg/native"
[[expect.module]]
name = "pkg.native"
absent = true
explanation = "the graft loses: a regular package's __path__ is its own directory only"
[[expect.collision]]
kind = "top-level"
name = "pkg"
explanation = "both wheels claim pkg/: one regular package, one namespace graft into it"
[[expect.flat_difference]]
module = "pkg.native"
explanation = "flat writes the graft inside the regular pkg/; merge keeps the regular one whole"
"""

# A namespace shared by two wheels, a console script and a data file.
NAMESPACE = r"""
description = "a namespace over two wheels, with a console script and a data file"
[[wheels]]
name = "ns-one"
version = "2.0"
[wheels.synthetic]
files = { "shared/one.py" = "def main():\n    return 0\n" }
entry_points = { console_scripts = { one-tool = "shared.one:main" } }
data = { data = { "share/one/readme.txt" = "one\n" } }
[[wheels]]
name = "ns-two"
version = "3.0"
[wheels.synthetic]
files = { "shared/two.py" = "TWO = 2\n" }
[[expect.module]]
name = "shared.two"
owner = "ns-two"
explanation = "each wheel's module lies in its own portion of the namespace"
"""

CASES = {"spanning": SPANNING, "graft": GRAFT, "namespace": NAMESPACE}


@pytest.fixture
def cases_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")  # synthetic wheels only: nothing to download
    root = tmp_path / "cases"
    for name, text in CASES.items():
        (root / name).mkdir(parents=True)
        (root / name / "case.toml").write_text(text)
    return root


def units(cases_dir: Path, names: list[str], keep: Path | None) -> list[runner.Unit]:
    host = resolve(sys.executable)
    made = []
    for name in names:
        case = load_case(cases_dir / name)
        made.append(
            runner.Unit(
                case, host, runner.engines_for(case, "merge"), keep=str(keep) if keep else None
            )
        )
    return made


def without_seconds(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


def snapshot(results: list[runner.Result], keep: Path) -> dict[str, Any]:
    """What must not change between runs: plans (bytes), concrete listings, the report. Every
    kept venv is listed; the flat oracle (`oracle`, installed by pypa/installer, no engine) has
    no plan."""
    suffixes = extension_suffixes(resolve(sys.executable))
    plans, listings = {}, {}
    for venv in sorted(p.parent for p in keep.glob("*/*/pyvenv.cfg")):
        key = venv.relative_to(keep).as_posix()
        if (venv / STATE_DIR).is_dir():
            plans[key] = (venv / STATE_DIR / "plan.json").read_bytes()
        [site] = venv.glob("lib/python*/site-packages")
        view = concrete_view(site, extension_suffixes=suffixes)
        listings[key] = [(m.name, m.kind, m.path, m.realpath) for m in view.modules]
    return {
        "plans": plans,
        "listings": listings,
        # as lines, so a difference shows as the one line that differs
        "report": json.dumps(
            without_seconds(json.loads(report.to_json_report(results))), indent=1, sort_keys=True
        ).splitlines(),
    }


def test_same_case_twice_gives_identical_plan_listing_and_report(
    cases_dir: Path, tmp_path: Path
) -> None:
    # Without --keep the venvs live in a fresh temporary directory each run and are removed:
    # the report must not depend on that directory's random name.
    [unkept] = units(cases_dir, ["spanning"], None)
    reports = [snapshot(runner.run_unit(unkept), tmp_path / "none")["report"] for _ in range(2)]
    assert reports[1] == reports[0]

    keep = tmp_path / "keep"
    [unit] = units(cases_dir, ["spanning"], keep)
    first_results = runner.run_unit(unit)
    first = snapshot(first_results, keep)
    second_results = runner.run_unit(unit)
    second = snapshot(second_results, keep)

    assert [r.status for r in first_results] == ["pass"]
    # the merge conflict is reported (so the report has a path-bearing warning to compare)
    assert any("Package collision while merging" in w for w in first_results[0].warnings)
    assert sorted(first["plans"]) == ["spanning-3.11/merge"]
    assert sorted(first["listings"]) == ["spanning-3.11/merge", "spanning-3.11/oracle"]
    assert second["plans"] == first["plans"]
    assert second["listings"] == first["listings"]
    assert second["report"] == first["report"]


def test_jobs_1_and_jobs_2_give_identical_plans_listings_and_reports(
    cases_dir: Path, tmp_path: Path
) -> None:
    keep = tmp_path / "keep"
    names = ["spanning", "graft", "namespace"]
    serial_results = runner.run_units(units(cases_dir, names, keep), jobs=1)
    serial = snapshot(serial_results, keep)
    parallel_results = runner.run_units(units(cases_dir, names, keep), jobs=2)
    parallel = snapshot(parallel_results, keep)

    # merge passes everywhere; whole-tree is caught on the graft case, as the case declares
    assert [(r.case, r.engine, r.status) for r in serial_results] == [
        ("spanning", "merge", "pass"),
        ("graft", "merge", "pass"),
        ("graft", "whole-tree", "detected"),
        ("namespace", "merge", "pass"),
    ]
    assert len(serial["plans"]) == 4  # three merge venvs, one whole-tree
    assert len(serial["listings"]) == 7  # and the three flat oracles
    assert parallel["plans"] == serial["plans"]
    assert parallel["listings"] == serial["listings"]
    assert parallel["report"] == serial["report"]
