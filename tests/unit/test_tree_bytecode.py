"""Install trees never change after unpack: bytecode compiled on purpose, merges built from
RECORD, `harness cache verify` proving it.

Synthetic wheels, private trees, real venvs on real interpreters (the host's, and two pyenv
CPythons when present). Everything here runs as whatever user runs the suite; as root the tree's
read-only bits stop nothing, which is exactly the case these tests are about.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from readonly import make_deletable

from harness.bench import prepare_local
from harness.cli import main
from harness.engine.assemble import assemble
from harness.engine.merge import MergeError, merge_tree
from harness.errors import InterpreterError
from harness.observe.runtime import run_probe
from harness.supply import bytecode
from harness.supply.interpreters import resolve
from harness.supply.treeverify import verify_tree, verify_trees
from harness.supply.wheel import install_tree, site_files
from harness.supply.wheelbuilder import write_wheel

HOST = resolve(sys.executable)

JWT_A = {
    "jwt/__init__.py": "SIDE = 'A'\n",
    "jwt/api.py": "def api():\n    return 'A'\n",
    "jwt/sub/__init__.py": "",
    "jwt/sub/deep.py": "X = {'a', 'b', 'c'}\n",
}
JWT_B = {
    "jwt/__init__.py": "SIDE = 'B'\n",
    "jwt/extra.py": "E = 1\n",
    "jwt/broken_on_purpose.py": "def (:\n",
}
SOLO = {"solo/__init__.py": "from solo.inner import VALUE\n", "solo/inner.py": "VALUE = 42\n"}
TOP = {"topmod.py": "T = frozenset({'x', 'y'})\n"}


def pyenv(version: str):
    """A second and third interpreter for the cross-version tests, skipped when absent."""
    try:
        interp = resolve(version)
    except InterpreterError:
        pytest.skip(f"Python {version} is not installed here")
    if interp.short_version != version:
        pytest.skip(f"Python {version} is not installed here")
    return interp


@pytest.fixture
def wheels(tmp_path):
    d = tmp_path / "wheels"
    return [
        write_wheel(d, "jwt-a", "1.0", JWT_A),
        write_wheel(d, "jwt-b", "1.0", JWT_B),
        write_wheel(d, "solo", "1.0", SOLO),
        write_wheel(d, "topmod", "1.0", TOP),
    ]


@pytest.fixture(autouse=True)
def _deletable(tmp_path):
    yield
    make_deletable(tmp_path)


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every path under `root`: mode and sha256 (directories: mode only) — what 'unchanged'
    means, listing and content alike."""
    seen = {}
    for current, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(current) / name
            info = path.lstat()
            digest = ""
            if stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            seen[path.relative_to(root).as_posix()] = (info.st_mode, digest)
    return seen


def pyc_flags(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[4:8], "little")


# --------------------------------------------------------------------------- compilation


def test_compile_writes_unchecked_hash_bytecode_beside_each_source_and_a_manifest(tmp_path, wheels):
    prepared = prepare_local(wheels, tmp_path / "trees")
    trees = [p.tree for p in prepared]
    done = bytecode.compile_trees(trees, HOST)
    tag = sys.implementation.cache_tag
    a, b = prepared[0].tree, prepared[1].tree

    manifest = done[a.root]
    assert manifest is not None and manifest.cache_tag == tag
    assert sorted(manifest.files) == [
        f"site-packages/jwt/__pycache__/__init__.{tag}.pyc",
        f"site-packages/jwt/__pycache__/api.{tag}.pyc",
        f"site-packages/jwt/sub/__pycache__/__init__.{tag}.pyc",
        f"site-packages/jwt/sub/__pycache__/deep.{tag}.pyc",
    ]
    for rel, digest in manifest.files.items():
        path = a.root / rel
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert pyc_flags(path) == 0b01  # hash-based, source not checked (PEP 552)
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
    # A source this interpreter cannot compile is recorded, not fatal; its import fails alike.
    assert list(done[b.root].failed) == ["site-packages/jwt/broken_on_purpose.py"]
    assert "SyntaxError" in done[b.root].failed["site-packages/jwt/broken_on_purpose.py"]
    # The tree is read-only again, manifest included, and the manifest says what was written.
    for tree in trees:
        for current, dirnames, filenames in os.walk(tree.root):
            for name in dirnames:
                assert stat.S_IMODE((Path(current) / name).stat().st_mode) == 0o555
            for name in filenames:
                assert stat.S_IMODE((Path(current) / name).stat().st_mode) & 0o222 == 0
    on_disk = json.loads(bytecode.manifest_path(a.root, tag).read_text())
    assert on_disk["invalidation_mode"] == "unchecked-hash"
    assert on_disk["magic"] == bytecode.read_manifest(a.root, tag).magic
    assert verify_trees(tmp_path / "trees").ok


