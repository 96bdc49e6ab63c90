"""What the index lists, asked once and remembered: a pinned file's URL, a version's wheels.

The index's file list for an exact `NAME==VERSION` is remembered in `<cache>/pins/` (released
files do not change), so a second run and offline runs need no index request; `harness lock`
asks the index afresh (`refresh=True`). The index client is imported where it is used: a case
run never needs it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from harness import names
from harness.errors import HarnessError, IndexError_, IntegrityError, OfflineError
from harness.logs import lazy_logger
from harness.model import WheelFile
from harness.supply.cache import WheelCache

if TYPE_CHECKING:
    from harness.supply.index import IndexClient, IndexFile

__all__ = ["IndexResolver", "nearby_versions", "to_wheel_file", "version_wheels"]

log = lazy_logger("harness.supply")  # the logger these warnings have always gone to


class IndexResolver:
    """Maps a pinned file to its URL on the index (one page request per project, per run),
    refusing a file the index now lists with another sha256."""

    def __init__(self, client: IndexClient | None = None, cache: WheelCache | None = None) -> None:
        self._client = client
        self._cache = cache  # its client, if it has one, is used (looked up only when needed)
        self._pages: dict[str, list[IndexFile]] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> IndexClient:
        if self._client is not None:
            return self._client
        if self._cache is not None:
            return self._cache.client
        from harness.supply.index import default_client

        return default_client()

    def files(self, name: str) -> list[IndexFile]:
        key = names.canonicalize_name(name)
        with self._lock:
            if key not in self._pages:
                self._pages[key] = self.client.project_files(key)
            return self._pages[key]

    def __call__(self, wheel_file: WheelFile) -> str:
        name = names.parse_wheel_filename(wheel_file.filename)[0]
        listed = self.files(name)
        for entry in listed:
            if entry.filename != wheel_file.filename:
                continue
            if entry.sha256 and entry.sha256 != wheel_file.sha256:
                raise IntegrityError(
                    f"{wheel_file.filename}: the index lists sha256 {entry.sha256}, the pin "
                    f"says {wheel_file.sha256}; the pin or the index is wrong, nothing fetched"
                )
            return entry.url
        raise IndexError_(
            f"{wheel_file.filename}: not listed on the index page {self.client.project_url(name)}"
            f" ({len(listed)} files listed)"
        )


def _version_of(filename: str) -> Version | None:
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename

    try:
        if filename.endswith(".whl"):
            return names.parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (names.InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def nearby_versions(files: Iterable[IndexFile], version: Version, count: int = 6) -> list[str]:
    """The versions the index has that sort closest to `version` (for a not-found error)."""
    versions = sorted({v for f in files if (v := _version_of(f.filename)) is not None})
    if not versions:
        return []
    position = sum(1 for v in versions if v < version)
    start = max(0, position - count // 2)
    return [str(v) for v in versions[start : start + count]]


def _memo_path(cache: WheelCache, name: str, version: str) -> Path:
    return cache.root / "pins" / f"{names.canonicalize_name(name)}-{Version(version)}.json"


def _read_memo(cache: WheelCache, name: str, version: str) -> list[IndexFile] | None:
    from harness.supply.index import IndexFile

    try:
        document = json.loads(_memo_path(cache, name, version).read_text(encoding="utf-8"))
        return [IndexFile(**entry) for entry in document["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_memo(cache: WheelCache, name: str, version: str, files: list[IndexFile]) -> None:
    """Atomic write, so a concurrent reader sees the old memo or the new one, never half."""
    path = _memo_path(cache, name, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"files": [dataclasses.asdict(f) for f in files], "name": name, "version": version},
        indent=2,
        sort_keys=True,
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def version_wheels(
    name: str,
    version: str,
    *,
    client: IndexClient | None = None,
    cache: WheelCache | None = None,
    refresh: bool = True,
) -> list[IndexFile]:
    """Every wheel file the index has for exactly `name==version`, sorted by file name.

    Errors: no such project, no such version (listing nearby ones), or sdist only.
    """
    from harness.supply.index import IndexFile

    cache = cache or WheelCache()
    if not refresh or cache.offline:
        remembered = _read_memo(cache, name, version)
        if remembered is not None:
            return remembered
    if cache.offline:
        cached = cache.find(name, version)
        if not cached:
            raise OfflineError(
                f"offline mode (HARNESS_OFFLINE=1 or --offline): {name}=={version} was never "
                f"locked or fetched with the cache {cache.root}, so its files are unknown; run "
                f"once online (`harness fetch {name}=={version}`)"
            )
        return [IndexFile(wf.filename, "", wf.sha256, wf.size) for wf in cached]
    client = client or cache.client
    listed = client.project_files(name)
    wanted = Version(version)
    wanted_name = names.canonicalize_name(name)
    of_version = [f for f in listed if _version_of(f.filename) == wanted]
    wheels = []
    for entry in of_version:
        if not entry.filename.endswith(".whl"):
            continue
        try:
            wheel_name, wheel_version, _b, _t = names.parse_wheel_filename(entry.filename)
        except names.InvalidWheelFilename:
            log.warning("ignoring %s: not a valid wheel file name", entry.filename)
            continue
        if wheel_name == wanted_name and wheel_version == wanted:
            wheels.append(entry)
    if not of_version:
        near = nearby_versions(listed, wanted)
        raise HarnessError(
            f"{name}=={version}: the index has no such version (nearby: "
            f"{', '.join(near) or 'no versions at all'})"
        )
    if not wheels:
        raise HarnessError(
            f"{name}=={version}: the index has only source distributions for this version "
            f"({', '.join(f.filename for f in of_version)}), no wheel; the harness installs "
            "wheels only, so pin a version that has wheels"
        )
    wheels.sort(key=lambda f: f.filename)
    _write_memo(cache, name, version, wheels)
    return wheels


def to_wheel_file(entry: IndexFile, cache: WheelCache) -> WheelFile:
    """The pinned form of a file the index lists: its sha256 and size (fetched to learn the
    size when the index does not say it)."""
    if not entry.sha256:
        raise IndexError_(
            f"{entry.filename}: the index lists no sha256 for it ({entry.url}); it cannot be pinned"
        )
    if entry.yanked:
        log.warning("%s is yanked on the index; pinning it anyway", entry.filename)
    if entry.size is not None:
        return WheelFile(filename=entry.filename, sha256=entry.sha256, size=entry.size)
    for cached in cache.find_by_sha(entry.sha256):
        if cached.filename == entry.filename and cache.get(cached) is not None:
            return cached
    # The index did not say how big it is (HTML pages never do): fetch it to find out.
    return cache.download_unpinned(entry.filename, entry.sha256, entry.url)
