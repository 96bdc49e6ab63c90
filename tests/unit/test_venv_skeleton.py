"""A venv copied from the interpreter's skeleton is the venv virtualenv writes, byte for byte
(pyvenv.cfg's `command` line names its own path), and a remembered interpreter answer is the
answer: both without starting a process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from harness.supply import interpreters, venvs
from harness.supply.interpreters import resolve


def listing(root: Path) -> dict[str, tuple]:
    seen = {}
    for current, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(current) / name
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                seen[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                seen[rel] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                text = path.read_bytes().replace(str(root).encode(), b"<venv>")
                seen[rel] = ("file", stat.S_IMODE(info.st_mode), text)
    return seen


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_venv_from_the_skeleton_is_what_virtualenv_writes(tmp_path, private_cache):
    host = resolve(sys.executable)
    venvs._run_virtualenv(host, tmp_path / "direct")
    venvs.create_virtualenv(host, tmp_path / "first")  # makes the skeleton, then copies it
    venvs.create_virtualenv(host, tmp_path / "second")
    assert len(list((private_cache / "venv-skeletons").glob("*/venv"))) == 1
    expected = listing(tmp_path / "direct")
    assert listing(tmp_path / "first") == expected
    assert listing(tmp_path / "second") == expected
    cfg = (tmp_path / "second" / "pyvenv.cfg").read_text()
    assert f"virtualenv {tmp_path / 'second'}\n" in cfg
    done = subprocess.run(
        [str(tmp_path / "second" / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(tmp_path / "second")


def test_no_virtualenv_run_once_the_skeleton_exists(tmp_path, private_cache, monkeypatch):
    host = resolve(sys.executable)
    venvs.create_virtualenv(host, tmp_path / "first")

    def refuse(*_args, **_kwargs):
        raise AssertionError("virtualenv must not run again for this interpreter")

    monkeypatch.setattr(venvs, "_run_virtualenv", refuse)
    venvs.create_virtualenv(host, tmp_path / "again")
    assert (tmp_path / "again" / "bin" / "python").exists()


def test_an_interpreter_answer_is_remembered_on_disk(private_cache, monkeypatch):
    target = os.path.realpath(sys.executable)
    monkeypatch.setattr(interpreters, "_query_cache", {})
    first = interpreters.query(target)
    monkeypatch.setattr(interpreters, "_query_cache", {})

    def refuse(*_args, **_kwargs):
        raise AssertionError("a remembered interpreter must not be asked again")

    monkeypatch.setattr(subprocess, "run", refuse)
    assert interpreters.query(target) == first
    assert len(list((private_cache / "interpreters").glob("*.json"))) == 1
