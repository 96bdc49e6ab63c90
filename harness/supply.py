"""Wheel supply: pins → the right file for an interpreter → verified file, install tree, facts.

Selection follows the target's own tag preference order (`Interpreter.tags`), so a pin with a
cp39 and a cp313 build gives each interpreter its own file. Pins given on the command line as
`NAME==VERSION` are locked through the index on the fly; the index's file list for that exact
version is remembered in `<cache>/pins/` (released files do not change), so a second run and
offline runs need no index request. `harness lock` always asks the index afresh.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from harness import cases as case_files
from harness import names
from harness.cache import WheelCache
from harness.errors import (
    HarnessError,
    IndexError_,
    IntegrityError,
    OfflineError,
)
from harness.interpreters import tags_summary
from harness.logs import lazy_logger
from harness.model import Interpreter, Pin, PreparedWheel, WheelFile

if TYPE_CHECKING:  # the index client is imported where it is used: a case run never needs it
    from harness.index import IndexClient, IndexFile

log = lazy_logger("harness.supply")


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    """A distribution name in a `NAME==VERSION` word (compiled when one is read: ~0.5 ms)."""
    return re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)


# --------------------------------------------------------------------------- selection


def wheel_tags(filename: str) -> frozenset[str]:
    """The tags a wheel file name declares (`py2.py3-none-any` → two tags)."""
    return names.wheel_tags(filename)


@lru_cache(maxsize=32)
def _tag_rank(tags: tuple[str, ...]) -> dict[str, int]:
    return {tag: i for i, tag in enumerate(tags)}


def file_rank(filename: str, interp: Interpreter) -> int | None:
    """Position of the file's best tag in the interpreter's preference order (lower wins)."""
    ranks = _tag_rank(interp.tags)
    found = [ranks[t] for t in wheel_tags(filename) if t in ranks]
    return min(found) if found else None


def compatible(filename: str, interps: Sequence[Interpreter]) -> bool:
    """True when any interpreter accepts the file (every wheel when no interpreter is given)."""
    return not interps or any(file_rank(filename, i) is not None for i in interps)


def platform_rank(filename: str, interp: Interpreter, platform: str) -> int | None:
    """Rank of a file built for `platform` by the interpreter's own python/abi preference
    order, whatever platforms the interpreter itself accepts (None: not for this target)."""
    order: dict[tuple[str, str], int] = {}
    for tag in interp.tags:
        python, abi, _plat = tag.split("-")
        order.setdefault((python, abi), len(order))
    found = []
    for tag in wheel_tags(filename):
        python, abi, plat = tag.split("-")
        if plat == platform and (python, abi) in order:
            found.append(order[(python, abi)])
    return min(found) if found else None


def select_file(pin: Pin, interp: Interpreter) -> WheelFile:
    """The pin's file for `interp`: `pin.filename` if forced, the best file built for
    `pin.platform` if one is named, else the best-ranked one."""
    if pin.platform:
        ranked = sorted(
            (rank, wf.filename, wf)
            for wf in pin.files
            if (rank := platform_rank(wf.filename, interp, pin.platform)) is not None
        )
        if not ranked:
            raise HarnessError(
                f"{pin.name}=={pin.version}: none of its files is built for platform "
                f"{pin.platform} and this interpreter's python/abi tags. Files: "
                f"{', '.join(f.filename for f in pin.files)}. Target: {tags_summary(interp)}. "
                f"Add its {pin.platform} file for Python {interp.short_version}."
            )
        return ranked[0][2]
    if pin.filename:
        for wheel_file in pin.files:
            if wheel_file.filename == pin.filename:
                return wheel_file
        raise HarnessError(
            f"{pin.name}=={pin.version}: forced file {pin.filename} is not among its files "
            f"({', '.join(f.filename for f in pin.files)})"
        )
    ranked = sorted(
        ((rank, wf) for wf in pin.files if (rank := file_rank(wf.filename, interp)) is not None),
        key=lambda item: (item[0], item[1].filename),
    )
    if not ranked:
        raise HarnessError(
            f"{pin.name}=={pin.version}: none of its files fits the target. Files: "
            f"{', '.join(f.filename for f in pin.files) or '(none)'}. Target: "
            f"{tags_summary(interp)}. Lock a file for it (`harness lock {pin.name}=="
            f"{pin.version} --python {interp.short_version}`) or force one with `filename`."
        )
    return ranked[0][1]


def label_for(pin: Pin, wheel_file: WheelFile) -> str:
    return pin.label or wheel_file.filename


# --------------------------------------------------------------------------- index access


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
        from harness.index import default_client

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
    from harness.index import IndexFile

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
    from harness.index import IndexFile

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


def _to_wheel_file(entry: IndexFile, cache: WheelCache) -> WheelFile:
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


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class PinRequest:
    """A command-line wheel: `NAME==VERSION`, or a local `.whl` file (`path` set)."""

    text: str
    name: str
    version: str
    path: Path | None = None


def parse_spec(arg: str) -> PinRequest:
    """`NAME==VERSION` or a path to a local `.whl` (pure: nothing is fetched here)."""
    text = arg.strip()
    if text.endswith(".whl") or (os.sep in text and "==" not in text):
        path = Path(text).expanduser()
        try:
            name, version, _build, _tags = names.parse_wheel_filename(path.name)
        except names.InvalidWheelFilename as exc:
            raise HarnessError(f"{arg}: not a valid wheel file name ({exc})") from exc
        if not path.is_file():
            raise HarnessError(f"{arg}: no such wheel file")
        return PinRequest(text=text, name=name, version=str(version), path=path)
    name, sep, version = text.partition("==")
    name, version = name.strip(), version.strip()
    if not sep or not _name_pattern().fullmatch(name) or not version or "*" in version:
        raise HarnessError(
            f"{arg!r}: expected an exact pin NAME==VERSION (e.g. google==1.9.3), a case name, "
            "or the path of a .whl file"
        )
    try:
        Version(version)
    except InvalidVersion as exc:
        raise HarnessError(f"{arg!r}: {version!r} is not a PEP 440 version") from exc
    return PinRequest(text=text, name=name, version=version)


def lock(
    requirements: Sequence[str | PinRequest],
    interps: Sequence[Interpreter] = (),
    *,
    client: IndexClient | None = None,
    cache: WheelCache | None = None,
    refresh: bool = True,
) -> list[Pin]:
    """Pins with every wheel file (sha256, size) compatible with any of `interps` (all
    wheels when none). Local `.whl` paths are hashed and copied into the cache."""
    cache = cache or WheelCache()
    pins = []
    for requirement in requirements:
        request = parse_spec(requirement) if isinstance(requirement, str) else requirement
        if request.path is not None:
            # Unpack (and so fully verify) the file where it lies first: a corrupt or hostile
            # wheel is refused before anything of it enters the cache.
            from harness import wheel

            wheel.install_tree(request.path, "")
            wheel_file = cache.add_local(request.path)
            pins.append(
                Pin(
                    name=request.name,
                    version=request.version,
                    files=(wheel_file,),
                    label=wheel_file.filename,
                    filename=wheel_file.filename,
                )
            )
            continue
        wheels = version_wheels(
            request.name, request.version, client=client, cache=cache, refresh=refresh
        )
        fitting = [f for f in wheels if compatible(f.filename, interps)]
        if not fitting:
            targets = "; ".join(tags_summary(i) for i in interps)
            raise HarnessError(
                f"{request.name}=={request.version}: none of its wheels fits the requested "
                f"interpreters. Wheels: {', '.join(f.filename for f in wheels)}. Targets: {targets}"
            )
        pins.append(
            Pin(
                name=request.name,
                version=request.version,
                files=tuple(_to_wheel_file(f, cache) for f in fitting),
            )
        )
    return pins


def pins_for_args(
    args: Sequence[str],
    interps: Sequence[Interpreter],
    *,
    cache: WheelCache | None = None,
    client: IndexClient | None = None,
    cases_root: str | Path | None = None,
) -> list[Pin]:
    """Command-line words → pins in order: a case name (its pins, support first), a
    `NAME==VERSION` (locked on the fly, remembered) or a local `.whl`."""
    cache = cache or WheelCache()
    root = Path(cases_root) if cases_root is not None else case_files.default_cases_root()
    pins: list[Pin] = []
    for arg in args:
        if case_files.is_case_name(arg, root):
            pins.extend(case_files.load_case(root / arg).pins)
        else:
            pins.extend(lock([parse_spec(arg)], interps, client=client, cache=cache, refresh=False))
    return pins


# --------------------------------------------------------------------------- preparation


def choose(pins: Iterable[Pin], interp: Interpreter) -> list[tuple[str, WheelFile]]:
    """(label, file) per pin for `interp`; a wheel listed twice keeps its first position."""
    chosen: dict[str, WheelFile] = {}
    for pin in pins:
        wheel_file = select_file(pin, interp)
        label = label_for(pin, wheel_file)
        if label in chosen and chosen[label] != wheel_file:
            raise HarnessError(
                f"label {label!r} names two different wheels: {chosen[label].filename} "
                f"(sha256 {chosen[label].sha256}) and {wheel_file.filename} (sha256 "
                f"{wheel_file.sha256}); give one of them a distinct label"
            )
        chosen.setdefault(label, wheel_file)
    return list(chosen.items())


def _cache_for(cache: WheelCache | None, offline: bool | None) -> WheelCache:
    if cache is None:
        return WheelCache(offline=offline)
    if offline is not None and offline != cache.offline:
        return cache.with_offline(offline)
    return cache


def cache_synthetic(pins: Iterable[Pin], cache: WheelCache) -> None:
    """Case-built wheels enter the cache like local files (verified by unpacking first)."""
    for pin in pins:
        if pin.synthetic is None or cache.get(pin.files[0]) is not None:
            continue
        from harness import wheel

        with tempfile.TemporaryDirectory(prefix="harness-synthetic-") as tmp:
            path = Path(tmp) / pin.files[0].filename
            path.write_bytes(pin.synthetic)
            wheel.install_tree(path, pin.files[0].sha256)
            cache.add_local(path)


def prepare(
    pins: Sequence[Pin],
    interp: Interpreter,
    *,
    offline: bool | None = None,
    cache: WheelCache | None = None,
    client: IndexClient | None = None,
    jobs: int = 4,
) -> list[PreparedWheel]:
    """Select, fetch (in parallel), unpack, compile for `interp` and read facts, in wheel order.

    Compiling here (once per tree and interpreter, `harness.bytecode`) makes every prepared tree
    what an installer leaves, whoever links to it next: our materializer, or an adapter's engine
    that links from the `install_tree` it is handed (docs/adapters.md); no venv's interpreter
    then ever needs to write into a tree.
    """
    from harness import wheel  # the unpacker; imported late to keep selection importable alone
    from harness.bytecode import compile_trees

    cache = _cache_for(cache, offline)
    chosen = choose(pins, interp)
    cache_synthetic(pins, cache)
    results = cache.fetch_all([wf for _, wf in chosen], IndexResolver(client, cache), jobs=jobs)
    failed = [r for r in results if r.error is not None]
    if len(failed) == 1 and failed[0].error is not None:
        raise failed[0].error
    if failed:
        raise HarnessError(
            f"{len(failed)} wheel files could not be fetched: "
            + "; ".join(str(r.error) for r in failed)
        )
    paths = {(r.wheel_file.sha256, r.wheel_file.filename): r.path for r in results}
    prepared = []
    for label, wheel_file in chosen:
        path = paths[(wheel_file.sha256, wheel_file.filename)]
        assert path is not None
        tree = wheel.install_tree(path, wheel_file.sha256)
        facts = wheel.read_facts(path, label=label, sha256=wheel_file.sha256, remember=True)
        prepared.append(PreparedWheel(label=label, path=path, tree=tree, facts=facts))
    compile_trees([p.tree for p in prepared], interp)
    return prepared


def prepare_args(
    args: Sequence[str],
    interp: Interpreter,
    *,
    offline: bool | None = None,
    cache: WheelCache | None = None,
    client: IndexClient | None = None,
) -> list[PreparedWheel]:
    """The CLI path of `facts`, `plan` and `assemble`: words → prepared wheels for `interp`."""
    cache = _cache_for(cache, offline)
    pins = pins_for_args(args, [interp], cache=cache, client=client)
    return prepare(pins, interp, cache=cache, client=client)


__all__ = [
    "IndexResolver",
    "PinRequest",
    "choose",
    "compatible",
    "file_rank",
    "label_for",
    "lock",
    "nearby_versions",
    "parse_spec",
    "pins_for_args",
    "prepare",
    "prepare_args",
    "select_file",
    "version_wheels",
    "wheel_tags",
]
