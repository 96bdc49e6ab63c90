"""The pytest plugin's fixtures, as a user's test would use them (synthetic wheels, host Python)."""

from __future__ import annotations

import sys


def test_assemble_and_probe_from_own_tests(harness_venv, harness_probe, tmp_path, monkeypatch):
    from harness.supply.wheelbuilder import write_wheel

    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    a = write_wheel(tmp_path, "alpha", "1.0", {"shared/__init__.py": "", "shared/a.py": ""})
    b = write_wheel(tmp_path, "beta", "1.0", {"shared/__init__.py": "", "shared/b.py": ""})
    asm = harness_venv(str(a), str(b), python=sys.executable)
    report = harness_probe(asm, resolve=["shared.a", "shared.b", "shared.c"])
    # two regular shared/ directories without native code are merged: both modules import
    assert report.module("shared.a").status == "found"
    assert report.module("shared.b").status == "found"
    assert report.module("shared.c").status == "not-found"
    assert [g.root for g in asm.plan.merges] == ["shared"]


def test_judge_any_venv_from_own_tests(harness_venv, harness_judge, tmp_path, monkeypatch):
    from harness.supply.wheelbuilder import write_wheel

    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    a = write_wheel(tmp_path, "alpha", "1.0", {"shared/__init__.py": "", "shared/a.py": ""})
    b = write_wheel(tmp_path, "beta", "1.0", {"shared/__init__.py": "", "shared/b.py": ""})
    wheels = (str(a), str(b))
    # why: merge merges two regular shared/ directories, so nothing either wheel ships is lost
    merged = harness_venv(*wheels, python=sys.executable)
    assert harness_judge(merged, *wheels, python=sys.executable) == []
    # why: whole-tree projects beta's shared/ whole, so alpha's shared.a is lost (A2), which a
    # flat install keeps; the fixture judges from the wheels, whatever built the venv
    whole = harness_venv(*wheels, python=sys.executable, engine="whole-tree")
    findings = harness_judge(whole.venv.path, *wheels, python=sys.executable)
    assert ("A2", "shared.a") in {(f.rule, f.subject) for f in findings}
