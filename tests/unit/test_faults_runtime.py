"""Faults planted after planning are caught on the venv by the checks written for them.

Each case is built by the test from synthetic wheels and run through the runner like any corpus
case, on the host interpreter: `merge` passes it, the fault fails it with the rule that guards
its bug (A4 fallback order, A6 console scripts, A7 stale bytecode, A8 unreported conflicts,
the case's prefix-file expectation for data files), and a fault that changes nothing in a
case's venv is reported `unexercised`, never a pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.cases import load_case
from harness.run.runner import Unit, run_unit
from harness.supply.interpreters import resolve

MERGED_MODULE = """
description = "two regular pkg/ directories merged; the later wheel overwrites pkg/mod.py"
[[wheels]]
name = "early"
version = "1.0"
[wheels.synthetic]
files = { "pkg/__init__.py" = "", "pkg/mod.py" = "WHO = 'early'\\n", "pkg/early_only.py" = "", "pkg/__pycache__/mod.cpython-37.pyc" = "bytecode of early's mod.py\\n" }
[[wheels]]
name = "late"
version = "1.0"
[wheels.synthetic]
files = { "pkg/__init__.py" = "", "pkg/mod.py" = "WHO = 'late'\\n", "pkg/late_only.py" = "" }
"""

DOTTED_SCRIPT = """
description = "a console script whose entry point is an attribute of an object"
[[wheels]]
name = "tools"
version = "1.0"
[wheels.synthetic]
files = { "tools/__init__.py" = "class Program:\\n    def run(self):\\n        return 0\\nprogram = Program()\\n" }
entry_points = { console_scripts = { tool = "tools:program.run" } }
"""

FALLBACKS = """
description = "three wheels ship shared.py: the two earlier ones stay on fallback, in order"
[[wheels]]
name = "x1"
version = "1.0"
[wheels.synthetic]
files = { "shared.py" = "WHO = 1\\n", "x1_only.py" = "" }
[[wheels]]
name = "x2"
version = "1.0"
[wheels.synthetic]
files = { "shared.py" = "WHO = 2\\n", "x2_only.py" = "" }
[[wheels]]
name = "x3"
version = "1.0"
[wheels.synthetic]
files = { "shared.py" = "WHO = 3\\n", "x3_only.py" = "" }
"""

DATA_FILES = """
description = "a wheel with a .data/data file, which belongs under the venv prefix"
[[wheels]]
name = "withdata"
version = "1.0"
[wheels.synthetic]
files = { "withdata/__init__.py" = "" }
data = { data = { "share/withdata/x.json" = "{}" } }
[[expect.prefix_file]]
path = "share/withdata/x.json"
owner = "withdata"
explanation = "PEP 427 .data/data files are installed relative to the prefix (engine-contract.md §3.9)"
"""


@pytest.fixture(scope="module")
def host():
    return resolve(sys.executable)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    return tmp_path


def _run(env: Path, host, text: str, *engines: str) -> dict:
    (env / "case").mkdir()
    (env / "case" / "case.toml").write_text(text)
    results = run_unit(Unit(load_case(env / "case"), host, ("merge", *engines)))
    by_engine = {r.engine: r for r in results}
    merge = by_engine["merge"]
    assert merge.status == "pass", [f.render() for f in merge.findings] or merge.detail
    return by_engine


def _rules(result) -> set[str]:
    assert result.status == "fail", result.detail
    return {f.rule for f in result.findings}


def test_merge_faults_stale_bytecode_and_silent_conflicts(env, host) -> None:
    got = _run(
        env,
        host,
        MERGED_MODULE,
        "fault:stale-bytecode-kept",
        "fault:conflicts-unreported",
        "fault:merge-reversed",
        "fault:console-dotted-unresolved",
    )
    assert _rules(got["fault:stale-bytecode-kept"]) == {"A7"}
    (stale,) = got["fault:stale-bytecode-kept"].findings
    assert stale.subject == "pkg/__pycache__/mod.cpython-37.pyc"
    assert _rules(got["fault:conflicts-unreported"]) == {"A8"}
    assert got["fault:conflicts-unreported"].findings[0].subject == "pkg/mod.py"
    assert "A5" in _rules(got["fault:merge-reversed"])  # pkg.mod is early's, flat's is late's
    assert got["fault:console-dotted-unresolved"].status == "unexercised"


def test_dotted_console_script_wrapper(env, host) -> None:
    got = _run(env, host, DOTTED_SCRIPT, "fault:console-dotted-unresolved")
    (finding,) = got["fault:console-dotted-unresolved"].findings
    assert finding.rule == "A6" and finding.subject == "bin/tool"
    assert "AttributeError" in finding.runtime


def test_fallbacks_in_reverse_order(env, host) -> None:
    got = _run(env, host, FALLBACKS, "fault:fallback-reversed", "fault:partly-covered-dropped")
    assert "A4" in _rules(got["fault:fallback-reversed"])
    # x1 and x2 are projected on x1_only.py/x2_only.py but lose shared.py: partly covered.
    # Dropped from the fallback, their dist-info (visible only there) is gone.
    assert "A3" in _rules(got["fault:partly-covered-dropped"])


def test_data_files_under_site_packages(env, host) -> None:
    got = _run(env, host, DATA_FILES, "fault:data-in-site-packages")
    assert _rules(got["fault:data-in-site-packages"]) == {"expect-prefix-file"}


TWO_COPIES = """
description = "one distribution given twice (two builds), merged: no copy stays on fallback"
detects = ["fault:metadata-counts-claimants"]
[[wheels]]
name = "onefile"
version = "1.0"
label = "build-a"
[wheels.synthetic]
files = { "onefile/__init__.py" = "BUILD = 'a'\\n" }
tag = "py3-none-any"
[[wheels]]
name = "onefile"
version = "1.0"
label = "build-b"
[wheels.synthetic]
files = { "onefile/__init__.py" = "BUILD = 'b'\\n" }
tag = "py2.py3-none-any"
"""


def test_a_refusal_the_case_does_not_accept_is_a_detection(env, host) -> None:
    # why: counting claimants instead of copies on fallback, the planner refuses two builds
    # merge handles; for a `detects` variant that refusal is the case catching the fault.
    got = _run(env, host, TWO_COPIES, "fault:metadata-counts-claimants")
    result = got["fault:metadata-counts-claimants"]
    assert result.status == "detected" and result.ok
    assert [f.rule for f in result.findings] == ["refused"]
