"""Real wheels, two interpreters: a run leaves every install tree exactly as RECORD and the
bytecode manifests say, and a second run changes nothing at all (listing, modes, hashes).

Private trees (the configured cache's wheels, offline), so the first run also unpacks and
compiles every tree; the cases cover a physical merge (jwt), a symlinked native package with a
`.pth` fallback (google/protobuf) and real imports of package code (a case's `imports`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import InterpreterError
from harness.supply.interpreters import resolve
from harness.supply.treeverify import verify_trees

pytestmark = pytest.mark.e2e

CASES = ["regular-merge-jwt-pyjwt-jwt", "native-overlay-google-protobuf"]


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    seen = {}
    for current, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(current) / name
            info = path.lstat()
            digest = (
                hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
            )
            seen[path.relative_to(root).as_posix()] = (info.st_mode, digest)
    return seen


def test_runs_on_two_interpreters_leave_the_trees_as_they_must_be(tmp_path, monkeypatch):
    versions = []
    for wanted in ("3.9", "3.13"):
        try:
            if resolve(wanted).short_version == wanted:
                versions.append(wanted)
        except InterpreterError:
            pass
    if len(versions) < 2:
        pytest.skip("needs CPython 3.9 and 3.13")
    trees = tmp_path / "trees"
    monkeypatch.setenv("HARNESS_TREES", str(trees))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    argv = ["run", *CASES, "-j", "1"] + [w for v in versions for w in ("--python", v)]

    assert main(argv) == 0
    report = verify_trees(trees)
    assert report.ok, [d.render() for d in report.differences]
    first = {name: snapshot(trees / name) for name in sorted(os.listdir(trees)) if len(name) == 64}
    assert first

    assert main(argv) == 0
    again = {name: snapshot(trees / name) for name in sorted(os.listdir(trees)) if len(name) == 64}
    assert again == first
