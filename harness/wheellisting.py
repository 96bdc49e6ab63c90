"""What `harness.wheel` lists of a wheel: its checked members and RECORD (`inspect_archive`),
and the files of its install tree (`tree_files`).

These types live apart from `harness.wheel`, which re-exports them, because only a wheel being
checked, or a tree being merged or verified, needs them: a warm run that merges nothing never
creates these classes (a frozen dataclass costs ~0.5 ms to set up in every process that defines
one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installer.records import RecordEntry


@dataclass(frozen=True)
class Member:
    """One file member of a checked wheel and where it lands in the install tree."""

    name: str  # the archive name (POSIX, validated)
    subdir: str  # one of TREE_SUBDIRS
    path: str  # relative to subdir
    executable: bool
    record: RecordEntry | None  # None for RECORD itself and its signatures: not hashed


@dataclass(frozen=True)
class WheelListing:
    """A wheel archive whose names, RECORD and metadata files passed every structural check.

    Sizes are checked against the zip headers here; hashes need the bytes and are checked
    while extracting (`install_tree`).
    """

    filename: str
    dist_info: str  # the dist-info directory that holds RECORD, as spelled in the archive
    members: tuple[Member, ...]  # archive order
    record_paths: tuple[str, ...]  # every RECORD row's path, RECORD order
    entry_points_text: str


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


__all__ = ["Member", "TreeFile", "WheelListing"]
