"""The install tree of a wheel on disk: its layout, its completion marker, how one is built.

The install tree of a wheel is built once per sha256 under the trees directory:

    <trees>/<sha256>/site-packages/   root members, plus `.data/purelib` and `.data/platlib`
                     scripts/         `.data/scripts`   (bytes as shipped: no shebang rewrite)
                     headers/         `.data/headers`
                     data/            `.data/data`      (prefix-relative)
                     .complete        written last: the tree is whole

The tree is interpreter-independent (nothing is generated, nothing rewritten), so one tree
serves every venv and every target CPython. It is extracted into `<trees>/tmp/`, each member's
bytes checked against its RECORD hash and size as they stream, made read-only, and renamed into
place: the rename is the commit, so a reader either sees no tree or a complete one. Who builds
a tree when, under which lock, is `harness.supply.wheel.install_tree`'s business. The archive checks
(`harness.supply.archive`) are imported where a tree is built: a warm run finds its trees complete.

pypa/installer's `install()` is not used: it derives the `.data` directory from the wheel *file*
name (wrong for InquirerPy 0.3.4, which ships `inquirerpy-0.3.4.dist-info`), skips `__pycache__`
members (so the tree would disagree with RECORD), generates interpreter-specific script wrappers
and rewrites RECORD, and reports a bad hash without the expected and actual values.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError, WheelError
from harness.supply.digests import hash_matches

if TYPE_CHECKING:
    from collections.abc import Iterator

    from harness.supply.wheellisting import WheelListing

TREE_LOCK_TIMEOUT_S = (
    1800.0  # a huge wheel (torch) unpacks in minutes; a stuck peer must not hang us
)


@contextlib.contextmanager
def tree_lock(
    trees_root: Path,
    sha256: str,
    *,
    holder: str,
    error: type[HarnessError] = HarnessError,
    timeout: float = TREE_LOCK_TIMEOUT_S,
) -> Iterator[None]:
    """The one lock per install tree, `<trees>/locks/<sha256>.lock`, taken by whatever builds,
    compiles or verifies that tree whole, so none of them sees another half done. A peer that
    holds it past `timeout` is an `error` naming `holder` (what was waiting) and the lock file."""
    import filelock  # only a tree being built, compiled or verified needs it (~10 ms to import)

    locks = trees_root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / f"{sha256}.lock"
    try:
        with filelock.FileLock(path, timeout=timeout):
            yield
    except filelock.Timeout:
        raise error(
            f"{holder}: another process has held the tree lock {path} for over {timeout:.0f} s; "
            "if no harness is running, delete the lock file and retry"
        ) from None


__all__ = [
    "COMPLETE_MARKER",
    "TREE_FORMAT",
    "TREE_LOCK_TIMEOUT_S",
    "TREE_SUBDIRS",
    "TreeFile",
    "build_tree",
    "extract",
    "is_complete_tree",
    "is_current_marker",
    "marker_text",
    "read_marker",
    "tree_dist_info",
    "tree_format",
    "tree_lock",
]

_CHUNK = 1 << 20

# Bump when the tree layout changes: old trees rebuild. 2: the marker names the dist-info (so
# RECORD is found without a directory walk), and trees of format 1 were written into at run time
# by the interpreters that imported from them (bytecode), so none of them is trusted again.
TREE_FORMAT = "harness-install-tree 2"
COMPLETE_MARKER = ".complete"
TREE_SUBDIRS = ("site-packages", "scripts", "headers", "data")


def marker_text(sha256: str, dist_info: str) -> str:
    """The marker's three lines: the tree format, the wheel's sha256, the dist-info's name."""
    return f"{TREE_FORMAT}\n{sha256}\n{dist_info}\n"


def read_marker(root: Path) -> list[str] | None:
    """[format, sha256, dist-info] of a tree's marker, or None when there is none."""
    try:
        return (Path(root) / COMPLETE_MARKER).read_text().split("\n")
    except (OSError, UnicodeDecodeError):
        return None


def is_current_marker(lines: list[str] | None) -> bool:
    """True for the lines of a marker this harness wrote in the current format."""
    return (
        lines is not None
        and len(lines) == 4
        and lines[0] == TREE_FORMAT
        and lines[2].endswith(".dist-info")
        and lines[3] == ""
    )


def is_complete_tree(root: Path, sha256: str) -> bool:
    """True when `root` is a finished tree of this sha256 in the current format."""
    lines = read_marker(root)
    return is_current_marker(lines) and lines is not None and lines[1] == sha256


def tree_format(root: Path) -> str | None:
    """The format line of a tree's marker (None without a marker): `TREE_FORMAT` when current."""
    lines = read_marker(root)
    return lines[0] if lines else None


