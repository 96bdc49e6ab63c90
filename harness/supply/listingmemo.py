"""Checked wheel listings remembered on disk per sha256, so a warm run reads no wheel again.

What the checks of `harness.supply.archive` found in a wheel (its dist-info, RECORD's rows,
entry_points.txt) is a function of the bytes and the file name. Once they passed on bytes hashed
to a sha256, it is written to `<cache>/listings/<sha256>.json`, and `harness.supply.wheel.read_facts`
and `harness.supply.wheel.tree_files` answer from it: no zip is opened, no RECORD parsed, and
pypa/installer is never imported. A wheel that fails the checks is never remembered, so it
fails the same way every time.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from harness import config
from harness.supply.digests import file_sha256

if TYPE_CHECKING:
    from installer.records import RecordEntry

    from harness.supply.wheellisting import WheelListing

__all__ = [
    "LISTING_FORMAT",
    "listing_document",
    "listings_dir",
    "recall_listing",
    "remember_listing",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")

# Bump when a check of `inspect_archive` or the routing changes: every listing is checked again.
LISTING_FORMAT = "harness-wheel-listing 1"


def listings_dir() -> Path:
    """Where checked listings are remembered: `<cache>/listings/<sha256>.json`."""
    return config.cache_dir() / "listings"


def listing_document(sha256: str) -> dict | None:
    """The remembered listing of `sha256` in the current format, or None (absent, unreadable,
    another format: the caller reads the wheel instead)."""
    if not _SHA256.fullmatch(sha256):
        return None
    try:
        doc = json.loads((listings_dir() / f"{sha256}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != LISTING_FORMAT:
        return None
    if doc.get("sha256") != sha256:
        return None
    return doc


def recall_listing(sha256: str, wheel: str, wheel_path: Path) -> dict | None:
    """The listing remembered for these bytes under this file name; the file must be there
    with the remembered size (a caller's wrong sha256 then reads the archive, not a stranger's
    listing)."""
    doc = listing_document(sha256.strip().lower())
    if doc is None or doc.get("filename") != wheel:
        return None
    try:
        if os.stat(wheel_path).st_size != doc.get("size"):
            return None
    except OSError:
        return None
    return doc


def remember_listing(
    sha256: str,
    wheel: str,
    wheel_path: Path,
    listing: WheelListing,
    entries: dict[str, RecordEntry],
) -> None:
    """Best effort and atomic: a listing is written only for a file that hashes to `sha256`
    (so a memo never describes other bytes), and a cache that cannot be written is skipped."""
    sha256 = sha256.strip().lower()
    if not _SHA256.fullmatch(sha256):
        return
    try:
        size = os.stat(wheel_path).st_size
        if file_sha256(wheel_path) != sha256:
            return
        directory = listings_dir()
        directory.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": LISTING_FORMAT,
            "sha256": sha256,
            "filename": wheel,
            "size": size,
            "dist_info": listing.dist_info,
            "paths": list(listing.record_paths),
            "entries": {
                path: [
                    entry.hash_.name if entry.hash_ else None,
                    entry.hash_.value if entry.hash_ else None,
                    entry.size,
                ]
                for path, entry in entries.items()
            },
            "entry_points": listing.entry_points_text,
        }
        final = directory / f"{sha256}.json"
        partial = final.with_name(f"{final.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
        os.replace(partial, final)
    except OSError:
        return
