"""The concrete (static-tool) view of site-packages, and its agreement with the real FileFinder."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
import time
from pathlib import Path

from harness.observe.concrete import ConcreteModule, concrete_files, concrete_view
from harness.observe.runtime import run_probe, venv_python

EXT = tuple(importlib.machinery.EXTENSION_SUFFIXES)  # the host's: '.cpython-311-...so', ...


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def view(site: Path):
    return concrete_view(site, extension_suffixes=EXT)


def test_symlinked_package_directory(tmp_path: Path) -> None:
    # A whole-tree projection: site-packages/pkg -> <tree>/pkg; names are as seen, files real.
    tree = tmp_path / "tree"
    write(tree / "pkg" / "__init__.py")
    write(tree / "pkg" / "mod.py")
    site = tmp_path / "site"
    site.mkdir()
    (site / "pkg").symlink_to(tree / "pkg", target_is_directory=True)
    result = view(site)
    assert result.modules == (
        ConcreteModule(
            "pkg", "package", "pkg/__init__.py", str(tree / "pkg/__init__.py"), str(tree / "pkg")
        ),
        ConcreteModule("pkg.mod", "module", "pkg/mod.py", str(tree / "pkg/mod.py")),
    )


def test_namespace_directory_with_per_entry_symlinks(tmp_path: Path) -> None:
    # A merged namespace: a real jaraco/ whose entries link into two different wheel trees.
    tree_a, tree_b, site = tmp_path / "a", tmp_path / "b", tmp_path / "site"
    write(tree_a / "jaraco" / "functools" / "__init__.py")
    write(tree_b / "jaraco" / "text.py")
    (site / "jaraco").mkdir(parents=True)
    (site / "jaraco" / "functools").symlink_to(tree_a / "jaraco" / "functools")
    (site / "jaraco" / "text.py").symlink_to(tree_b / "jaraco" / "text.py")
    by_name = {m.name: m for m in view(site).modules}
    assert by_name["jaraco"] == ConcreteModule(
        "jaraco", "namespace", "jaraco", str(site / "jaraco"), str(site / "jaraco")
    )
    assert by_name["jaraco.functools"].realpath == str(tree_a / "jaraco/functools/__init__.py")
    assert by_name["jaraco.functools"].path == "jaraco/functools/__init__.py"
    assert by_name["jaraco.text"].realpath == str(tree_b / "jaraco/text.py")


def test_precedence_package_module_namespace(tmp_path: Path) -> None:
    # FileFinder: package beats module file beats bare directory; extension beats source.
    site = tmp_path / "site"
    write(site / "x" / "__init__.py")
    write(site / "x.py")
    write(site / "y.py")
    write(site / "y" / "inner.py")  # hidden: y is the module y.py, not a namespace
    write(site / f"z{EXT[0]}")
    write(site / "z.py")
    write(site / "only_pyc.pyc")
    result = view(site)
    assert [(m.name, m.kind, m.path) for m in result.modules] == [
        ("only_pyc", "module", "only_pyc.pyc"),
        ("x", "package", "x/__init__.py"),
        ("y", "module", "y.py"),
        ("z", "extension", f"z{EXT[0]}"),
    ]
    assert [(m.name, m.kind, m.path) for m in result.shadowed] == [
        ("x", "module", "x.py"),
        ("y", "namespace", "y"),
        ("z", "module", "z.py"),
    ]


def test_skipped_entries(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write(site / "pkg" / "__init__.py")
    write(site / "pkg" / "__pycache__" / "__init__.cpython-311.pyc")
    write(site / "__pycache__" / "six.cpython-311.pyc")
    write(site / "pkg-1.0.dist-info" / "METADATA")
    write(site / "old.egg-info" / "PKG-INFO")
    write(site / "pkg-1.0.data" / "purelib" / "x.py")
    write(site / "not-an-identifier" / "m.py")
    write(site / "not-a-module.py")
    write(site / "extra.pth", "import os\n")
    (site / "dangling").symlink_to(tmp_path / "nowhere")
    assert view(site).names == ("pkg",)


def test_symlink_loops_terminate(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write(site / "loop" / "m.py")
    (site / "loop" / "back").symlink_to(site)  # back to site-packages
    (site / "loop" / "again").symlink_to(site / "loop")  # to itself
    started = time.monotonic()
    result = view(site)
    assert time.monotonic() - started < 5
    assert result.names == ("loop", "loop.again", "loop.back", "loop.m")
    assert result.loops == ("loop/again", "loop/back")
    files = concrete_files(site)
    assert files == {"loop/m.py": str(site / "loop" / "m.py")}


def test_concrete_files_follow_symlinks(tmp_path: Path) -> None:
    tree, site = tmp_path / "tree", tmp_path / "site"
    write(tree / "pkg" / "__init__.py")
    write(tree / "pkg-1.0.dist-info" / "RECORD")
    write(site / "own.pth", "/x\n")
    (site / "pkg").symlink_to(tree / "pkg")
    (site / "pkg-1.0.dist-info").mkdir()
    (site / "pkg-1.0.dist-info" / "RECORD").symlink_to(tree / "pkg-1.0.dist-info" / "RECORD")
    assert concrete_files(site) == {
        "own.pth": str(site / "own.pth"),
        "pkg-1.0.dist-info/RECORD": str(tree / "pkg-1.0.dist-info/RECORD"),
        "pkg/__init__.py": str(tree / "pkg/__init__.py"),
    }


def test_large_tree_is_fast(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for p in range(20):
        write(site / f"p{p}" / "__init__.py")
        for m in range(200):
            write(site / f"p{p}" / f"m{m}.py")
    started = time.monotonic()
    result = view(site)
    elapsed = time.monotonic() - started
    assert len(result.modules) == 20 * 201
    assert elapsed < 5, f"walking 4020 modules took {elapsed:.1f} s"


def test_concrete_view_agrees_with_the_real_path_finder(tmp_path: Path) -> None:
    # Without any .pth path entries, every name the walk shows must resolve at runtime to the
    # same real file (packages and namespaces: the same real directory): this pins the walk to
    # FileFinder's own rules, on the very layouts the merge engines produce.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    (site,) = (tmp_path / "v").glob("lib/python3.*/site-packages")
    tree = tmp_path / "tree"
    write(tree / "linked" / "__init__.py")
    write(tree / "linked" / "sub" / "deep.py")
    write(tree / "gns" / "_upb" / f"_message{EXT[1]}")
    write(tree / "gns" / "protobuf" / "__init__.py")
    (site / "linked").symlink_to(tree / "linked")
    (site / "gns").mkdir()
    for entry in ("_upb", "protobuf"):
        (site / "gns" / entry).symlink_to(tree / "gns" / entry)
    write(site / "x" / "__init__.py")
    write(site / "x.py")
    write(site / "y.py")
    write(site / "y" / "inner.py")
    write(site / f"z{EXT[0]}")
    write(site / "z.py")
    write(site / "nsroot" / "child" / "leaf.py")
    result = view(site)
    # why: linked(.sub, .sub.deep) 3 + gns(._upb, ._upb._message, .protobuf) 4 + nsroot(.child,
    # .child.leaf) 3 + x, y, z = 13; y.py shadows the namespace dir y/, so no y.inner.
    assert len(result.modules) == 13
    report = run_probe(venv_python(tmp_path / "v"), resolve=result.names, distributions=False)
    for module in result.modules:
        runtime = report.module(module.name)
        assert runtime.status == "found", module.name
        assert runtime.kind == module.kind, module.name
        if module.kind in ("package", "namespace"):
            assert runtime.search_locations_realpaths == (module.dir_realpath,), module.name
        if module.kind != "namespace":
            assert runtime.origin_realpath == module.realpath, module.name
        assert os.path.realpath(site / module.path) == module.realpath, module.name
    for lost in result.shadowed:
        assert report.module(lost.name).origin_realpath != lost.realpath, lost.name
