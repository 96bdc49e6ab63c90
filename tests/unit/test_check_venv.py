"""`harness check VENV` on venvs assembled from synthetic wheels with the host interpreter.

A regular package against a namespace graft holding native code: `merge` projects the regular
claimant and agrees with runtime, but the graft's `pkg.native` is lost where a flat install
(which merges the two directories) imports it, so A2 reports it (the plan only explains it);
`whole-tree` in that order projects the graft's namespace tree while runtime binds the regular
package from the fallback, which A1 must report. Any venv, built by anything, is checked from
`--wheels` alone.
"""

from __future__ import annotations

import shutil
import sys

import pytest

from harness.cases.words import prepare_args
from harness.cli import main
from harness.commands.check import check_venv
from harness.engine.assemble import assemble
from harness.supply.interpreters import resolve
from harness.supply.wheelbuilder import write_wheel


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


def test_merge_venv_loses_only_what_its_plan_explains_and_a2_still_reports_it(
    tmp_path, wheels, host, monkeypatch
):
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    venv = build(tmp_path, wheels, host, "merge")
    findings, _ = check_venv(venv)
    # why: a regular pkg/__init__.py binds one directory; the graft's native subpackage stays
    # on the fallback where the regular package's __path__ never looks, while flat merges them.
    assert [(f.rule, f.subject) for f in findings] == [("A2", "pkg.native")]
    assert "the engine's plan says" in findings[0].message
    assert findings[0].wheels == ("graft-1.0-py3-none-any.whl",)
    assert main(["check", str(venv)]) == 1


def test_whole_tree_venv_reports_a1(tmp_path, wheels, host, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    venv = build(tmp_path, wheels, host, "whole-tree")
    findings, _ = check_venv(venv)
    a1 = [f for f in findings if f.rule == "A1"]
    assert [f.subject for f in a1] == ["pkg"]
    assert "graft" in a1[0].concrete and "pkg/__init__.py from regular" in a1[0].runtime
    assert main(["check", str(venv)]) == 1
    assert "A1" in capsys.readouterr().out


def test_not_a_venv_is_a_clear_error(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "is not a venv" in capsys.readouterr().err


def test_a_venv_the_harness_did_not_build_needs_its_wheels(tmp_path, wheels, host, capsys):
    venv = build(tmp_path, wheels, host, "flat")
    shutil.rmtree(venv / ".harness", ignore_errors=True)
    assert main(["check", str(venv)]) == 2
    assert "--wheels" in capsys.readouterr().err
    # why: a flat install is what the oracle is, so it agrees with it everywhere
    findings, _ = check_venv(venv, wheels)
    assert findings == []


def test_relative_venv_path(tmp_path, wheels, host, monkeypatch):
    build(tmp_path, wheels, host, "flat")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "flat", "--wheels", *wheels]) == 0


@pytest.fixture(scope="module")
def regular_pair(tmp_path_factory):
    """Two regular `jwtish/` packages, each with a module the other lacks (PyJWT + jwt)."""
    d = tmp_path_factory.mktemp("pair")
    first = write_wheel(
        d, "first", "1.0", {"jwtish/__init__.py": "A = 1\n", "jwtish/only_first.py": ""}
    )
    second = write_wheel(
        d, "second", "1.0", {"jwtish/__init__.py": "B = 2\n", "jwtish/only_second.py": ""}
    )
    return [str(first), str(second)]


def test_an_engine_that_records_the_collision_it_loses_gets_a2(
    tmp_path, regular_pair, host, monkeypatch
):
    # whole-tree records a top-level collision on jwtish, projects the last claimant whole and
    # leaves the first on the fallback, where jwtish.only_first can never be found (a regular
    # package's __path__ is one directory). Flat imports it: the recorded collision is the
    # engine's word about its own bug, so it must not excuse the loss.
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    prepared = prepare_args(regular_pair, host)
    asm = assemble(prepared, host, tmp_path / "wt", engine="whole-tree", policy="ignore")
    assert [c.name for c in asm.plan.collisions] == ["jwtish"]
    findings, _ = check_venv(asm.venv.path)
    a2 = [f for f in findings if f.rule == "A2"]
    assert [f.subject for f in a2] == ["jwtish.only_first"]
    assert "jwtish" in a2[0].message and "plan says" in a2[0].message
    # the same without the engine's state: no plan, same finding
    shutil.rmtree(asm.venv.path / ".harness")
    findings, _ = check_venv(asm.venv.path, regular_pair)
    assert [f.subject for f in findings if f.rule == "A2"] == ["jwtish.only_first"]