def test_compiling_twice_and_in_another_cache_gives_the_same_bytes(tmp_path, wheels, monkeypatch):
    first = [p.tree for p in prepare_local(wheels, tmp_path / "one")]
    second = [p.tree for p in prepare_local(wheels, tmp_path / "two")]
    bytecode.compile_trees(first, HOST)
    bytecode.compile_trees(second, HOST)
    for one, two in zip(first, second, strict=True):
        assert snapshot(one.root) == snapshot(two.root)
    # Once compiled, a tree is never compiled again (one small file read per tree).
    monkeypatch.setattr(bytecode, "_run_compiler", _refuse)
    assert all(bytecode.compile_trees(first, HOST).values())


def _refuse(*_args, **_kwargs):
    raise AssertionError("a compiled tree must not be compiled again")


def test_one_tree_serves_several_interpreters_each_with_its_own_tag(tmp_path, wheels):
    old, new = pyenv("3.9"), pyenv("3.13")
    trees = [p.tree for p in prepare_local(wheels, tmp_path / "trees")]
    bytecode.compile_trees(trees, old)
    bytecode.compile_trees(trees, new)
    root = trees[0].root
    assert bytecode.manifest_tags(root) == ["cpython-313", "cpython-39"]
    names = sorted(os.listdir(root / "site-packages" / "jwt" / "__pycache__"))
    assert names == [
        "__init__.cpython-313.pyc",
        "__init__.cpython-39.pyc",
        "api.cpython-313.pyc",
        "api.cpython-39.pyc",
    ]
    assert verify_trees(tmp_path / "trees").ok


# --------------------------------------------------------------------------- immutability


@pytest.mark.parametrize("versions", [("3.9", "3.13")], ids=["3.9+3.13"])
def test_trees_are_unchanged_by_venvs_that_import_from_them_on_two_interpreters(
    tmp_path, wheels, versions
):
    """The fast proof: listing and hashes of every tree are the same before and after venvs on
    two interpreters import from them (plain `python -c import`, no -B, and the probe). Every
    way a venv reaches a tree is used: a merged directory (jwt), a symlinked package (solo), a
    symlinked module (topmod)."""
    interps = [pyenv(v) for v in versions]
    prepared = prepare_local(wheels, tmp_path / "trees")
    venvs = []
    for interp in interps:
        asm = assemble(prepared, interp, tmp_path / f"v{interp.short_version}", policy="ignore")
        assert {g.root for g in asm.plan.merges} == {"jwt"}
        venvs.append(asm.venv)
    before = {p.tree.root.name: snapshot(p.tree.root) for p in prepared}

    code = (
        "import json, jwt, jwt.api, jwt.extra, jwt.sub.deep, solo, topmod\n"
        "print(json.dumps([jwt.SIDE, solo.VALUE, sorted(topmod.T), "
        "jwt.api.__cached__, solo.inner.__cached__]))"
    )
    for venv in venvs:
        env = {"PATH": os.environ.get("PATH", os.defpath)}
        for _ in range(2):  # the second run imports what the first one would have cached
            done = subprocess.run(
                [str(venv.python), "-c", code], capture_output=True, text=True, env=env
            )
            assert done.returncode == 0, done.stderr
            side, value, top, *cached = json.loads(done.stdout)
            assert (side, value, top) == ("B", 42, ["x", "y"])
            assert all(os.path.isfile(c) for c in cached)  # the compiled bytecode was found
        report = run_probe(venv.python, imports=["jwt.api", "solo", "topmod"], resolve=["jwt"])
        assert all(m.status == "found" for m in report.modules)
        broken = subprocess.run(
            [str(venv.python), "-c", "import jwt.broken_on_purpose"], capture_output=True, env=env
        )
        assert broken.returncode != 0  # fails as flat would, and writes nothing either

    after = {p.tree.root.name: snapshot(p.tree.root) for p in prepared}
    assert after == before
    assert verify_trees(tmp_path / "trees").ok
    # The merged directory carries bytecode for its own interpreter, linked with its sources.
    for venv, interp in zip(venvs, interps, strict=True):
        tag = bytecode.cache_tag(interp)
        cached = sorted(os.listdir(venv.site_packages / "jwt" / "__pycache__"))
        assert cached == [f"__init__.{tag}.pyc", f"api.{tag}.pyc", f"extra.{tag}.pyc"]


