"""The flat oracle (`harness.oracle.install_flat`) installs wheel files as consecutive
`pip install --no-deps` calls would, without any of the engine's code.

Each test builds synthetic wheels with `write_wheel`, installs them into a real venv of the host
interpreter and states, from pip's behaviour, what must be on disk (and, where it matters, what
the venv's own interpreter imports).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from installer.sources import WheelFile

import harness.engine.materialize as materialize_module
import harness.engine.merge as merge_module
from harness.cases.words import prepare_args
from harness.engine.assemble import assemble
from harness.errors import HarnessError, MaterializeError
from harness.oracle import FlatInstallError, install_flat
from harness.supply.interpreters import resolve
from harness.supply.wheelbuilder import write_wheel

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    return tmp_path


@pytest.fixture(scope="module")
def host():
    return resolve(sys.executable)


def prepared(host, wheels):
    return prepare_args([str(w) for w in wheels], host)


def run(python: Path, code: str) -> str:
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def tree_bytes(root: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every entry under `root`: relpath -> (mode, bytes, or the target of a symlink)."""
    found: dict[str, tuple[int, bytes | str]] = {}
    for current, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(current) / name
            rel = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            found[rel] = (mode, os.readlink(path) if path.is_symlink() else path.read_bytes())
    return found


def _a_and_b(env: Path):
    a = write_wheel(
        env / "w", "alpha", "1.0", {"common.py": "WHO = 'alpha'\n", "alpha_only.py": "A = 1\n"}
    )
    b = write_wheel(
        env / "w", "beta", "1.0", {"common.py": "WHO = 'beta'\n", "beta_only.py": "B = 2\n"}
    )
    return a, b


# --------------------------------------------------------------------------- overwrite


@pytest.mark.parametrize("reverse", [False, True])
def test_later_wheel_overwrites_a_shared_file_and_the_venv_imports_it(env, host, reverse):
    # why: pip installs one wheel after another into one directory; the second `pip install`
    # writes common.py over the first one's (pip does not refuse), so the last wheel's bytes are
    # what `import common` runs, and each wheel's unique module stays.
    wheels = prepared(host, _a_and_b(env))
    if reverse:
        wheels.reverse()
    first, last = wheels[0].label, wheels[-1].label
    flat = install_flat(wheels, host, env / "flat")

    assert flat.installed == (first, last)
    who = "beta" if last.startswith("beta") else "alpha"
    assert (flat.site_packages / "common.py").read_text() == f"WHO = {who!r}\n"
    assert flat.owners["common.py"] == last
    assert flat.owners["alpha_only.py"].startswith("alpha")
    assert flat.owners["beta_only.py"].startswith("beta")
    rel = (flat.site_packages / "common.py").relative_to(flat.path).as_posix()
    assert flat.notes == (
        f"{last} overwrote {rel}, which {first} installed (a later wheel's "
        "file replaces an earlier one's)",
    )
    for current, dirnames, filenames in os.walk(flat.site_packages):
        for name in dirnames + filenames:
            assert not (Path(current) / name).is_symlink(), "a flat install has no symlinks"

    # the venv's own interpreter, in a real subprocess, imports the installed files
    out = run(
        flat.python,
        "import common, alpha_only, beta_only, os; print(common.WHO, os.path.realpath(common.__file__))",
    )
    assert out == f"{who} {os.path.realpath(flat.site_packages / 'common.py')}"


# --------------------------------------------------------------------------- uninstall


@pytest.mark.parametrize(
    "second",
    [
        ("dup", "2.0", None),  # another version
        ("dup", "1.0", "dup-1.0-1-py3-none-any.whl"),  # another build of the same version
    ],
    ids=["version", "build"],
)
def test_an_installed_distribution_is_uninstalled_before_another_copy(env, host, second):
    # why: `pip install dup-2.0.whl` over dup 1.0 first uninstalls dup 1.0 (every path its
    # RECORD lists), so 1.0's unique module and console script are gone and one dist-info is
    # left; a different build of the same version is the same distribution too.
    old = write_wheel(
        env / "w",
        "dup",
        "1.0",
        {"dup/__init__.py": "V = 1\n", "dup/old_only.py": "", "dup/deep/gone.py": ""},
        entry_points={"console_scripts": {"dup-old": "dup:main"}},
    )
    name, version, filename = second
    new = write_wheel(
        env / "w",
        name,
        version,
        {"dup/__init__.py": "V = 2\n", "dup/new_only.py": ""},
        filename=filename,
    )
    other = write_wheel(env / "w", "bystander", "1.0", {"bystander.py": ""})
    wheels = prepared(host, [old, other, new])
    flat = install_flat(wheels, host, env / "flat")
    site = flat.site_packages

    assert flat.installed == (wheels[1].label, wheels[2].label)
    assert not (site / "dup/old_only.py").exists()
    assert not (site / "dup/deep").exists(), "directories the uninstall empties are removed"
    assert not (flat.path / "bin/dup-old").exists()
    assert (site / "dup/new_only.py").exists() and (site / "bystander.py").exists()
    assert sorted(p.name for p in site.glob("dup-*.dist-info")) == [f"dup-{version}.dist-info"]
    assert any(
        n.startswith(f"{wheels[2].label}: dup 1.0 ({wheels[0].label}) was installed")
        for n in flat.notes
    )
    assert (
        run(
            flat.python,
            "import importlib.metadata as m, dup; "
            "print(len(list(m.distributions(name='dup'))), m.version('dup'), dup.V)",
        )
        == f"1 {version} 2"
    )


