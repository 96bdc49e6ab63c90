"""PEP 427 `.data` categories in a real venv: what lands under the prefix, and what never does.

The case schema only speaks about site-packages, so the prefix half of the `.data` corpus cases
lives here: data files projected under the venv prefix by ownership (engine-contract.md §3.9), a
wheel whose whole package sits under `.data/platlib`, and scripts/headers that are never projected
(§2.6). Pins come from the case files, so versions and hashes live in one place.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from harness import supply
from harness.cases import default_cases_root, load_case
from harness.engine.assemble import assemble
from harness.errors import HarnessError
from harness.model import Interpreter, PreparedWheel
from harness.supply.interpreters import resolve

pytestmark = pytest.mark.e2e

JUPYTER_CASE = "data-files-jupyterlab-widgets-widgetsnbextension"
HDF5PLUGIN_CASE = "data-platlib-hdf5plugin"
SCRIPTS_CASE = "data-scripts-headers-docutils-greenlet"
LAB_PACKAGE_JSON = "share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager/package.json"
NB_EXTENSION_JS = "share/jupyter/nbextensions/jupyter-js-widgets/extension.js"


@pytest.fixture(scope="module")
def interpreter() -> Interpreter:
    try:
        return resolve("3.11")
    except HarnessError as exc:  # pragma: no cover - the host is 3.11
        pytest.skip(f"no CPython 3.11: {exc}")


def _prepared(case_name: str, interpreter: Interpreter) -> dict[str, PreparedWheel]:
    """The case's wheels, prepared, by distribution name."""
    case = load_case(default_cases_root() / case_name)
    return {p.facts.name: p for p in supply.prepare(case.pins, interpreter)}


def _is_within(path: Path, root: Path) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base + os.sep)


def _data_dirs_in(site_packages: Path) -> list[str]:
    return sorted(p.name for p in site_packages.iterdir() if p.name.endswith(".data"))


def test_jupyter_data_files_resolve_under_the_prefix_into_their_owner(
    tmp_path: Path, interpreter: Interpreter
) -> None:
    wheels = _prepared(JUPYTER_CASE, interpreter)
    lab, nb = wheels["jupyterlab-widgets"], wheels["widgetsnbextension"]
    asm = assemble(list(wheels.values()), interpreter, tmp_path / "venv", engine="merge")
    prefix = Path(asm.venv.path)

    # ownership collapse (engine-contract.md §3.9): shared parents real, single-owner subtrees
    # one link
    assert dict(asm.plan.data_projections) == {
        "etc": nb.label,
        "share/jupyter/labextensions": lab.label,
        "share/jupyter/nbextensions": nb.label,
    }
    for shared in ("share", "share/jupyter"):
        assert (prefix / shared).is_dir() and not (prefix / shared).is_symlink(), shared
    for linked, owner in (
        ("share/jupyter/labextensions", lab),
        ("share/jupyter/nbextensions", nb),
        ("etc", nb),
    ):
        assert (prefix / linked).is_symlink(), linked
        assert not os.path.isabs(os.readlink(prefix / linked)), "links must stay relative"
        assert os.path.realpath(prefix / linked) == os.path.realpath(owner.tree.data / linked)

    # every data file of both wheels is reachable under the prefix, inside its own wheel's tree
    for owner in (lab, nb):
        assert owner.facts.data_files, f"{owner.label} lost its data files"
        for rel in owner.facts.data_files:
            assert (prefix / rel).is_file(), rel
            assert _is_within(prefix / rel, owner.tree.data), rel
    assert _data_dirs_in(Path(asm.venv.site_packages)) == []

    # what Jupyter does: look under sys.prefix of the venv's own interpreter
    probe = (
        "import os, sys; "
        f"print(all(os.path.isfile(os.path.join(sys.prefix, p)) for p in {[LAB_PACKAGE_JSON, NB_EXTENSION_JS]!r}))"
    )
    out = subprocess.run(
        [str(asm.venv.python), "-c", probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True", out


def test_hdf5plugin_package_lives_under_data_platlib_and_is_projected(
    tmp_path: Path, interpreter: Interpreter
) -> None:
    (wheel,) = _prepared(HDF5PLUGIN_CASE, interpreter).values()
    with zipfile.ZipFile(wheel.path) as archive:
        names = archive.namelist()
        wheel_meta = archive.read("hdf5plugin-2.0.0.dist-info/WHEEL").decode()
    # the premise of the case, read from the archive itself: root says purelib, files say platlib
    assert "Root-Is-Purelib: true" in wheel_meta
    package_rows = [n for n in names if not n.startswith("hdf5plugin-2.0.0.dist-info/")]
    assert package_rows and all(
        n.startswith("hdf5plugin-2.0.0.data/platlib/hdf5plugin/") for n in package_rows
    ), package_rows

    asm = assemble([wheel], interpreter, tmp_path / "venv", engine="merge")
    site = Path(asm.venv.site_packages)
    assert _data_dirs_in(site) == []
    plugin = site / "hdf5plugin" / "plugins" / "libh5blosc.so"
    assert plugin.is_file() and _is_within(plugin, wheel.tree.site_packages)


def test_scripts_and_headers_are_unpacked_but_never_projected(
    tmp_path: Path, interpreter: Interpreter
) -> None:
    wheels = _prepared(SCRIPTS_CASE, interpreter)
    docutils, greenlet = wheels["docutils"], wheels["greenlet"]
    # the install trees keep both categories (nothing of the wheel is dropped at unpack time)
    assert (docutils.tree.scripts / "rst2html.py").is_file()
    assert (greenlet.tree.headers / "greenlet.h").is_file()

    merged = assemble(list(wheels.values()), interpreter, tmp_path / "merge", engine="merge")
    prefix = Path(merged.venv.path)
    assert _data_dirs_in(Path(merged.venv.site_packages)) == []
    assert not (prefix / "bin" / "rst2html.py").exists(), (
        "scripts are never projected (engine-contract.md §2.6)"
    )
    assert not [p for p in (prefix / "include").rglob("greenlet.h")], (
        "nor are headers (engine-contract.md §2.6)"
    )

    # the known difference from a pip-like install, kept visible: flat copies scripts into bin/
    flat = assemble(list(wheels.values()), interpreter, tmp_path / "flat", engine="flat")
    assert (Path(flat.venv.path) / "bin" / "rst2html.py").is_file()
