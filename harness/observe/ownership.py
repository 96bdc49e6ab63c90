"""Who shipped a file: ownership from the wheels' RECORD hashes, never from the engine.

A file in a venv belongs to the wheel whose RECORD lists the same hash *and* whose RECORD path
is a suffix of the file's real path (segment by segment). The suffix matters: by hash alone an
empty `py.typed` would belong to every wheel that ships one. This works wherever the engine keeps
its store (the harness's install trees, uv's cache, pex's `installed_wheels`, copies inside
site-packages) and however it placed the file (symlink, hard link, copy), because it reads only
the bytes and the wheels' own word about them.

Identical bytes at identical paths in two wheels (two builds of `pydantic_core` share
`__init__.py`; protobuf 5 and 6 share modules) are told apart by what sits at the root of the
store the file lives in: the owning wheel's `WHEEL` file (its bytes carry the build's tags), or
at least its dist-info directory. What no wheel lists was written by the engine: no owner.
A directory is owned by the set of wheels owning the files beneath it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.supply.wheel import read_listing

_CHUNK = 1 << 20
_SKIPPED_DIRS = ("__pycache__",)


@dataclass(frozen=True)
class Row:
    """One RECORD row, routed: `path` is relative to where the file lands (site-packages for
    purelib/platlib and root members, the prefix for `.data/data`, ...)."""

    label: str
    where: str  # site-packages, scripts, headers, data
    path: str
    algorithm: str
    digest: str  # urlsafe base64, no padding, as RECORD writes it


@dataclass(frozen=True)
class WheelRecord:
    """What one wheel says about its own files: every hashed RECORD row, routed."""

    label: str
    name: str  # normalized distribution name
    version: str
    dist_info: str
    rows: tuple[Row, ...]

    @property
    def wheel_file_row(self) -> Row | None:
        """The row of `<dist-info>/WHEEL`: its bytes name the build (tags)."""
        wanted = f"{self.dist_info}/WHEEL"
        return next((r for r in self.rows if r.path == wanted), None)


@dataclass(frozen=True, order=True)
class Owner:
    """The wheels behind a file or directory and its path inside them.

    One label for a file told apart; several when identical bytes could not be told apart, or
    for a directory (every wheel owning a file beneath it, in wheel order).
    """

    labels: tuple[str, ...]
    path: str

    @property
    def label(self) -> str:
        return " + ".join(self.labels)

    def names(self, wanted: str) -> bool:
        return wanted in self.labels


def read_wheel_record(wheel_path: Path, label: str, filename: str | None = None) -> WheelRecord:
    """Every hashed RECORD row of a wheel file, read from the archive (checked structurally)."""
    return _read_wheel_record(str(wheel_path), label, filename)


@lru_cache(maxsize=512)
def _read_wheel_record(wheel_path: str, label: str, filename: str | None) -> WheelRecord:
    from harness.facts import split_dist_info

    listing = read_listing(Path(wheel_path), filename)
    rows = tuple(
        Row(label, m.subdir, m.path, m.record.hash_.name.lower(), m.record.hash_.value)
        for m in listing.members
        if m.record is not None and m.record.hash_ is not None
    )
    name, version = split_dist_info(listing.dist_info)
    return WheelRecord(label, name, version, listing.dist_info, rows)


def _segments_suffix(real: str, path: str) -> str | None:
    """The store root when `path` is a whole-segment suffix of `real`, else None."""
    if real == path:
        return ""
    if real.endswith("/" + path):
        return real[: -len(path) - 1]
    return None


def file_digest(real: str, algorithm: str) -> str | None:
    """RECORD-style digest of a file (cached by inode, size and mtime); None if unreadable."""
    try:
        st = os.stat(real)
    except OSError:
        return None
    return _digest(real, algorithm, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=65536)
def _digest(real: str, algorithm: str, dev: int, ino: int, size: int, mtime: int) -> str | None:
    try:
        digest = hashlib.new(algorithm)
        with open(real, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except (OSError, ValueError):
        return None
    return base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")


class Ownership:
    """Attribute real paths to wheels by content (see the module docstring)."""

    def __init__(self, records: Sequence[WheelRecord]) -> None:
        self.records = tuple(records)
        self._order = {r.label: i for i, r in enumerate(self.records)}
        self._by_label = {r.label: r for r in self.records}
        self._rows: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for record in self.records:
            for row in record.rows:
                self._rows[(row.algorithm, row.digest)].append(row)
        self._algorithms = sorted({a for a, _ in self._rows})
        self._files: dict[str, Owner | None] = {}
        self._dirs: dict[str, Owner | None] = {}

    def __call__(self, real: str | None) -> Owner | None:
        return self.owner_of(real)

    def owner_of(self, real: str | None) -> Owner | None:
        """The owner of a real path (file or directory), or None when no wheel ships it."""
        if not real:
            return None
        if os.path.isdir(real):
            return self.dir_owner(real)
        return self.file_owner(real)

    def file_owner(self, real: str) -> Owner | None:
        if real not in self._files:
            self._files[real] = self._file_owner(real)
        return self._files[real]

    def _file_owner(self, real: str) -> Owner | None:
        candidates: list[tuple[Row, str]] = []
        for algorithm in self._algorithms:
            digest = file_digest(real, algorithm)
            if digest is None:
                continue
            for row in self._rows.get((algorithm, digest), ()):
                root = _segments_suffix(real, row.path)
                if root is not None:
                    candidates.append((row, root))
        if not candidates:
            return None
        # The longest matching path is the most specific claim (`a/b/x.py` beats `x.py`).
        longest = max(len(row.path) for row, _ in candidates)
        candidates = [(row, root) for row, root in candidates if len(row.path) == longest]
        scored = [(self._store_score(row.label, root), row) for row, root in candidates]
        best = max(score for score, _ in scored)
        labels = sorted({row.label for score, row in scored if score == best}, key=self._order.get)
        return Owner(tuple(labels), candidates[0][0].path)

    def _store_score(self, label: str, root: str) -> int:
        """2: the wheel's own WHEEL file sits at the store root; 1: its dist-info does; 0."""
        record = self._by_label[label]
        dist_info = os.path.join(root, record.dist_info)
        if not os.path.isdir(dist_info):
            return 0
        row = record.wheel_file_row
        if row is not None and file_digest(os.path.join(dist_info, "WHEEL"), row.algorithm) == (
            row.digest
        ):
            return 2
        return 1

    def dir_owner(self, real: str) -> Owner | None:
        """Every wheel owning a file beneath `real` (symlinks followed, no loops)."""
        if real not in self._dirs:
            self._dirs[real] = self._dir_owner(real)
        return self._dirs[real]

    def _dir_owner(self, real: str) -> Owner | None:
        labels: set[str] = set()
        path = None
        for file_real, rel in _walk_files(real):
            owner = self.file_owner(file_real)
            if owner is None:
                continue
            labels.update(owner.labels)
            if path is None and owner.path.endswith("/" + rel):
                path = owner.path[: -len(rel) - 1]
        if not labels:
            return None
        return Owner(tuple(sorted(labels, key=self._order.get)), path or "")

    def wheels_at(self, entry: str) -> tuple[str, ...]:
        """Wheels whose dist-info sits directly in `entry` (a sys.path entry), WHEEL checked
        when it can be; wheel order."""
        found = []
        for record in self.records:
            if self._store_score(record.label, entry) == 2:
                found.append(record.label)
        if not found:
            found = [r.label for r in self.records if self._store_score(r.label, entry) == 1]
        return tuple(found)


def _walk_files(root: str) -> Iterable[tuple[str, str]]:
    """(realpath, path relative to root as seen) of every file beneath, sorted, following
    symlinked directories once each."""
    seen: set[str] = set()
    stack = [(root, "")]
    while stack:
        directory, rel = stack.pop()
        real_dir = os.path.realpath(directory)
        if real_dir in seen:
            continue
        seen.add(real_dir)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        for entry in entries:
            sub = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir():
                    if entry.name not in _SKIPPED_DIRS:
                        stack.append((entry.path, sub))
                elif entry.is_file():
                    # in a real directory only a symlink's realpath differs from its path
                    real = entry.path if directory == real_dir else f"{real_dir}/{entry.name}"
                    yield (os.path.realpath(entry.path) if entry.is_symlink() else real), sub
            except OSError:
                continue


__all__ = ["Owner", "Ownership", "Row", "WheelRecord", "file_digest", "read_wheel_record"]