def test_a_merged_directory_is_built_from_record_not_from_what_lies_in_the_tree(tmp_path, wheels):
    prepared = prepare_local(wheels[:2], tmp_path / "trees")
    a = prepared[0].tree
    # Something wrote into the tree after unpack (an interpreter as root, a person): the merge
    # must not carry it into the venv.
    stray_dir = a.site_packages / "jwt"
    stray_dir.chmod(0o755)
    (stray_dir / "stray.py").write_text("STRAY = 1\n")
    (stray_dir / "__pycache__").mkdir()
    (stray_dir / "__pycache__" / "api.cpython-399.pyc.12345").write_bytes(b"half written")
    asm = assemble(prepared, HOST, tmp_path / "v", policy="ignore")
    merged = asm.venv.site_packages / "jwt"
    listing = sorted(
        (Path(c) / n).relative_to(merged).as_posix()
        for c, _d, files in os.walk(merged)
        for n in files
    )
    tag = sys.implementation.cache_tag
    assert listing == sorted(
        [
            "__init__.py",
            "api.py",
            "broken_on_purpose.py",
            "extra.py",
            "sub/__init__.py",
            "sub/deep.py",
            f"__pycache__/__init__.{tag}.pyc",
            f"__pycache__/api.{tag}.pyc",
            f"__pycache__/extra.{tag}.pyc",
            f"sub/__pycache__/__init__.{tag}.pyc",
            f"sub/__pycache__/deep.{tag}.pyc",
        ]
    )
    # Bytecode conflicts are never reported: only the sources' (one here).
    assert [c.rel for c in asm.venv.merge_conflicts] == ["jwt/__init__.py"]
    # ... and `cache verify` names both intruders.
    found = {(d.path, d.kind) for d in verify_tree(a.root)}
    assert ("site-packages/jwt/stray.py", "extra") in found
    assert ("site-packages/jwt/__pycache__/api.cpython-399.pyc.12345", "extra") in found


def test_a_listed_file_missing_from_a_tree_stops_the_merge(tmp_path, wheels):
    (a, *_rest) = prepare_local(wheels[:1], tmp_path / "trees")
    files = [p.removeprefix("jwt/") for p in site_files(a.tree.root) if p.startswith("jwt/")]
    (a.tree.site_packages / "jwt").chmod(0o755)
    (a.tree.site_packages / "jwt" / "api.py").unlink()
    with pytest.raises(MergeError, match=r"listed .* but missing"):
        merge_tree(tmp_path / "out", [("A", a.tree.site_packages / "jwt", files)])


def test_compiled_bytecode_follows_its_source_in_a_merge(tmp_path):
    """Same source in both wheels: the pyc is not a conflict. A later source with other bytes
    and no bytecode of its own (it does not compile here): the earlier pyc goes, as stale."""
    d = tmp_path / "wheels"
    first = write_wheel(d, "one", "1.0", {"pkg/__init__.py": "", "pkg/m.py": "M = 1\n"})
    second = write_wheel(
        d, "two", "1.0", {"pkg/__init__.py": "", "pkg/m.py": "def (:\n", "pkg/n.py": ""}
    )
    prepared = prepare_local([first, second], tmp_path / "trees")
    asm = assemble(prepared, HOST, tmp_path / "v", policy="ignore")
    tag = sys.implementation.cache_tag
    cache = sorted(os.listdir(asm.venv.site_packages / "pkg" / "__pycache__"))
    assert cache == [f"__init__.{tag}.pyc", f"n.{tag}.pyc"]
    assert [c.rel for c in asm.venv.merge_conflicts] == ["pkg/m.py"]


# --------------------------------------------------------------------------- cache verify


def test_verify_names_every_extra_missing_changed_and_writable_file(tmp_path, wheels):
    prepared = prepare_local(wheels[:3], tmp_path / "trees")
    bytecode.compile_trees([p.tree for p in prepared], HOST)
    assert verify_trees(tmp_path / "trees").ok
    tag = sys.implementation.cache_tag
    a, b, solo = (p.tree for p in prepared)

    def writable(path: Path) -> Path:
        path.chmod(0o755)
        return path

    writable(a.site_packages / "jwt")
    (a.site_packages / "jwt" / "api.py").chmod(0o644)
    (a.site_packages / "jwt" / "api.py").write_text("changed\n")
    (a.site_packages / "jwt" / "api.py").chmod(0o444)
    writable(b.site_packages / "jwt")
    (b.site_packages / "jwt" / "extra.py").unlink()
    pyc = solo.site_packages / "solo" / "__pycache__" / f"inner.{tag}.pyc"
    writable(pyc.parent)
    pyc.unlink()
    pyc.write_bytes(b"not the compiled bytes")
    pyc.chmod(0o444)
    writable(solo.site_packages / "solo")
    (solo.site_packages / "solo" / "__pycache__" / "x.cpython-313.pyc.4242").write_bytes(b"")
    (solo.site_packages / "solo" / "notes").mkdir()
    for directory in (a.site_packages / "jwt", b.site_packages / "jwt", pyc.parent):
        directory.chmod(0o555)

    report = verify_trees(tmp_path / "trees")
    found = {(d.tree, d.path, d.kind) for d in report.differences}
    assert found == {
        (a.root.name, "site-packages/jwt/api.py", "changed"),
        (b.root.name, "site-packages/jwt/extra.py", "missing"),
        (solo.root.name, f"site-packages/solo/__pycache__/inner.{tag}.pyc", "changed"),
        (solo.root.name, "site-packages/solo/__pycache__/x.cpython-313.pyc.4242", "extra"),
        (solo.root.name, "site-packages/solo/notes", "extra"),
        (solo.root.name, "site-packages/solo", "mode"),
        (solo.root.name, "site-packages/solo/notes", "mode"),
    }
    assert not report.ok
    assert main(["cache", "verify", "--trees", str(tmp_path / "trees")]) == 1


