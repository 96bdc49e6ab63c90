"""The built-in pex and uv adapters on corpus wheels, for real (offline once the wheels are cached).

Few and fast on purpose: each test is one build (a pex build takes seconds). Each skips, with
the reason, when its tool is not installed (`pip install 'venv-merge-harness[engines]'`).
What each asserts comes from the tool's documented behaviour (external-engines.md in the shared
reference) and the import system, not from what the adapter says about itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness import adapters, supply
from harness.adapters import Outcome
from harness.cases import find_case
from harness.supply.interpreters import query

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def interp():
    return query(sys.executable)


def engine_ready(name: str) -> None:
    info = adapters.discover().get(name)
    assert info is not None, f"{name} is not registered: reinstall the harness (pip install -e .)"
    if not info.available:
        pytest.skip(f"{name}: {info.why_unavailable}")


def run_case(engine: str, case_name: str, interp, tmp_path: Path) -> tuple[Outcome, list]:
    engine_ready(engine)
    case = find_case(case_name)
    prepared = supply.prepare(case.pins, interp)
    support = [label for label, _ in supply.choose(case.support, interp)]
    request = adapters.make_request(
        engine, case.name, interp, prepared, support, tmp_path / "venv", tmp_path / "store"
    )
    return adapters.build(engine, request), prepared


def site_packages(venv: Path) -> Path:
    (site,) = venv.glob("lib/python*/site-packages")
    return site


def test_uv_symlink_builds_pyjwt_then_jwt_as_a_flat_install(interp, tmp_path):
    outcome, prepared = run_case("uv-symlink", "regular-merge-jwt-pyjwt-jwt", interp, tmp_path)
    assert outcome.status == "built", outcome.message
    assert outcome.applied_order == tuple(p.label for p in prepared)  # one command per wheel
    jwt = site_packages(outcome.venv) / "jwt"
    files = [p for p in jwt.rglob("*") if "__pycache__" not in p.parts and not p.is_dir()]
    assert files and all(p.is_symlink() for p in files)  # --link-mode symlink, per file
    # A flat install overlays both regular jwt/ trees into one directory: each side's unique
    # modules stay (jwa.py is jwt 1.4.0's, api_jwt.py PyJWT's) ...
    assert (jwt / "jwa.py").exists() and (jwt / "api_jwt.py").exists()
    # ... and the later wheel (jwt 1.4.0) wins the shared files, as pip would.
    later = {p.label: p for p in prepared}["jwt"]
    shipped = later.tree.site_packages / "jwt" / "exceptions.py"
    assert (jwt / "exceptions.py").read_bytes() == shipped.read_bytes()


def test_pex3_venv_refuses_pyjwt_with_jwt(interp, tmp_path):
    outcome, _ = run_case("pex3-venv", "regular-merge-jwt-pyjwt-jwt", interp, tmp_path)
    assert outcome.status == "refused"
    assert "Encountered collisions" in outcome.message
    # The three shared files whose bytes differ, as pex names them.
    for shared in ("jwt/__init__.py", "jwt/exceptions.py", "jwt/utils.py"):
        assert f"site-packages/{shared} was provided by" in outcome.message


def test_pex_venv_moves_azure_core_to_pex_ns_pkgs(interp, tmp_path):
    outcome, prepared = run_case(
        "pex-venv", "spanning-regular-azure-core-tracing", interp, tmp_path
    )
    assert outcome.status == "built", outcome.message
    site = site_packages(outcome.venv)
    # The plugin sorts first in PEX-INFO (`-` before `=`), so its namespace azure/ takes the
    # top-level and azure-core goes whole to pex-ns-pkgs/N, listed by pex-ns-pkgs.pth.
    assert (site / "pex-ns-pkgs.pth").is_file() or (site / "pex-ns-pkgs").is_dir()
    # A --venv PEX builds its venv under PEX_ROOT (in the store), not at `out`.
    assert os.path.realpath(outcome.venv).startswith(os.path.realpath(tmp_path / "store") + "/")
    labels = {p.facts.name: p.label for p in prepared}
    order = list(outcome.applied_order)
    assert order.index(labels["azure-core-tracing-opentelemetry"]) < order.index(
        labels["azure-core"]
    )
    assert sorted(order) == sorted(labels.values())
    assert any("its own order" in w for w in outcome.warnings)
    assert any("pex-ns-pkgs" in w and labels["azure-core"] in w for w in outcome.warnings)


def test_uv_installs_protobuf_5_then_6_as_an_upgrade(interp, tmp_path):
    outcome, _ = run_case("uv", "two-versions-protobuf-5-6", interp, tmp_path)
    # One wheel per command: the later version replaces the earlier like a pip upgrade, so
    # exactly one protobuf dist-info is left and it is 6.33.5's.
    assert outcome.status == "built", outcome.message
    dist_infos = sorted(p.name for p in site_packages(outcome.venv).glob("protobuf-*.dist-info"))
    assert dist_infos == ["protobuf-6.33.5.dist-info"]
    assert any("uninstalled protobuf 5.29.5" in w for w in outcome.warnings)
