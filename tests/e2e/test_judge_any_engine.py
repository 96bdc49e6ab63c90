"""The harness judges venvs it did not build: real uv and pex venvs, checked from the wheels alone.

Each venv is built by a real third-party tool through its adapter, then `harness check VENV
--wheels ...` judges it with no `.harness/` state and no plan: ownership comes from RECORD
hashes, the oracle from the harness's own flat install. Expectations come from how each tool
lays a venv out (see docs/engines.md), not from observed output:

- uv (`--link-mode symlink`, one wheel per command) is a pip-like flat install made of per-file
  symlinks into its cache: every file the flat oracle has, at the same path, with the same bytes.
- pex's `--venv` layout projects each top-level whole, first claimant wins, and moves a
  distribution whose top-level is taken to `pex-ns-pkgs/N` on a `.pth`. azure-core-tracing-
  opentelemetry sorts first, so its namespace `azure/` is projected while azure-core's regular
  `azure/core/__init__.py` is imported from pex-ns-pkgs: the seed bug's shape, A1 on azure.core.
"""

from __future__ import annotations

import json
import shutil

import pytest

from harness import adapters, supply
from harness.cases import find_case
from harness.cli import main
from harness.supply.interpreters import resolve

pytestmark = pytest.mark.e2e


def _adapter(name: str) -> None:
    info = adapters.discover().get(name)
    if info is None or not info.available:
        why = info.why_unavailable if info else "not installed"
        pytest.skip(f"engine {name} is not available here ({why}); pip install -e '.[engines]'")


def _build(engine: str, case_name: str, tmp_path):
    host = resolve("default")
    case = find_case(case_name)
    prepared = supply.prepare([*case.support, *case.wheels], host)
    support = {p.label for p in prepared[: len(case.support)]}
    request = adapters.make_request(
        engine, case_name, host, prepared, support, tmp_path / "venv", tmp_path / "store"
    )
    outcome = adapters.build(engine, request)
    assert outcome.status == "built", outcome.message
    assert not (outcome.venv / ".harness").exists()
    return outcome, [str(p.path) for p in prepared]


def _check(capsys, venv, *args: str) -> dict:
    capsys.readouterr()
    status = main(["check", str(venv), *args, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert status == (0 if doc["ok"] else 1)
    return doc


def test_uv_symlink_venv_of_pyjwt_and_jwt_passes(tmp_path, capsys):
    _adapter("uv-symlink")
    outcome, wheels = _build("uv-symlink", "regular-merge-jwt-pyjwt-jwt", tmp_path)
    doc = _check(capsys, outcome.venv, "--wheels", *wheels)
    assert doc["findings"] == [], doc["findings"]
    # and with the case: its import-system expectations hold for uv too
    with_case = _check(
        capsys, outcome.venv, "--case", "regular-merge-jwt-pyjwt-jwt", "--engine", "uv-symlink"
    )
    assert with_case["findings"] == [], with_case["findings"]


def test_pex_symlinked_venv_of_azure_core_tracing_shows_the_seed_bug(tmp_path, capsys):
    _adapter("pex-venv")
    outcome, wheels = _build("pex-venv", "spanning-regular-azure-core-tracing", tmp_path)
    doc = _check(capsys, outcome.venv, "--wheels", *wheels)
    a1 = [f for f in doc["findings"] if f["rule"] == "A1"]
    assert [f["subject"] for f in a1] == ["azure.core"]
    # why: the concrete azure/core is the plugin's namespace portion, runtime binds
    # azure-core's regular package from pex-ns-pkgs; both wheels are named by label
    assert any(w.startswith("azure_core-") for w in a1[0]["wheels"]), a1[0]
    assert any(w.startswith("azure_core_tracing_opentelemetry-") for w in a1[0]["wheels"]), a1[0]
    lost = {f["subject"] for f in doc["findings"] if f["rule"] == "A2"}
    assert "azure.core.tracing.ext.opentelemetry_span" in lost
    # with the case: the same finding, and the case's import expectation fails too
    with_case = _check(
        capsys,
        outcome.venv,
        "--case",
        "spanning-regular-azure-core-tracing",
        "--engine",
        "pex-venv",
    )
    (a1_case,) = [f for f in with_case["findings"] if f["rule"] == "A1"]
    assert a1_case["wheels"] == a1[0]["wheels"]
    assert "azure.core.tracing.ext.opentelemetry_span" in {
        f["subject"] for f in with_case["findings"] if f["rule"] == "import"
    }


def test_a_copied_venv_is_judged_the_same(tmp_path, capsys):
    # Ownership follows content, not links: copying every file of a uv venv (no symlink left)
    # changes nothing the checks see.
    _adapter("uv-symlink")
    outcome, wheels = _build("uv-symlink", "spanning-regular-azure-core-tracing", tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(outcome.venv, copy, symlinks=False, ignore_dangling_symlinks=True)
    # the interpreter link must stay a link to the base interpreter
    for name in ("python", "python3"):
        target = copy / "bin" / name
        if target.exists():
            target.unlink()
            target.symlink_to((outcome.venv / "bin" / name).resolve())
    (copy / "pyvenv.cfg").write_text((outcome.venv / "pyvenv.cfg").read_text())
    doc = _check(capsys, copy, "--wheels", *wheels)
    assert doc["findings"] == [], doc["findings"]
