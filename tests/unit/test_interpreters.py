"""Interpreter query, discovery and tags, against the real CPythons on this machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from harness.errors import InterpreterError
from harness.supply import interpreters
from harness.supply.interpreters import (
    abi_tag,
    compute_tags,
    discover,
    query,
    resolve,
    resolve_many,
)

PLATFORMS = ["manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]


def pyenv_python(version: str) -> Path:
    """A pyenv CPython of `version` (X.Y), or skip: these tests need real interpreters."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = sorted(root.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no pyenv CPython {version} on this machine")
    return found[-1]


@pytest.fixture
def fresh_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery is cached per process; restore the real cache after a test fakes PATH."""
    monkeypatch.setattr(interpreters, "_discovered", None)


def test_query_of_the_host_matches_packaging_sys_tags() -> None:
    # packaging computes the running interpreter's tags in-process: the ground truth for it
    host = query(sys.executable)
    assert list(host.tags) == [str(t) for t in sys_tags()]
    assert host.version == tuple(sys.version_info[:3])
    assert host.executable == os.path.realpath(sys.executable)


def test_cp39_tags_prefer_its_own_abi_then_abi3_then_pure() -> None:
    tags = compute_tags((3, 9), "cp39", PLATFORMS)
    assert tags[0] == "cp39-cp39-manylinux_2_17_x86_64"
    order = [tags.index(t) for t in ("cp39-cp39-linux_x86_64", "cp39-abi3-linux_x86_64")]
    assert order == sorted(order)
    assert tags.index("cp39-abi3-linux_x86_64") < tags.index("py3-none-any")
    assert "cp38-abi3-linux_x86_64" in tags  # abi3 wheels built for older CPythons fit
    assert not any(t.startswith(("cp310", "cp313")) for t in tags)  # never a newer CPython


def test_free_threaded_build_gets_no_abi3() -> None:
    assert abi_tag({"soabi": "cpython-313t-x86_64-linux-gnu", "version": [3, 13, 0]}) == "cp313t"
    tags = compute_tags((3, 13), "cp313t", PLATFORMS)
    assert tags[0] == "cp313-cp313t-manylinux_2_17_x86_64"
    assert not any("-abi3-" in t for t in tags)  # abi3 needs the GIL-ful limited API


def test_abi_tag_without_soabi_uses_flags() -> None:
    info = {"soabi": "", "version": [3, 12, 1], "gil_disabled": False, "debug": True}
    assert abi_tag(info) == "cp312d"


def test_other_platform_is_refused() -> None:
    info = {
        "executable": "/x/python.exe",
        "version": [3, 11, 0],
        "implementation": "cpython",
        "soabi": "",
        "platform": "win-amd64",
        "pointer_bits": 64,
    }
    with pytest.raises(InterpreterError, match="built for win-amd64"):
        interpreters._from_info(info)


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_query_a_pyenv_target(version: str) -> None:
    executable = pyenv_python(version)
    target = query(executable)
    major, minor = map(int, version.split("."))
    assert target.version[:2] == (major, minor) and target.implementation == "cpython"
    assert target.tags[0].startswith(f"cp{major}{minor}-cp{major}{minor}-")
    assert query(executable) is target  # cached per realpath + mtime


def test_query_of_a_broken_interpreter_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "python3.42"
    fake.write_text("#!/bin/sh\necho 'not really python' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(InterpreterError, match="exit status 3: not really python"):
        query(fake)
    with pytest.raises(InterpreterError, match="no such interpreter"):
        query(tmp_path / "missing")


def test_discover_finds_path_entries_once_and_skips_what_is_not_a_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_discovery: None
) -> None:
    py39, py313 = pyenv_python("3.9"), pyenv_python("3.13")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.9").symlink_to(py39)
    (bin_dir / "python3").symlink_to(py39)  # same binary twice: listed once
    (bin_dir / "python3.13").symlink_to(py313)
    broken = bin_dir / "python3.7"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    (bin_dir / "python2").symlink_to(py39)  # not a python3 name: not even asked
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    found = discover(refresh=True)
    assert [i.executable for i in found] == [os.path.realpath(py39), os.path.realpath(py313)]
    assert resolve("3.13").executable == os.path.realpath(py313)
    assert resolve("python3.9").executable == os.path.realpath(py39)
    with pytest.raises(InterpreterError) as caught:
        resolve("3.10")
    message = str(caught.value)
    assert "no CPython 3.10 found" in message and os.path.realpath(py313) in message
    assert resolve_many(["all"]) == found


def test_resolve_forms() -> None:
    py39 = pyenv_python("3.9")
    by_path = resolve(str(py39))
    assert by_path.version[:2] == (3, 9)
    exact = ".".join(map(str, by_path.version))
    assert resolve(exact).version == by_path.version
    assert resolve("default").executable == os.path.realpath(sys.executable)
    assert resolve_many([]) == [resolve("default")]
    assert resolve_many(["3.9", str(py39), "default"]) == [by_path, resolve("default")]
    with pytest.raises(InterpreterError, match=r"unknown interpreter 'nonsense'.*found: 3\."):
        resolve("nonsense")


def test_real_discovery_lists_the_pyenv_targets() -> None:
    versions = {i.short_version for i in discover()}
    for version in ("3.9", "3.13"):
        pyenv_python(version)
        assert version in versions
    assert all(i.version[:2] >= (3, 8) for i in discover())  # 2.7, 3.6, 3.7 are not targets