def tree_dist_info(root: Path) -> str:
    """The dist-info directory of a complete tree, as its marker names it."""
    root = Path(root)
    lines = read_marker(root)
    if not is_current_marker(lines):
        raise WheelError(
            f"{root} is not a complete install tree of the current format "
            f"({TREE_FORMAT!r}); it is rebuilt the next time its wheel is prepared"
        )
    assert lines is not None
    return lines[2]


@dataclass(frozen=True)
class TreeFile:
    """One file of an install tree as RECORD lists it, routed as the unpack routed it.

    `hash_name`/`hash_value`/`size` are RECORD's (None for RECORD's own row, which has none).
    """

    subdir: str  # one of TREE_SUBDIRS
    path: str  # relative to subdir, POSIX
    hash_name: str | None
    hash_value: str | None
    size: int | None

    @property
    def rel(self) -> str:
        """The path relative to the tree root."""
        return f"{self.subdir}/{self.path}"


def _force_rmtree(path: Path) -> None:
    """Remove a (possibly read-only) tree; missing is fine."""
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        path.unlink()
        return
    for dirpath, _dirnames, _filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(path)


def _make_read_only(root: Path) -> None:
    """Files 0o444 (0o555 when executable), directories 0o555, `root` itself left writable."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            full = os.path.join(dirpath, name)
            mode = os.lstat(full).st_mode
            os.chmod(full, 0o555 if mode & 0o111 else 0o444)
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o555)


def extract(archive: zipfile.ZipFile, listing: WheelListing, into: Path) -> None:
    """Write every member into its subdir, checking its bytes against RECORD as they stream."""
    import hashlib

    from harness.supply.archive import wheel_error

    for subdir in TREE_SUBDIRS:
        (into / subdir).mkdir()
    for member in listing.members:
        target = into / member.subdir / member.path
        target.parent.mkdir(parents=True, exist_ok=True)
        entry = member.record
        digest = hashlib.new(entry.hash_.name if entry and entry.hash_ else "sha256")
        size = 0
        with archive.open(member.name) as source, open(target, "xb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
        os.chmod(target, 0o755 if member.executable else 0o644)
        if entry is None or entry.hash_ is None:
            continue
        expected = entry.hash_.value
        if not hash_matches(entry.hash_.name, expected, digest):
            import base64

            actual = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
            raise wheel_error(
                listing.filename,
                member.name,
                "each member's hash equals its RECORD hash",
                f"RECORD says {entry.hash_.name}={expected}, the member's bytes hash to "
                f"{entry.hash_.name}={actual}",
            )
        if entry.size is not None and size != entry.size:
            raise wheel_error(
                listing.filename,
                member.name,
                "each member's size equals its RECORD size",
                f"RECORD says {entry.size} bytes, the member has {size} bytes",
            )


def _new_tmp_dir(parent: Path, sha256: str) -> Path:
    """A fresh build directory under `parent`, which a peer may remove when it empties."""
    for _attempt in range(10):
        parent.mkdir(parents=True, exist_ok=True)
        try:
            return Path(tempfile.mkdtemp(prefix=f"{sha256}-", dir=parent))
        except FileNotFoundError:
            continue  # a peer removed the empty parent between our mkdir and mkdtemp
    raise WheelError(f"cannot create a temporary directory under {parent}")


def _remove_if_empty(directory: Path) -> None:
    """Best effort: a peer may be creating its own build directory in it right now."""
    with contextlib.suppress(OSError):
        directory.rmdir()


def build_tree(wheel_path: Path, wheel: str, sha256: str, trees_root: Path, final: Path) -> None:
    """Check the wheel, extract it beside `final` and rename it into place, marker last.

    The caller holds the tree's lock, so leftovers of this sha256 (a build killed before its
    rename, a tree without its marker) are no peer's work in progress and are removed first.
    """
    from harness.supply.archive import (  # the checks: a warm run has none
        inspect_archive,
        open_archive,
    )

    tmp_parent = trees_root / "tmp"
    for leftover in sorted(tmp_parent.glob(f"{sha256}-*")):
        _force_rmtree(leftover)  # a build killed before its rename; we hold the lock
    if os.path.lexists(final):
        _force_rmtree(final)  # a tree without its marker (or an old format): rebuild
    tmp = _new_tmp_dir(tmp_parent, sha256)
    try:
        with open_archive(wheel_path, wheel) as archive:
            listing = inspect_archive(archive, wheel)
            extract(archive, listing, tmp)
        _make_read_only(tmp)
        marker = tmp / COMPLETE_MARKER
        marker.write_text(marker_text(sha256, listing.dist_info))
        os.chmod(marker, 0o444)
        os.rename(tmp, final)
        os.chmod(final, 0o555)
    except BaseException:
        _force_rmtree(tmp)
        raise
    finally:
        _remove_if_empty(tmp_parent)
