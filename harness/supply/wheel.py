"""One wheel file → a checked archive listing, layout facts, and a read-only install tree.

The front door of the wheel stage; each idea behind it has its own module:

- `harness.supply.archive`     the archive checked without reading member contents (`inspect_archive`)
- `harness.supply.trees`       the install tree on disk: layout, completion marker, how one is built
- `harness.supply.listingmemo` checked listings remembered per sha256 (`<cache>/listings/`)
- `harness.supply.digests`     file hashes (`file_sha256`) and RECORD hash comparison

Here they are put together: `read_facts` (a wheel's layout facts), `install_tree` (its tree,
built once per sha256 under an inter-process lock, so parallel workers unpack a wheel once) and
`tree_files` (what a tree holds by its RECORD).

A warm run reads none of a wheel again. What the checks found in a wheel (its dist-info,
RECORD's rows, entry_points.txt) is remembered on disk per sha256, once the checks passed on
bytes hashed to that sha256 (`read_facts(..., remember=True)`), and `read_facts` and
`tree_files` answer from it: no zip is opened, no RECORD parsed, and pypa/installer (~30 ms to
import, with `email`) is imported only when a wheel is checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import config
from harness.errors import IntegrityError, WheelError
from harness.facts import derive_facts
from harness.model import InstallTree, WheelFacts
from harness.supply.digests import file_sha256
from harness.supply.listingmemo import (
    listing_document,
    recall_listing,
    remember_listing,
)
from harness.supply.trees import (
    COMPLETE_MARKER,
    TreeFile,
    is_complete_tree,
    is_current_marker,
    read_marker,
    tree_dist_info,
    tree_lock,
)
from harness.supply.trees import build_tree as _build_tree  # called through this global: see below

if TYPE_CHECKING:
    import zipfile
    from contextlib import AbstractContextManager

    from installer.records import RecordEntry

    from harness.supply.archive import wheel_dist_info
    from harness.supply.wheellisting import WheelListing

__all__ = [
    "install_tree",
    "is_complete_tree",
    "read_facts",
    "read_listing",
    "site_files",
    "tree_files",
    "wheel_dist_info",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")


# A name defined elsewhere and imported from here when first used: the archive checks, which a
# warm run never needs.
_LAZY_HOMES = {
    "wheel_dist_info": "archive",
}


def __getattr__(name: str) -> Any:
    """A name of `_LAZY_HOMES`, from its module (imported now)."""
    home = _LAZY_HOMES.get(name)
    if home is not None:
        from importlib import import_module

        return getattr(import_module(f"harness.supply.{home}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The archive readers and the tree builder (`_build_tree`) are called through module globals,
# which tests replace to count or refuse the calls (tests/unit/test_warm_path.py,
# tests/unit/test_parallel_workers.py); the archive's are imported when first called.


def _open_archive(wheel_path: Path, wheel: str) -> AbstractContextManager[zipfile.ZipFile]:
    """`harness.supply.archive.open_archive`: the wheel as a zip, or a WheelError."""
    from harness.supply.archive import open_archive

    return open_archive(wheel_path, wheel)


def _parse_record_text(
    text: str, wheel: str, member: str
) -> tuple[dict[str, RecordEntry], tuple[str, ...]]:
    """`harness.supply.archive.parse_record_text`: RECORD's rows by path, and their paths in order."""
    from harness.supply.archive import parse_record_text

    return parse_record_text(text, wheel, member)


# --------------------------------------------------------------------------- facts


def read_facts(
    wheel_path: Path,
    *,
    label: str,
    sha256: str = "",
    filename: str | None = None,
    remember: bool = False,
) -> WheelFacts:
    """Layout facts from RECORD and entry_points.txt, read from the archive (no extraction).

    The archive's structure is checked (names, RECORD against members, sizes, WHEEL); member
    hashes are checked by `install_tree`, which reads the bytes anyway. `filename` names the
    wheel when its path does not (a cache keyed by hash).

    `remember=True` (with `sha256`): answer from the listing remembered for this sha256 and
    file name when there is one (`<cache>/listings/`), else check the archive and remember what
    it holds once the file is hashed to `sha256`. The checks are a function of the bytes and the
    name, so a remembered listing is what they would find again; a wheel that fails them is
    never remembered, and fails the same way every time.
    """
    wheel_path = Path(wheel_path)
    wheel = filename or wheel_path.name
    remembered = recall_listing(sha256, wheel, wheel_path) if remember else None
    if remembered is not None:
        dist_info, paths, entry_points_text = (
            remembered["dist_info"],
            remembered["paths"],
            remembered["entry_points"],
        )
    else:
        from harness.supply.archive import inspect_archive, parse_record

        with _open_archive(wheel_path, wheel) as archive:
            listing = inspect_archive(archive, wheel)
            entries, _ = parse_record(archive, wheel, listing.dist_info) if remember else ({}, ())
        dist_info, paths, entry_points_text = (
            listing.dist_info,
            listing.record_paths,
            listing.entry_points_text,
        )
        if remember:
            remember_listing(sha256, wheel, wheel_path, listing, entries)
    return derive_facts(
        label=label,
        dist_info=dist_info,
        record=paths,
        entry_points_text=entry_points_text,
        sha256=sha256,
        filename=wheel,
    )


