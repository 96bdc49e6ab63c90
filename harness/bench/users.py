"""`harness bench --as-user`: the startup and sys.path runs executed as another user.

Root writes bytecode wherever it likes, so only another user shows what a read-only install
tree costs. The venvs are handed to that user as if it had built them; the shared trees they
link into stay root's and unchanged.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError


@dataclass(frozen=True)
class RunAs:
    """Another user the startup runs execute as (`harness bench --as-user`): root writes
    bytecode wherever it likes, so only another user shows what a read-only tree costs."""

    name: str
    uid: int
    gid: int

    def subprocess_options(self) -> dict[str, object]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def resolve_user(name: str) -> RunAs:
    """The user `name` as a RunAs; switching users needs root, and a clear word when absent."""
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise HarnessError(f"--as-user {name!r}: no such user on this machine") from None
    if entry.pw_uid == os.geteuid():
        raise HarnessError(f"--as-user {name!r}: that is the user running harness already")
    if os.geteuid() != 0:
        raise HarnessError(f"--as-user {name!r}: switching to another user needs root")
    return RunAs(name, entry.pw_uid, entry.pw_gid)


def first_unreachable(path: Path, user: RunAs) -> Path | None:
    """The first directory on the way to `path` (symlinks resolved) that `user` may not
    search, by its mode bits: the directory to open up before a run as that user can work."""
    target = Path(os.path.realpath(path))
    chain = [*reversed(target.parents)] + ([target] if target.is_dir() else [])
    for directory in chain:
        info = directory.stat()
        if info.st_uid == user.uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == user.gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return directory
    return None


def hand_over(venv: Path, user: RunAs) -> None:
    """Give `venv` to `user`, as if that user had built it: its directories and its own files
    change owner, so the user's interpreter writes bytecode into them as it would into a venv
    of its own. A file with more than one link is a shared install tree's (a merged
    directory's hard link), and stays as it is: nothing the harness runs changes a tree."""
    for base, dirnames, filenames in os.walk(venv):
        os.lchown(base, user.uid, user.gid)
        for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(base, d)))]:
            path = os.path.join(base, name)
            if os.lstat(path).st_nlink == 1:
                os.lchown(path, user.uid, user.gid)


def hand_over_all(pythons: Mapping[str, Path], user: RunAs, trees: Iterable[Path] = ()) -> None:
    """Hand every venv to `user` and make sure that user can start each one and read the
    install trees the merge venv links into: a directory on the way it may not search is
    named, since the run would otherwise fail (or leave a venv untimed) for that reason."""
    needed = [
        (f"{label} venv's", path) for label, p in pythons.items() for path in (p, p.parent.parent)
    ]
    needed += [("the install tree", tree) for tree in trees]
    for what, path in needed:
        blocked = first_unreachable(path, user)
        if blocked is not None:
            raise HarnessError(
                f"--as-user {user.name}: {what} {path} is out of reach for that user: "
                f"{blocked} (mode {blocked.stat().st_mode & 0o7777:o}) may not be searched by "
                f"it. Make the interpreters, the wheel cache and the bench work directory "
                f"reachable (e.g. chmod o+x {blocked}) and run again."
            )
    for python in pythons.values():
        hand_over(python.parent.parent, user)
