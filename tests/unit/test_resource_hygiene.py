"""Resource hygiene: a passing, a failing and an erroring `harness run` leave nothing behind.

No temporary directory (the run gets a private TMPDIR, so other processes' files cannot blur
the comparison, and it must be exactly as empty afterwards as before), no lock still held (each
lock file is acquired with timeout 0: flock conflicts even with a descriptor this process leaked),
no child process (live or zombie: /proc entries whose parent is this process), nothing in the
cache's tmp/ and no half-built tree. `-j 2` with two cases makes the runner use its process pool.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import filelock
import pytest

from harness.cli import main

NAMESPACE_WHEELS = r"""
[[wheels]]
name = "ns-one"
version = "2.0"
[wheels.synthetic]
files = { "shared/one.py" = "ONE = 1\n" }
[[wheels]]
name = "ns-two"
version = "3.0"
[wheels.synthetic]
files = { "shared/two.py" = "TWO = 2\n" }
"""

CASES = {
    "good-namespace": 'description = "a namespace over two wheels"\n'
    + NAMESPACE_WHEELS
    + r"""
[[expect.module]]
name = "shared.two"
owner = "ns-two"
explanation = "each wheel's module lies in its own portion of the namespace"
""",
    "good-spanning": r"""
description = "a regular package spanning two wheels, merged"
[[wheels]]
name = "span-a"
version = "1.0"
[wheels.synthetic]
files = { "span/__init__.py" = "WHO = 'a'\n", "span/a.py" = "" }
[[wheels]]
name = "span-b"
version = "1.0"
[wheels.synthetic]
files = { "span/__init__.py" = "WHO = 'b'\n", "span/b.py" = "" }
""",
    # the expectation is wrong on purpose: shared.two comes from ns-two
    "bad-owner": 'description = "a wrong expectation"\n'
    + NAMESPACE_WHEELS
    + r"""
[[expect.module]]
name = "shared.two"
owner = "ns-one"
explanation = "wrong on purpose, so the run fails"
""",
    # a pinned (not synthetic) file that no offline cache has: the unit ends in an error
    "broken-offline": r"""
description = "a pin that cannot be fetched offline"
[[wheels]]
name = "absent"
version = "1.0"
files = [{ filename = "absent-1.0-py3-none-any.whl", sha256 = "1111111111111111111111111111111111111111111111111111111111111111", size = 10 }]
""",
}


def children_of(pid: int) -> set[tuple[int, str]]:
    """(pid, state) of every process whose parent is `pid` (zombies included), from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # it ended while we looked
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state, ppid, ...
        if int(fields[1]) == pid:
            found.add((int(entry), fields[0]))
    return found


def held_locks(*roots: Path) -> tuple[int, list[str]]:
    """(lock files seen, those that cannot be acquired right now)."""
    paths = sorted(p for root in roots for p in root.glob("locks/*.lock"))
    held = []
    for path in paths:
        lock = filelock.FileLock(str(path), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            held.append(str(path))
        else:
            lock.release()
    return len(paths), held


@pytest.mark.parametrize(
    ("cases", "jobs", "exit_status"),
    [
        (["good-namespace", "good-spanning"], "2", 0),
        (["good-namespace", "bad-owner"], "2", 1),
        (["broken-offline"], "1", 2),
    ],
    ids=["passing", "failing", "erroring"],
)
def test_a_run_leaves_no_temporary_lock_or_process_behind(
    cases: list[str],
    jobs: str,
    exit_status: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache, trees, private_tmp = tmp_path / "cache", tmp_path / "trees", tmp_path / "tmp"
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(cache))
    monkeypatch.setenv("HARNESS_TREES", str(trees))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR, here and in forked workers
    cases_dir = tmp_path / "cases"
    for name, text in CASES.items():
        (cases_dir / name).mkdir(parents=True)
        (cases_dir / name / "case.toml").write_text(text)

    assert tempfile.gettempdir() == str(private_tmp)
    children_before = children_of(os.getpid())

    status = main(["run", "--cases-dir", str(cases_dir), *cases, "-j", jobs])
    out = capsys.readouterr()
    assert status == exit_status, out.out + out.err

    # the run itself did what its exit status says
    if exit_status == 1:
        assert "shared.two" in out.out and "ns-one" in out.out
    if exit_status == 2:
        assert "offline mode" in out.out
    # no temporary directory or file (harness-* workdirs, virtualenv scratch, anything)
    assert sorted(os.listdir(private_tmp)) == []
    # no child process left running, and no zombie left unreaped
    assert children_of(os.getpid()) == children_before
    # no lock left held, by this process or any other
    seen, held = held_locks(cache, trees)
    assert held == []
    if exit_status != 2:
        assert seen > 0  # synthetic wheels were cached and unpacked under their locks
    # nothing half-written in the cache or the tree store
    assert not (cache / "tmp").exists() or list((cache / "tmp").iterdir()) == []
    assert not (trees / "tmp").exists()
