"""`assemble` with real wheels and CPython 3.11: the issue's done-when checks, end to end.

Module resolution runs inside the venv's own interpreter without executing package code:
google 1.9.3's `__init__` imports bs4 and jwt 1.4.0's does real work, so top-levels go through
`importlib.util.find_spec` (which does not execute the package for a top-level name) and
submodules through `PathFinder.find_spec` with the parent's path given explicitly.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.cases import words
from harness.cli import main
from harness.engine.assemble import Assembly, assemble
from harness.supply.interpreters import resolve

pytestmark = pytest.mark.e2e

GOOGLE, PROTOBUF = "google==1.9.3", "protobuf==6.33.5"
PYJWT, JWT = "PyJWT==2.10.1", "jwt==1.4.0"


@pytest.fixture(scope="module")
def py311():
    return resolve("3.11")


@pytest.fixture(scope="module")
def prepared(py311):
    """Every wheel once per module, keyed by its pin (the supply chain caches across runs)."""
    pins = [GOOGLE, PROTOBUF, PYJWT, JWT]
    return dict(zip(pins, words.prepare_args(pins, py311), strict=True))


def build(prepared, py311, pins, tmp_path: Path, engine: str = "merge") -> Assembly:
    wheels = [prepared[p] for p in pins]
    return assemble(wheels, py311, tmp_path / "venv", engine=engine, policy="warning")


def in_venv(assembly: Assembly, code: str):
    done = subprocess.run(
        [str(assembly.venv.python), "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def runtime_view(assembly: Assembly, top_level: str) -> dict:
    """find_spec origin of a top-level (not executed) and sys.path, as real paths."""
    return in_venv(
        assembly,
        "import importlib.util as u, json, os, sys\n"
        f"spec = u.find_spec({top_level!r})\n"
        "print(json.dumps({'origin': spec.origin and os.path.realpath(spec.origin), "
        "'locations': [os.path.realpath(p) for p in spec.submodule_search_locations or ()], "
        "'sys_path': [os.path.realpath(p) for p in sys.path]}))",
    )


def tree_sp(prepared, pin: str) -> str:
    return os.path.realpath(prepared[pin].tree.site_packages)


@pytest.mark.parametrize("order", [(GOOGLE, PROTOBUF), (PROTOBUF, GOOGLE)], ids=["g-p", "p-g"])
def test_google_protobuf_merge_concrete_matches_runtime(prepared, py311, tmp_path, order) -> None:
    assembly = build(prepared, py311, order, tmp_path)
    site = assembly.venv.site_packages
    runtime = runtime_view(assembly, "google")
    # Concrete = runtime (A1): the google/__init__.py the venv shows is the one Python finds,
    # and it is google 1.9.3's regular package in either order (a regular package beats a
    # namespace graft).
    concrete = os.path.realpath(site / "google" / "__init__.py")
    assert runtime["origin"] == concrete
    assert concrete.startswith(tree_sp(prepared, GOOGLE) + os.sep)
    # protobuf stays importable through its fallback line, after the venv's site-packages.
    assert tree_sp(prepared, PROTOBUF) in runtime["sys_path"]
    assert runtime["sys_path"].index(os.path.realpath(site)) < runtime["sys_path"].index(
        tree_sp(prepared, PROTOBUF)
    )


def test_google_protobuf_whole_tree_reproduces_the_bug(prepared, py311, tmp_path) -> None:
    """Before the fix: the last claimant's tree is projected whole. With protobuf last, the
    concrete google/ is protobuf's namespace tree while runtime binds google's regular package
    through the fallback: what a static tool sees is not what runs."""
    buggy = build(prepared, py311, (GOOGLE, PROTOBUF), tmp_path / "gp", engine="whole-tree")
    concrete_dir = os.path.realpath(buggy.venv.site_packages / "google")
    assert concrete_dir == os.path.join(tree_sp(prepared, PROTOBUF), "google")
    assert not os.path.exists(os.path.join(concrete_dir, "__init__.py"))
    origin = runtime_view(buggy, "google")["origin"]
    assert origin == os.path.join(tree_sp(prepared, GOOGLE), "google", "__init__.py")

    fine = build(prepared, py311, (PROTOBUF, GOOGLE), tmp_path / "pg", engine="whole-tree")
    concrete_dir = os.path.realpath(fine.venv.site_packages / "google")
    assert concrete_dir == os.path.join(tree_sp(prepared, GOOGLE), "google")
    assert runtime_view(fine, "google")["origin"] == os.path.join(concrete_dir, "__init__.py")


def jwt_view(assembly: Assembly) -> dict:
    """Where Python finds jwt, jwt.jwa and jwt.api_jwt, without executing jwt/__init__."""
    return in_venv(
        assembly,
        "import importlib.util as u, json, os\n"
        "from importlib.machinery import PathFinder\n"
        "top = u.find_spec('jwt')\n"
        "where = list(top.submodule_search_locations)\n"
        "subs = {n: PathFinder.find_spec(n, where) for n in ('jwt.jwa', 'jwt.api_jwt')}\n"
        "print(json.dumps({'jwt': top.origin, 'where': where, "
        "**{n: s and s.origin for n, s in subs.items()}}))",
    )


@pytest.mark.parametrize("order", [(PYJWT, JWT), (JWT, PYJWT)], ids=["pyjwt-jwt", "jwt-pyjwt"])
def test_pyjwt_jwt_merge_keeps_both_sides(prepared, py311, tmp_path, order) -> None:
    assembly = build(prepared, py311, order, tmp_path)
    merged = assembly.venv.site_packages / "jwt"
    assert merged.is_dir() and not merged.is_symlink()
    for name in ("api_jwt.py", "jwa.py"):  # PyJWT's and jwt's unique modules, side by side
        assert (merged / name).is_file() and not (merged / name).is_symlink()
    view = jwt_view(assembly)
    assert view["where"] == [str(merged)]
    assert view["jwt"] == str(merged / "__init__.py")
    assert view["jwt.jwa"] == str(merged / "jwa.py")
    assert view["jwt.api_jwt"] == str(merged / "api_jwt.py")
    # The later wheel's __init__ wins the file collision, and its owner is recorded.
    last = prepared[order[-1]]
    assert (merged / "__init__.py").read_bytes() == (
        last.tree.site_packages / "jwt" / "__init__.py"
    ).read_bytes()
    assert assembly.venv.owners["jwt/__init__.py"] == last.label
    assert any(c.rel == "jwt/__init__.py" for c in assembly.venv.merge_conflicts)


def test_pyjwt_jwt_whole_tree_loses_the_earlier_side(prepared, py311, tmp_path) -> None:
    """Before the fix: jwt 1.4.0 (last) is projected whole and PyJWT's api_jwt vanishes."""
    assembly = build(prepared, py311, (PYJWT, JWT), tmp_path, engine="whole-tree")
    view = jwt_view(assembly)
    assert view["jwt.jwa"] is not None
    assert view["jwt.api_jwt"] is None


def test_cli_assemble_json(prepared, tmp_path, capsys) -> None:
    out = tmp_path / "cli"
    status = main(["assemble", PYJWT, JWT, "--python", "3.11", "--out", str(out), "--json"])
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["python"] == str(out / "bin" / "python")
    assert [g["root"] for g in report["plan"]["merges"]] == ["jwt"]
    assert report["owners"]["jwt/jwa.py"] == prepared[JWT].label
    # The venv records what it is, for `harness check` later.
    manifest = json.loads((out / ".harness" / "manifest.json").read_text())
    assert manifest["engine"] == "merge" and set(manifest["trees"]) == {
        prepared[PYJWT].label,
        prepared[JWT].label,
    }
