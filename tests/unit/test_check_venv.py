"""`harness check VENV` on venvs assembled from synthetic wheels with the host interpreter.

A regular package against a namespace graft holding native code: `merge` projects the regular
claimant and agrees with runtime; `whole-tree` in that order projects the graft's namespace
tree while runtime binds the regular package from the fallback, which A1 must report.
"""

from __future__ import annotations

import sys

import pytest

from harness.cli import main
from harness.commands.check import check_venv
from harness.engine.assemble import assemble
from harness.interpreters import resolve
from harness.supply import prepare_args
from harness.wheelbuilder import write_wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    d = tmp_path_factory.mktemp("wheels")
    regular = write_wheel(
        d, "regular", "1.0", {"pkg/__init__.py": "VALUE = 'regular'\n", "pkg/mod.py": ""}
    )
    graft = write_wheel(
        d,
        "graft",
        "1.0",
        {
            "pkg/native/__init__.py": "",
            "pkg/native/_ext.cpython-311-x86_64-linux-gnu.so": b"\x7fELF",
        },
    )
    return [str(regular), str(graft)]


@pytest.fixture(scope="module")
def host():
    return resolve(sys.executable)


def build(tmp_path, wheels, host, engine):
    prepared = prepare_args(wheels, host)
    return assemble(prepared, host, tmp_path / engine, engine=engine, policy="ignore").venv.path


def test_merge_venv_has_no_findings(tmp_path, wheels, host, monkeypatch):
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    venv = build(tmp_path, wheels, host, "merge")
    findings, _ = check_venv(venv)
    assert findings == []
    assert main(["check", str(venv)]) == 0


def test_whole_tree_venv_reports_a1(tmp_path, wheels, host, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    venv = build(tmp_path, wheels, host, "whole-tree")
    findings, _ = check_venv(venv)
    a1 = [f for f in findings if f.rule == "A1"]
    assert [f.subject for f in a1] == ["pkg"]
    assert "graft" in a1[0].concrete and "pkg/__init__.py from regular" in a1[0].runtime
    assert main(["check", str(venv)]) == 1
    assert "A1" in capsys.readouterr().out


def test_not_a_harness_venv_is_a_clear_error(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err
