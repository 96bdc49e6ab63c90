"""The probe resolves console scripts through their own code and checks bytecode headers.

Real venvs of the oldest and newest CPythons the probe supports (and the host): a script is
resolved without its entry point being called, a wrapper that cannot walk a dotted attribute
is an error, a launcher that is not Python is `unparsed`; a `.pyc` header is fresh or stale
against the source beside it, as the target interpreter would judge it.
"""

from __future__ import annotations

import os
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from harness.engine.materialize import console_script_wrapper
from harness.observe.runtime import resolve_scripts, run_probe, venv_python

PYENV = Path("/root/.pyenv/versions")
INTERPRETERS = {
    "host": Path(sys.executable),
    "3.8": PYENV / "3.8.18" / "bin" / "python3.8",
    "3.13": PYENV / "3.13.0" / "bin" / "python3.13",
}

# pypa/installer's wrapper for `tool = pkg.cli:app.run` (pip and uv write the same shape).
INSTALLER_WRAPPER = """\
#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from pkg.cli import app
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(app.run())
"""

# What a wrapper looks like when it cannot resolve a dotted attribute path: one getattr with
# the whole dotted string (the bug the fault `console-dotted-unresolved` plants).
NAIVE_WRAPPER = """\
import importlib, sys
target = getattr(importlib.import_module("pkg.cli"), "app.run")
sys.exit(target())
"""

CLI = """\
CALLS = []
class App:
    def run(self):
        CALLS.append(1)
        raise SystemExit("the entry point was called")
app = App()
def main():
    raise SystemExit("the entry point was called")
"""


@pytest.fixture(scope="module", params=sorted(INTERPRETERS))
def venv(request, tmp_path_factory):
    python = INTERPRETERS[request.param]
    if not python.exists():
        pytest.skip(f"{python} is not installed")
    where = tmp_path_factory.mktemp(f"venv-{request.param}")
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(where)], check=True)
    (site,) = where.glob("lib/python3.*/site-packages")
    (site / "pkg").mkdir()
    (site / "pkg" / "__init__.py").write_text("")
    (site / "pkg" / "cli.py").write_text(CLI)
    return where, site


def _script(venv: Path, name: str, text: str) -> dict:
    path = venv / "bin" / name
    path.write_text(text)
    path.chmod(0o755)
    return {"name": name, "path": str(path), "module": "pkg.cli"}


def test_wrappers_resolve_without_calling_the_entry_point(venv) -> None:
    where, site = venv
    python = venv_python(where)
    scripts = [
        _script(
            where, "harness-tool", console_script_wrapper("harness-tool", "pkg.cli", "app.run")
        ),
        _script(where, "installer-tool", INSTALLER_WRAPPER.format(python=python)),
        _script(where, "plain-tool", console_script_wrapper("plain-tool", "pkg.cli", "main")),
    ]
    found = {r.name: r for r in resolve_scripts(python, scripts)}
    cli = os.path.realpath(site / "pkg" / "cli.py")
    for name in ("harness-tool", "installer-tool"):
        assert found[name].status == "resolved", found[name].error
        assert found[name].object == "pkg.cli.App.run"
        assert found[name].object_file == cli  # the method's code file
        assert found[name].module_file == cli
    assert found["plain-tool"].status == "resolved"
    assert found["plain-tool"].object == "pkg.cli.main"


def test_a_wrapper_that_cannot_walk_a_dotted_attribute_is_an_error(venv) -> None:
    where, _ = venv
    (run,) = resolve_scripts(venv_python(where), [_script(where, "naive", NAIVE_WRAPPER)])
    assert run.status == "error"
    assert run.error.type == "AttributeError" and "app.run" in run.error.message


def test_a_missing_module_and_a_non_python_launcher(venv) -> None:
    where, _ = venv
    python = venv_python(where)
    gone = console_script_wrapper("gone", "pkg.nothere", "main")
    shell = "#!/bin/sh\nexec true\n"
    found = {
        r.name: r
        for r in resolve_scripts(
            python, [_script(where, "gone", gone), _script(where, "shell", shell)]
        )
    }
    assert found["gone"].status == "error"
    assert found["gone"].error.type == "ModuleNotFoundError"
    assert found["shell"].status == "unparsed"


def test_a_script_that_kills_its_interpreter_costs_only_itself(venv) -> None:
    where, _ = venv
    python = venv_python(where)
    killer = "import os\nos._exit(7)\nimport sys\nsys.exit(main())\n"
    found = resolve_scripts(
        python,
        [
            _script(where, "killer", killer),
            _script(where, "fine", console_script_wrapper("fine", "pkg.cli", "main")),
        ],
    )
    assert [r.status for r in found] == ["error", "resolved"]
    assert found[0].error.type == "ProbeError"


def test_bytecode_headers_fresh_and_stale(venv, tmp_path) -> None:
    where, site = venv
    python = venv_python(where)
    mod = site / "pkg" / "mod.py"
    mod.write_text("X = 1\n")
    cache = site / "pkg" / "__pycache__"
    cache.mkdir(exist_ok=True)
    code = (
        "import py_compile, sys\n"
        "py_compile.compile(sys.argv[1], cfile=sys.argv[2], invalidation_mode=getattr("
        "py_compile.PycInvalidationMode, sys.argv[3]))\n"
    )
    pycs = {}
    for mode in ("TIMESTAMP", "UNCHECKED_HASH"):
        pyc = cache / f"mod.{mode.lower()}.pyc"
        subprocess.run([str(python), "-c", code, str(mod), str(pyc), mode], check=True)
        pycs[mode] = pyc
    # a hash-based pyc of another interpreter: its hash is keyed by a magic number not ours
    foreign = cache / "mod.foreign.pyc"
    py_compile.compile(
        str(mod), cfile=str(foreign), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
    )
    pairs = [{"pyc": str(p), "source": str(mod)} for p in (*pycs.values(), foreign)]
    fresh = [b.header for b in run_probe(python, distributions=False, bytecode=pairs).bytecode]
    same_interpreter = os.path.realpath(python) == os.path.realpath(sys.executable)
    assert fresh[:2] == ["fresh", "fresh"]
    assert fresh[2] == ("fresh" if same_interpreter else "unknown")
    stat = mod.stat()
    mod.write_text("X = 22\n")  # another source: different size and hash
    os.utime(mod, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    stale = [b.header for b in run_probe(python, distributions=False, bytecode=pairs).bytecode]
    assert stale[:2] == ["stale", "stale"]
    assert stale[2] == ("stale" if same_interpreter else "unknown")
