"""A winner that cannot load on this libc is a finding with the loader's error, never a crash.

The corpus case duplicate-metadata-pydantic-core-manylinux-musllinux makes the musllinux build
of pydantic_core 2.41.5 win over the manylinux one. On a glibc CPython its extension
(`_pydantic_core.cpython-311-x86_64-linux-musl.so`) carries a suffix FileFinder never tries, so a
real import fails. The case itself can only pin resolve-level outcomes (a case with that import
would never pass); this test adds the import and asserts how the runner reports it.
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import os
from pathlib import Path

import pytest

from harness import supply
from harness.cases import default_cases_root, load_case
from harness.errors import HarnessError
from harness.run import runner
from harness.supply.interpreters import resolve

pytestmark = pytest.mark.e2e

MUSL_WINS = "duplicate-metadata-pydantic-core-manylinux-musllinux"
GLIBC_WINS = "duplicate-metadata-pydantic-core-musllinux-manylinux"
EXTENSION = "pydantic_core._pydantic_core"


def _python311():
    try:
        return resolve("3.11")
    except HarnessError as exc:  # pragma: no cover - the host is 3.11
        pytest.skip(f"no CPython 3.11: {exc}")


def _musl_wins_with_import():
    """The musl-wins case plus the real import and the support wheel that import needs."""
    musl = load_case(default_cases_root() / MUSL_WINS)
    glibc = load_case(default_cases_root() / GLIBC_WINS)
    return dataclasses.replace(musl, imports=(EXTENSION,), support=glibc.support)


def test_musl_winner_import_is_a_finding_with_the_loader_error(tmp_path: Path) -> None:
    interpreter = _python311()
    if "-linux-musl" in " ".join(importlib.machinery.EXTENSION_SUFFIXES):
        pytest.skip("this host is musl: the musl build loads here")
    case = _musl_wins_with_import()
    assert case.imports == (EXTENSION,)

    (result,) = runner.run_unit(runner.Unit(case, interpreter, ("merge",), keep=str(tmp_path)))

    # a finding, not a crash of the runner
    assert result.status == "fail", result.detail
    import_findings = [f for f in result.findings if f.rule == "import"]
    assert [f.subject for f in import_findings] == [EXTENSION]
    runtime = import_findings[0].runtime or ""
    assert "ModuleNotFoundError" in runtime and f"No module named '{EXTENSION}'" in runtime, runtime
    # the import is the only thing wrong: every resolve-level expectation of the case still holds
    assert {f.rule for f in result.findings} == {"import"}, [f.render() for f in result.findings]

    # why it fails: the venv's pydantic_core/ is the musl tree whole, and that tree holds only
    # the musl extension, whose suffix this interpreter does not search (the glibc one is not
    # grafted in: native code is never split). Read the link text, not its target: a kept venv
    # has moved away from the shared wheel trees its relative links were written for.
    assert result.venv is not None
    link = Path(result.venv) / "lib" / "python3.11" / "site-packages" / "pydantic_core"
    assert link.is_symlink()
    musl_tree = next(
        p.tree.site_packages for p in supply.prepare(case.pins, interpreter) if "musl" in p.label
    )
    assert os.readlink(link).endswith(os.path.join(Path(musl_tree).name, "pydantic_core"))
    assert Path(musl_tree).parent.name in os.readlink(link)
    extensions = sorted(
        p.name for p in (Path(musl_tree) / "pydantic_core").glob("_pydantic_core*.so")
    )
    assert extensions == ["_pydantic_core.cpython-311-x86_64-linux-musl.so"]
    assert not any(
        s for s in importlib.machinery.EXTENSION_SUFFIXES if s.endswith("-linux-musl.so")
    )


def test_glibc_winner_imports_under_the_same_runner() -> None:
    """Control: the same pins in the other order import, so the failure above is the libc."""
    interpreter = _python311()
    case = load_case(default_cases_root() / GLIBC_WINS)
    (result,) = runner.run_unit(runner.Unit(case, interpreter, ("merge",)))
    assert result.status == "pass", [f.render() for f in result.findings]