def test_uninstall_removes_what_its_record_lists_even_if_another_wheel_overwrote_it(env, host):
    # why: pip's uninstall deletes the paths of the old RECORD without checking their bytes, so
    # a file another distribution overwrote in between disappears with the old version.
    old = write_wheel(env / "w", "dup", "1.0", {"shared.py": "WHO = 'dup'\n"})
    other = write_wheel(env / "w", "other", "1.0", {"shared.py": "WHO = 'other'\n"})
    new = write_wheel(env / "w", "dup", "2.0", {"dup_new.py": ""})
    wheels = prepared(host, [old, other, new])
    flat = install_flat(wheels, host, env / "flat")
    assert not (flat.site_packages / "shared.py").exists()
    assert "shared.py" not in flat.owners
    assert any("removed" in n and "shared.py" in n and wheels[1].label in n for n in flat.notes)


# --------------------------------------------------------------------------- dist-info stem


def test_a_dist_info_stem_that_differs_from_the_file_name_installs(env, host):
    # why: InquirerPy-0.3.4-py3-none-any.whl ships inquirerpy-0.3.4.dist-info; pip finds the
    # dist-info in the archive, and the .data directory carries the same stem, so its data file
    # lands under the prefix, not as a stray `inquirerpy-0.3.4.data/` in site-packages.
    wheel = write_wheel(
        env / "w",
        "InquirerPy",
        "0.3.4",
        {"InquirerPy/__init__.py": "X = 1\n"},
        dist_info_name="inquirerpy-0.3.4",
        data={"data": {"share/inquirer.txt": "hi\n"}},
    )
    assert wheel.name == "InquirerPy-0.3.4-py3-none-any.whl"
    with WheelFile.open(wheel) as stock:  # the premise: installer alone takes the file's stem
        assert stock.data_dir == "InquirerPy-0.3.4.data"
    flat = install_flat(prepared(host, [wheel]), host, env / "flat")
    assert (flat.site_packages / "inquirerpy-0.3.4.dist-info/METADATA").is_file()
    assert (flat.site_packages / "inquirerpy-0.3.4.dist-info/RECORD").is_file()
    assert not list(flat.site_packages.glob("*.data"))
    assert (flat.path / "share/inquirer.txt").read_text() == "hi\n"
    assert run(flat.python, "import InquirerPy; print(InquirerPy.X)") == "1"


# --------------------------------------------------------------------------- scripts and data


def test_console_scripts_and_data_scripts_land_in_bin_and_run(env, host):
    # why: pip writes a launcher per console_scripts entry into <venv>/bin, executable, with the
    # venv's python in its shebang, and rewrites a `.data/scripts` file's `#!python` shebang to
    # that python; when two wheels declare one script name, the later install replaces it.
    first = write_wheel(
        env / "w",
        "tools-a",
        "1.0",
        {"tools_a.py": "def main():\n    print('from a')\n"},
        entry_points={"console_scripts": {"tool": "tools_a:main"}},
        data={"scripts": {"raw-tool": "#!python\nprint('raw')\n"}},
        executable=["tools_a-1.0.data/scripts/raw-tool"],
    )
    second = write_wheel(
        env / "w",
        "tools-b",
        "1.0",
        {"tools_b.py": "def main():\n    print('from b')\n"},
        entry_points={"console_scripts": {"tool": "tools_b:main"}},
    )
    wheels = prepared(host, [first, second])
    flat = install_flat(wheels, host, env / "flat")
    bin_dir = flat.path / "bin"
    python = str(flat.path / "bin" / "python")

    for name in ("tool", "raw-tool"):
        script = bin_dir / name
        assert script.is_file() and os.access(script, os.X_OK), name
        assert script.read_text().splitlines()[0] == f"#!{python}", name
    tool = subprocess.run([str(bin_dir / "tool")], capture_output=True, text=True, check=True)
    assert tool.stdout == "from b\n"
    raw = subprocess.run([str(bin_dir / "raw-tool")], capture_output=True, text=True, check=True)
    assert raw.stdout == "raw\n"
    assert any(
        n.startswith(
            f"{wheels[1].label}: console script bin/tool replaces the one "
            f"{wheels[0].label} installed"
        )
        for n in flat.notes
    )


