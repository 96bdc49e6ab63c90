"""What `harness.supply.archive.inspect_archive` found in a wheel: its checked members and RECORD.

These types live apart from `harness.supply.wheel`, which re-exports them, because only a wheel being
checked needs them: a warm run answers from remembered listings and never creates the two
classes (a frozen dataclass costs ~0.5 ms to set up in every process that defines it).
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


__all__ = ["Member", "WheelListing"]
