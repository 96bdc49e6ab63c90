"""The runtime probe, run for real inside small venvs of several CPythons.

Each venv gets synthetic packages in its site-packages and in an extra directory reached through
a `.pth` path line (sys.path order: site-packages, then the extra directory), so every PEP 420
rule the checker relies on is exercised by the real import system of that interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.model import to_json
from harness.observe.runtime import PROBE_SCRIPT, ProbeError, parse_report, run_probe, venv_python

PYENV = Path("/root/.pyenv/versions")
INTERPRETERS = {
    "host": Path(sys.executable),
    "3.8": PYENV / "3.8.18" / "bin" / "python3.8",
    "3.13": PYENV / "3.13.0" / "bin" / "python3.13",
}


def make_venv(python: Path, where: Path) -> tuple[Path, Path]:
    """A real venv without pip: (its bin/python, its site-packages)."""
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(where)], check=True)
    (site_packages,) = where.glob("lib/python3.*/site-packages")
    return venv_python(where), site_packages


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def extension_suffix(python: Path) -> str:
    code = "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])"
    return subprocess.run(
        [str(python), "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


EXTEND_PATH_INIT = "from pkgutil import extend_path\n__path__ = extend_path(__path__, __name__)\n"


# cryptography's deprecation wrapper does this: the module object in sys.modules has no
# __spec__, only __file__.
WRAPPED = (
    "import sys, types\n"
    "wrapper = types.ModuleType(__name__)\n"
    "wrapper.__file__ = __file__\n"
    "sys.modules[__name__] = wrapper\n"
)


class Layout:
    """Paths of one probed venv."""

    def __init__(self, root: Path, python: Path) -> None:
        self.venv = root / "venv"
        self.python, self.site = make_venv(python, self.venv)
        self.extra = root / "extra"
        self.marker = root / "boom-ran"
        self.ext = extension_suffix(python)
        site, extra = self.site, self.extra
        write(site / "extra.pth", f"{extra}\n")
        write(site / "zz_preload.pth", "import preloaded\n")
        write(extra / "preloaded.py", "VALUE = 1\n")
        write(extra / "pthonly.py")
        write(site / "regpkg" / "__init__.py")
        write(site / "regpkg" / "sub.py")
        write(site / "regpkg" / "nsub" / "leaf.py")
        write(site / "nspkg" / "a.py")
        write(extra / "nspkg" / "b.py")
        (site / f"fastmod{self.ext}").write_bytes(b"not an ELF file\n")
        write(site / "shadow_early" / "__init__.py")
        write(extra / "shadow_early" / "mod.py")
        write(site / "shadow_late" / "mod.py")
        write(extra / "shadow_late" / "__init__.py")
        write(site / "plainmod.py")
        write(
            site / "boom" / "__init__.py",
            f"open({str(self.marker)!r}, 'w').close()\nraise RuntimeError('boom: package code ran')\n",
        )
        write(site / "exits.py", "raise SystemExit(3)\n")
        write(site / "noisy.py", "import os\nprint('noise')\nos.write(1, b'raw noise\\n')\n")
        write(site / "needs_dep.py", "import no_such_dependency_xyz\n")
        write(site / "wrapped.py", WRAPPED)
        write(site / "extpath" / "__init__.py", EXTEND_PATH_INIT)
        write(extra / "extpath" / "__init__.py", EXTEND_PATH_INIT)
        write(extra / "extpath" / "grafted.py")
        write(site / "dupdist-1.0.dist-info" / "METADATA", "Name: dupdist\nVersion: 1.0\n")
        write(extra / "DupDist-2.0.dist-info" / "METADATA", "Name: DupDist\nVersion: 2.0\n")


@pytest.fixture(scope="module", params=sorted(INTERPRETERS))
def layout(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Layout:
    python = INTERPRETERS[request.param]
    if not python.exists():
        pytest.skip(f"interpreter {python} is not installed")
    return Layout(tmp_path_factory.mktemp(f"probe-{request.param}"), python)


RESOLVED = (
    "regpkg",
    "regpkg.sub",
    "regpkg.nsub",
    "regpkg.nsub.leaf",
    "nspkg",
    "nspkg.a",
    "nspkg.b",
    "fastmod",
    "shadow_early",
    "shadow_early.mod",
    "shadow_late",
    "shadow_late.mod",
    "plainmod",
    "plainmod.child",
    "boom",
    "pthonly",
    "preloaded",
    "no_such_mod",
    "no_such_mod.child",
    "regpkg.missing",
    "sys",
)


@pytest.fixture(scope="module")
def resolved(layout: Layout):
    return run_probe(layout.python, resolve=RESOLVED)


def test_regular_package_and_namespace_subpackage(layout: Layout, resolved) -> None:
    # A regular package's __path__ is its one directory; a bare subdir under it is a namespace.
    regpkg = resolved.module("regpkg")
    assert (regpkg.status, regpkg.kind) == ("found", "package")
    assert regpkg.origin == str(layout.site / "regpkg" / "__init__.py")
    assert regpkg.search_locations == (str(layout.site / "regpkg"),)
    assert resolved.module("regpkg.sub").origin == str(layout.site / "regpkg" / "sub.py")
    nsub = resolved.module("regpkg.nsub")
    assert (nsub.kind, nsub.origin, nsub.search_locations) == (
        "namespace",
        None,
        (str(layout.site / "regpkg" / "nsub"),),
    )
    leaf = resolved.module("regpkg.nsub.leaf")
    assert (leaf.kind, leaf.origin_realpath) == ("module", str(layout.site / "regpkg/nsub/leaf.py"))


def test_namespace_split_over_two_sys_path_entries(layout: Layout, resolved) -> None:
    # Both portions, in sys.path order (site-packages first, the .pth directory after it).
    nspkg = resolved.module("nspkg")
    assert nspkg.kind == "namespace"
    assert nspkg.search_locations == (str(layout.site / "nspkg"), str(layout.extra / "nspkg"))
    assert resolved.module("nspkg.a").origin == str(layout.site / "nspkg" / "a.py")
    assert resolved.module("nspkg.b").origin == str(layout.extra / "nspkg" / "b.py")


def test_extension_is_classified_without_loading_it(layout: Layout, resolved) -> None:
    # The dummy file is no ELF: resolving must only find it; a real import must fail on it.
    fastmod = resolved.module("fastmod")
    assert (fastmod.status, fastmod.kind) == ("found", "extension")
    assert fastmod.origin == str(layout.site / f"fastmod{layout.ext}")
    assert fastmod.loader is not None and fastmod.loader.endswith("ExtensionFileLoader")
    imported = run_probe(layout.python, imports=["fastmod"], distributions=False).module("fastmod")
    assert imported.status == "error" and imported.error is not None
    assert imported.error.type == "ImportError"


def test_regular_package_hides_namespace_portions_on_either_side(layout: Layout, resolved) -> None:
    # PEP 420: a regular package returns at once (earlier entry) and wins over portions seen
    # before it (later entry); either way its __path__ is its own directory only.
    early = resolved.module("shadow_early")
    assert (early.kind, early.origin) == ("package", str(layout.site / "shadow_early/__init__.py"))
    assert resolved.module("shadow_early.mod").status == "not-found"
    late = resolved.module("shadow_late")
    assert (late.kind, late.origin) == ("package", str(layout.extra / "shadow_late/__init__.py"))
    assert late.search_locations == (str(layout.extra / "shadow_late"),)
    assert resolved.module("shadow_late.mod").status == "not-found"
    real = run_probe(layout.python, imports=["shadow_late", "shadow_late.mod"], distributions=False)
    assert real.module("shadow_late").origin == late.origin
    assert real.module("shadow_late.mod").status == "not-found"


def test_plain_module_parent_is_not_a_package(layout: Layout, resolved) -> None:
    child = resolved.module("plainmod.child")
    assert child.status == "error" and child.error is not None
    assert child.error.type == "ModuleNotFoundError"
    assert "'plainmod' is not a package" in child.error.message
    real = run_probe(layout.python, imports=["plainmod.child"], distributions=False)
    assert real.module("plainmod.child").status == "error"


def test_not_found(resolved) -> None:
    for name, missing in (
        ("no_such_mod", "no_such_mod"),
        ("no_such_mod.child", "no_such_mod"),
        ("regpkg.missing", "regpkg.missing"),
    ):
        module = resolved.module(name)
        assert (module.status, module.kind) == ("not-found", None), name
        assert module.error is not None and module.error.message == f"No module named {missing!r}"


def test_resolve_runs_no_package_code_and_import_does(layout: Layout, resolved) -> None:
    # boom/__init__.py writes a marker and raises: resolve must find it and leave no marker.
    boom = resolved.module("boom")
    assert (boom.status, boom.kind) == ("found", "package")
    assert not layout.marker.exists()
    # Nothing resolved entered sys.modules, except what start-up itself had imported.
    leaked = [n for n in RESOLVED if n in resolved.modules_after_resolve]
    assert sorted(leaked) == sorted(n for n in RESOLVED if n in resolved.modules_at_start)
    assert "boom" not in resolved.modules_after_resolve
    imported = run_probe(layout.python, imports=["boom"], distributions=False).module("boom")
    assert (imported.mode, imported.status) == ("import", "error")
    assert imported.error is not None
    assert (imported.error.type, imported.error.message) == (
        "RuntimeError",
        "boom: package code ran",
    )
    assert layout.marker.exists()


def test_import_mode_errors_and_noise(layout: Layout) -> None:
    # SystemExit is an error like any other; a missing dependency is an error, not not-found;
    # printing (Python or raw fd 1) must not corrupt the report.
    report = run_probe(
        layout.python, imports=["exits", "needs_dep", "noisy", "regpkg"], distributions=False
    )
    exits = report.module("exits")
    assert exits.status == "error" and exits.error is not None
    assert (exits.error.type, exits.error.message) == ("SystemExit", "3")
    dep = report.module("needs_dep")
    assert dep.status == "error" and dep.error is not None
    assert dep.error.type == "ModuleNotFoundError"
    noisy = report.module("noisy")
    assert (noisy.status, noisy.file) == ("found", str(layout.site / "noisy.py"))
    regpkg = report.module("regpkg", "import")
    assert regpkg.search_locations_realpaths == (str(layout.site / "regpkg"),)


def test_pth_directory_startup_imports_and_sys_path(layout: Layout, resolved) -> None:
    entries = [e.entry for e in resolved.sys_path]
    assert entries.index(str(layout.site)) < entries.index(str(layout.extra))
    assert str(PROBE_SCRIPT.parent) not in entries  # the script's own dir is not the venv's
    assert resolved.removed_script_dir == str(PROBE_SCRIPT.parent)
    assert resolved.module("pthonly").origin == str(layout.extra / "pthonly.py")
    # zz_preload.pth imported `preloaded` at start-up: resolve reports that very module.
    assert "preloaded" in resolved.modules_at_start
    preloaded = resolved.module("preloaded")
    assert preloaded.preloaded and preloaded.origin == str(layout.extra / "preloaded.py")
    assert resolved.module("sys").kind == "builtin"
    assert str(layout.site) in resolved.site_packages


def test_duplicate_distributions_are_all_listed(layout: Layout, resolved) -> None:
    # importlib.metadata returns every copy, first the one on the earlier sys.path entry.
    copies = resolved.distributions_named("DUPDIST")
    assert [(d.name, d.version) for d in copies] == [("dupdist", "1.0"), ("DupDist", "2.0")]
    assert copies[0].path == str(layout.site / "dupdist-1.0.dist-info")
    assert copies[1].realpath == str(layout.extra / "DupDist-2.0.dist-info")
    assert copies[0].order < copies[1].order


def test_interpreter_report(layout: Layout, resolved) -> None:
    interp = resolved.interpreter
    expected = subprocess.run(
        [str(layout.python), "-c", "import sys; print(list(sys.version_info[:3]))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert str(list(interp.version)) == expected
    assert interp.prefix == str(layout.venv) and interp.base_prefix != interp.prefix
    assert interp.executable == str(layout.python)
    assert interp.extension_suffixes[0] == layout.ext
    assert interp.source_suffixes == (".py",)


def test_report_round_trips_through_json(resolved) -> None:
    assert parse_report(json.loads(to_json(resolved))) == resolved


def test_clean_environment_and_working_directory(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host's VIRTUAL_ENV and PYTHONPATH must not leak; the caller's env must arrive; the
    # working directory is empty during the run and removed afterwards.
    write(
        layout.site / "envcheck.py",
        "import os, json\n"
        "raise RuntimeError(json.dumps([sorted(os.environ), os.environ.get('PROBE_T'),"
        " os.getcwd(), os.listdir('.')]))\n",
    )
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/else")
    monkeypatch.setenv("PYTHONPATH", str(layout.extra))
    report = run_probe(
        layout.python, imports=["envcheck"], env={"PROBE_T": "yes"}, distributions=False
    )
    error = report.module("envcheck").error
    assert error is not None and error.type == "RuntimeError"
    keys, value, cwd, listing = json.loads(error.message)
    assert "VIRTUAL_ENV" not in keys and "PYTHONPATH" not in keys and "PATH" in keys
    assert value == "yes"
    assert listing == [] and not Path(cwd).exists()


# --------------------------------------------------------------------------- failures (host only)


@pytest.fixture
def host_venv(tmp_path: Path) -> tuple[Path, Path]:
    return make_venv(INTERPRETERS["host"], tmp_path / "venv")


def test_interpreter_crash_is_a_harness_error(host_venv: tuple[Path, Path]) -> None:
    python, site = host_venv
    write(
        site / "crash.pth",
        "import sys; sys.stderr.write('dying on purpose\\n'); import os; os._exit(7)\n",
    )
    with pytest.raises(ProbeError, match=r"exited with status 7.*dying on purpose"):
        run_probe(python, resolve=["json"])


def test_stdout_garbage_is_a_harness_error(host_venv: tuple[Path, Path]) -> None:
    python, site = host_venv
    # Buffered start-up output is diverted to stderr by the probe: the report survives.
    write(site / "chatty.pth", "import sys; sys.stdout.write('buffered chatter\\n')\n")
    assert run_probe(python, resolve=["json"]).module("json").found
    # Output flushed before the probe starts cannot be taken back: a clear error.
    write(site / "chatty.pth", "import sys; sys.stdout.write('garbage\\n'); sys.stdout.flush()\n")
    with pytest.raises(ProbeError, match=r"not one JSON document.*garbage"):
        run_probe(python, resolve=["json"])


def test_timeout_and_missing_interpreter(host_venv: tuple[Path, Path], tmp_path: Path) -> None:
    python, site = host_venv
    write(site / "slow.pth", "import time; time.sleep(60)\n")
    started = time.monotonic()
    with pytest.raises(ProbeError, match="did not finish within 1 s"):
        run_probe(python, resolve=["json"], timeout=1)
    assert time.monotonic() - started < 30
    with pytest.raises(ProbeError, match="does not exist"):
        run_probe(tmp_path / "no" / "python", resolve=["json"])


def test_invalid_request_is_rejected(host_venv: tuple[Path, Path], tmp_path: Path) -> None:
    python, _ = host_venv
    done = subprocess.run(
        [str(python), "-E", "-s", str(PROBE_SCRIPT)],
        input='{"resolve": [], "imprt": ["x"]}',
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2 and "unknown request keys ['imprt']" in done.stderr


def test_thousands_of_names_resolve_fast(host_venv: tuple[Path, Path]) -> None:
    # An airflow-sized tree: 30 packages x 100 modules; must stay well under the 300 s default.
    python, site = host_venv
    names = []
    for p in range(30):
        write(site / f"pkg{p}" / "__init__.py")
        names.append(f"pkg{p}")
        for m in range(100):
            write(site / f"pkg{p}" / f"mod{m}.py")
            names.append(f"pkg{p}.mod{m}")
    started = time.monotonic()
    report = run_probe(python, resolve=names, distributions=False)
    elapsed = time.monotonic() - started
    assert len(report.modules) == len(names)
    assert all(
        m.found and m.origin_realpath and os.path.isfile(m.origin_realpath) for m in report.modules
    )
    assert elapsed < 15, f"resolving {len(names)} names took {elapsed:.1f} s"


def test_schema_mismatch_is_refused(resolved) -> None:
    data = json.loads(to_json(resolved))
    data["schema"] = 99
    with pytest.raises(ProbeError, match="schema 99"):
        parse_report(data)
    del data["modules"]
    data["schema"] = 1
    with pytest.raises(ProbeError, match="does not match schema 1"):
        parse_report(data)


def test_cli_probe_text_and_json(layout: Layout, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["probe", str(layout.venv), "nspkg", "plainmod.child", "--import", "regpkg"]) == 0
    text = capsys.readouterr().out
    assert "nspkg [resolve] found namespace" in text
    assert f"    search: {layout.extra / 'nspkg'}" in text
    assert "plainmod.child [resolve] error" in text and "is not a package" in text
    assert "regpkg [import] found package" in text
    assert "sys.path:\n" in text and str(layout.extra) in text.split("sys.path:")[1]
    assert main(["probe", str(layout.venv), "nspkg", "--json"]) == 0
    report = parse_report(json.loads(capsys.readouterr().out))
    assert report.module("nspkg").kind == "namespace"
    assert main(["probe", str(layout.venv / "missing"), "nspkg"]) == 2
    assert "is not a venv" in capsys.readouterr().err


def test_resolve_after_import_follows_a_rewritten_path(layout: Layout) -> None:
    # extend_path appends every sys.path portion at import time: static resolution cannot see
    # the graft, resolution after the real import must (checks.md §4.2).
    static = run_probe(layout.python, resolve=["extpath.grafted"])
    assert static.module("extpath.grafted").status == "not-found"
    after = run_probe(
        layout.python,
        resolve=["extpath", "extpath.grafted"],
        imports=["extpath"],
        resolve_after_import=True,
    )
    grafted = after.module("extpath.grafted", mode="resolve")
    assert grafted.status == "found"
    assert grafted.origin == str(layout.extra / "extpath" / "grafted.py")
    assert after.module("extpath", mode="import").status == "found"


def test_an_imported_module_without_spec_keeps_its_file_as_origin(layout: Layout) -> None:
    after = run_probe(
        layout.python, resolve=["wrapped"], imports=["wrapped"], resolve_after_import=True
    )
    for mode in ("import", "resolve"):
        record = after.module("wrapped", mode=mode)
        assert (record.status, record.kind) == ("found", "module")
        assert record.origin_realpath == os.path.realpath(layout.site / "wrapped.py")