def test_data_and_headers_land_under_the_prefix(env, host):
    # why: pip's scheme puts `.data/data` under sys.prefix and `.data/headers` under
    # include/site/pythonX.Y/<name>; both are relative to the venv, nothing goes to site-packages.
    wheel = write_wheel(
        env / "w",
        "Datapkg",
        "1.0",
        {"datapkg.py": ""},
        data={
            "data": {"share/datapkg/readme.txt": "readme\n", "etc/datapkg.conf": "x = 1\n"},
            "headers": {"datapkg.h": "#define X 1\n"},
            "purelib": {"datapkg_extra.py": "E = 1\n"},
        },
    )
    flat = install_flat(prepared(host, [wheel]), host, env / "flat")
    assert (flat.path / "share/datapkg/readme.txt").read_text() == "readme\n"
    assert (flat.path / "etc/datapkg.conf").read_text() == "x = 1\n"
    header = flat.path / f"include/site/python{host.short_version}/Datapkg/datapkg.h"
    assert header.read_text() == "#define X 1\n"
    assert (flat.site_packages / "datapkg_extra.py").is_file()
    assert run(flat.python, "import datapkg_extra; print(datapkg_extra.E)") == "1"


def test_bytecode_a_wheel_ships_is_installed_as_pip_installs_it(env, host):
    # why: pip writes every member a wheel's RECORD lists, `__pycache__` included (installer
    # refuses them); the oracle is pip's flat install, so a stale shipped .pyc stays there too.
    wheel = write_wheel(
        env / "w",
        "Shipsbytecode",
        "1.0",
        {
            "sb/__init__.py": "",
            "sb/__pycache__/__init__.cpython-37.pyc": b"\x42\x0d\x0d\x0a" + bytes(12),
        },
    )
    flat = install_flat(prepared(host, [wheel]), host, env / "flat")
    assert (flat.site_packages / "sb/__pycache__/__init__.cpython-37.pyc").is_file()


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("options", "what"),
    [
        ({"data": {"data": {"pyvenv.cfg": "home = /evil\n"}}}, "pyvenv.cfg"),
        ({"data": {"scripts": {"python": "#!/bin/sh\n"}}}, "bin/python"),
        ({"entry_points": {"console_scripts": {"python3": "evil:main"}}}, "bin/python3"),
        ({"data": {"data": {".harness/manifest.json": "{}"}}}, ".harness/manifest.json"),
    ],
    ids=["pyvenv.cfg", "data-script", "console-script", "state"],
)
def test_a_wheel_may_not_replace_the_venvs_own_files(env, host, options, what):
    # why: a venv whose pyvenv.cfg or bin/python a wheel replaced is not the venv it claims to
    # be; pip never has to decide this, the oracle refuses it with a clear error.
    wheel = write_wheel(env / "w", "evil", "1.0", {"evil.py": ""}, **options)
    with pytest.raises(FlatInstallError) as caught:
        install_flat(prepared(host, [wheel]), host, env / "flat")
    assert isinstance(caught.value, HarnessError)
    assert what in str(caught.value) and "belongs to the venv itself" in str(caught.value)


def test_out_must_be_new_or_empty(env, host):
    (env / "flat").mkdir()
    (env / "flat" / "keep.txt").write_text("")
    with pytest.raises(FlatInstallError, match="not empty"):
        install_flat([], host, env / "flat")


# --------------------------------------------------------------------------- determinism


def test_the_same_wheels_give_byte_identical_site_packages(env, host):
    a, b = _a_and_b(env)
    tool = write_wheel(
        env / "w",
        "alpha",
        "2.0",
        {"alpha2.py": ""},
        entry_points={"console_scripts": {"alpha": "alpha2:main"}},
        data={"data": {"share/alpha.txt": "a\n"}},
    )
    wheels = prepared(host, [a, b, tool])
    first = install_flat(wheels, host, env / "flat")
    snapshot = tree_bytes(first.path)
    shutil.rmtree(first.path)
    again = install_flat(wheels, host, env / "flat")
    assert again == first
    assert tree_bytes(again.path) == snapshot
    assert {k for k in snapshot if k.startswith("lib/")} >= {
        f"lib/python{host.short_version}/site-packages/alpha2.py"
    }
    assert stat.S_IMODE(snapshot["bin/alpha"][0]) & 0o111