def test_verify_compares_record_with_the_wheel_and_rehashes_cached_wheels(tmp_path, wheels):
    wheels_root = tmp_path / "cache"
    (tree,) = [p.tree for p in prepare_local(wheels[:1], wheels_root / "trees")]
    sha = tree.root.name
    filed = wheels_root / "sha256" / sha[:2] / sha / wheels[0].name
    filed.parent.mkdir(parents=True)
    shutil.copy(wheels[0], filed)
    report = verify_trees(wheels_root / "trees", wheels_root)
    assert report.ok and (report.trees, report.wheels) == (1, 1)

    record = tree.site_packages / "jwt_a-1.0.dist-info" / "RECORD"
    record.parent.chmod(0o755)
    record.chmod(0o644)
    record.write_text(record.read_text() + "\n")
    record.chmod(0o444)
    record.parent.chmod(0o555)
    other = wheels_root / "sha256" / "00" / ("0" * 64) / "x.whl"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"not a wheel")
    found = {
        (d.tree, d.path, d.kind)
        for d in verify_trees(wheels_root / "trees", wheels_root).differences
    }
    assert found == {
        (sha, "site-packages/jwt_a-1.0.dist-info/RECORD", "changed"),
        ("wheels", f"sha256/00/{'0' * 64}/x.whl", "changed"),
    }


def test_outdated_trees_are_listed_not_failed_and_strangers_are_extra(tmp_path, wheels, capsys):
    trees = tmp_path / "trees"
    prepare_local(wheels[:1], trees)
    old = trees / ("f" * 64)
    (old / "site-packages").mkdir(parents=True)
    (old / ".complete").write_text(f"harness-install-tree 1\n{'f' * 64}\n")
    (old / "site-packages" / "junk.pyc").write_bytes(b"")
    report = verify_trees(trees)
    assert report.ok and report.outdated == ("f" * 64,) and report.trees == 1
    assert main(["cache", "verify", "--trees", str(trees)]) == 0
    assert "1 tree(s) of an older format" in capsys.readouterr().out
    (trees / "notes.txt").write_text("")
    assert [(d.tree, d.kind) for d in verify_trees(trees).differences] == [("notes.txt", "extra")]
    assert main(["cache", "verify", "--trees", str(trees), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["differences"][0]["tree"] == "notes.txt"


def test_a_tree_of_the_old_format_is_rebuilt_without_its_runtime_litter(tmp_path, wheels):
    trees = tmp_path / "trees"
    tree = install_tree(wheels[2], "", trees)
    sha = tree.root.name
    # Turn it into what an older harness left: format 1 marker, bytecode written at run time.
    tree.root.chmod(0o755)
    (tree.root / ".complete").chmod(0o644)
    (tree.root / ".complete").write_text(f"harness-install-tree 1\n{sha}\n")
    (tree.site_packages / "solo").chmod(0o755)
    (tree.site_packages / "solo" / "__pycache__").mkdir()
    (tree.site_packages / "solo" / "__pycache__" / "inner.cpython-39.pyc").write_bytes(b"old")
    rebuilt = install_tree(wheels[2], sha, trees)
    assert not (rebuilt.site_packages / "solo" / "__pycache__").exists()
    assert verify_trees(trees).ok


def test_prepared_trees_are_compiled_for_their_interpreter_before_any_engine_sees_them(
    tmp_path, wheels, monkeypatch
):
    """An adapter's engine may link from the `install_tree` it is handed: the tree must already
    hold what an installer would have compiled, whoever builds the venv."""
    from harness.cases.words import prepare_args

    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "cache" / "trees"))
    prepared = prepare_args([str(w) for w in wheels], HOST, offline=True)
    tag = bytecode.cache_tag(HOST)
    assert all(bytecode.read_manifest(p.tree.root, tag) for p in prepared)