def read_listing(wheel_path: Path, filename: str | None = None) -> WheelListing:
    """The checked listing of a wheel file (names, RECORD rows with their hashes, metadata)."""
    from harness.supply.archive import inspect_archive

    wheel_path = Path(wheel_path)
    wheel = filename or wheel_path.name
    with _open_archive(wheel_path, wheel) as archive:
        return inspect_archive(archive, wheel)


# --------------------------------------------------------------------------- install trees


_tree_files_memo: dict[tuple[str, int, int], tuple[TreeFile, ...]] = {}


def tree_files(root: Path, *, remember: bool = True) -> tuple[TreeFile, ...]:
    """Every file the tree's RECORD lists, in RECORD order, routed to its subdir.

    This is what a tree holds by definition: consumers (the physical merge, `cache verify`)
    read it instead of walking the live directory, whose listing could include anything an
    interpreter or a tool left there. Read from the tree's own RECORD and remembered per
    process (keyed by the marker's inode and mtime: a rebuilt tree is read again);
    `remember=False` reads RECORD again (`harness cache verify` trusts nothing it has seen).
    """
    root = Path(root)
    lines = read_marker(root)
    if not is_current_marker(lines):
        tree_dist_info(root)  # raises the error that says why
    assert lines is not None
    dist_info = lines[2]
    marker = os.stat(root / COMPLETE_MARKER)
    key = (str(root), marker.st_ino, marker.st_mtime_ns)
    cached = _tree_files_memo.get(key) if remember else None
    if cached is not None:
        return cached
    member = f"{dist_info}/RECORD"
    doc = listing_document(lines[1]) if remember else None
    rows: dict[str, tuple[str | None, str | None, int | None]]
    if doc is not None and doc.get("dist_info") == dist_info:
        # RECORD's rows as they were parsed from this tree's wheel (the tree's RECORD is that
        # wheel's, byte for byte: `harness cache verify` holds it so).
        paths = doc["paths"]
        rows = {path: (row[0], row[1], row[2]) for path, row in doc["entries"].items()}
    else:
        record = root / "site-packages" / member
        try:
            text = record.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WheelError(
                f"install tree {root}: cannot read its RECORD {record}: {exc}"
            ) from None
        entries, paths = _parse_record_text(text, str(root), member)
        rows = {
            path: (
                entry.hash_.name if entry.hash_ else None,
                entry.hash_.value if entry.hash_ else None,
                entry.size,
            )
            for path, entry in entries.items()
        }
    from harness.supply.archive import route  # once per tree and process (the answer is remembered)

    data_dir = dist_info.removesuffix(".dist-info") + ".data"
    files = []
    for path in dict.fromkeys(paths):
        if path.endswith("/"):
            continue  # a directory row: nothing to hold
        hash_name, hash_value, size = rows[path]
        subdir, routed = route(path, data_dir, str(root))
        if path == member:
            hash_name = hash_value = None
        files.append(TreeFile(subdir, routed, hash_name, hash_value, size))
    result = tuple(files)
    _tree_files_memo[key] = result
    return result


def site_files(root: Path) -> tuple[str, ...]:
    """The site-packages paths (relative, POSIX) RECORD lists for the tree at `root`, sorted."""
    return tuple(sorted(f.path for f in tree_files(root) if f.subdir == "site-packages"))


def install_tree(
    wheel_path: Path,
    sha256: str = "",
    trees_root: Path | None = None,
    *,
    filename: str | None = None,
) -> InstallTree:
    """The read-only install tree of a wheel, unpacked once and keyed by its sha256.

    `sha256` is the pinned hash (computed when empty); the file is re-hashed before a tree
    is built so a tree can never be filed under a hash its wheel does not have. A complete
    tree is reused without taking the lock; an incomplete leftover is removed and rebuilt.
    `filename` names the wheel when its path does not (a cache keyed by hash).
    """
    wheel_path = Path(wheel_path)
    wheel = filename or wheel_path.name
    root = Path(trees_root).absolute() if trees_root is not None else config.trees_dir()
    sha256 = sha256.strip().lower()
    if sha256 and not _SHA256.fullmatch(sha256):
        raise WheelError(
            f"wheel {wheel}: the sha256 to key its install tree must be 64 hex digits, "
            f"got {sha256!r}"
        )
    if not sha256:
        if not wheel_path.is_file():
            raise WheelError(f"wheel {wheel}: no such file: {wheel_path}")
        sha256 = file_sha256(wheel_path)
    final = root / sha256
    if is_complete_tree(final, sha256):
        return InstallTree(final)

    with tree_lock(root, sha256, holder=f"wheel {wheel}", error=WheelError):
        if is_complete_tree(final, sha256):
            return InstallTree(final)  # a peer built it while we waited
        if not wheel_path.is_file():
            raise WheelError(f"wheel {wheel}: no such file: {wheel_path}")
        actual = file_sha256(wheel_path)
        if actual != sha256:
            raise IntegrityError(
                f"wheel {wheel}: its install tree is keyed by sha256 {sha256}, but the "
                f"file {wheel_path} hashes to {actual}; refusing to file a tree under a "
                "hash its wheel does not have"
            )
        _build_tree(wheel_path, wheel, sha256, root, final)
    return InstallTree(final)