# --------------------------------------------------------------------------- independence


def test_the_oracle_imports_nothing_from_the_engine():
    code = (
        "import harness.oracle, sys; "
        "print([m for m in sys.modules if m.startswith('harness.engine')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("bug", ["reversed", "raises"])
def test_a_bug_planted_in_merge_tree_does_not_move_the_oracle(env, host, monkeypatch, bug):
    # why: the oracle judges the engine; if a bug in harness.engine.merge could change the flat
    # venv, the engine and its judge would move together and A5 would see no difference.
    wheels = prepared(host, _a_and_b(env))
    clean = assemble(wheels, host, env / "clean", engine="flat", policy="ignore")
    expected = tree_bytes(clean.venv.site_packages)

    original = merge_module.merge_tree

    def planted(into, sources, *args, **kwargs):
        if bug == "raises":
            raise RuntimeError("planted bug in merge_tree")
        return original(into, list(reversed(list(sources))), *args, **kwargs)

    monkeypatch.setattr(merge_module, "merge_tree", planted)
    monkeypatch.setattr(materialize_module, "merge_tree", planted)

    # the planted bug bites the engine: a regular pkg/ shipped by two wheels is merged
    gamma = write_wheel(env / "w", "gamma", "1.0", {"pkg/__init__.py": "G = 1\n"})
    delta = write_wheel(env / "w", "delta", "1.0", {"pkg/__init__.py": "D = 1\n", "pkg/d.py": ""})
    merged = prepared(host, [gamma, delta])
    if bug == "raises":
        with pytest.raises(RuntimeError, match="planted"):
            assemble(merged, host, env / "merge", engine="merge", policy="ignore")
    else:
        venv = assemble(merged, host, env / "merge", engine="merge", policy="ignore").venv
        assert (venv.site_packages / "pkg/__init__.py").read_text() == "G = 1\n"

    buggy = assemble(wheels, host, env / "buggy", engine="flat", policy="ignore")
    assert tree_bytes(buggy.venv.site_packages) == expected
    assert buggy.venv.owners == clean.venv.owners


# --------------------------------------------------------------------------- assemble


def test_assemble_flat_builds_the_venv_with_the_oracle(env, host):
    wheels = prepared(host, _a_and_b(env))
    asm = assemble(wheels, host, env / "flat", engine="flat", policy="warning")
    flat = install_flat(wheels, host, env / "direct")
    assert asm.plan.engine == "flat" and asm.plan.wheels == tuple(w.label for w in wheels)
    assert asm.venv.engine == "flat" and asm.venv.merge_conflicts == ()
    assert dict(asm.venv.owners) == dict(flat.owners)
    assert len(asm.venv.notes) == 1 and "overwrote" in asm.venv.notes[0]
    assert asm.warnings == asm.venv.notes
    assert (asm.venv.path / ".harness/plan.json").read_text() == asm.plan.to_json()
    manifest = materialize_module.read_manifest(asm.venv.path)
    assert manifest["engine"] == "flat" and manifest["engine_pth"] is None
    assert manifest["owners"] == dict(asm.venv.owners)

    with pytest.raises(MaterializeError, match="not empty"):
        assemble(wheels, host, env / "flat", engine="flat")
    again = assemble(wheels, host, env / "flat", engine="flat", replace=True)
    assert tree_bytes(again.venv.site_packages) == tree_bytes(asm.venv.site_packages)


def test_the_oracle_reads_the_wheel_file_not_the_install_tree(env, host):
    # why: the engine projects install trees; the oracle installs the verified .whl, so a tree
    # the engine would read cannot change what the oracle installs.
    (wheel,) = prepared(host, [_a_and_b(env)[0]])
    with zipfile.ZipFile(wheel.path) as archive:
        assert "common.py" in archive.namelist()
    moved = wheel.tree.root.with_name(wheel.tree.root.name + ".away")
    wheel.tree.root.rename(moved)
    try:
        flat = install_flat([wheel], host, env / "flat")
    finally:
        moved.rename(wheel.tree.root)
    assert (flat.site_packages / "common.py").read_text() == "WHO = 'alpha'\n"
