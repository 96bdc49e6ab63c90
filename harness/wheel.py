"""One wheel file → a checked archive listing, layout facts, and a read-only install tree.

The install tree of a wheel is built once per sha256 under the trees directory:

    <trees>/<sha256>/site-packages/   root members, plus `.data/purelib` and `.data/platlib`
                     scripts/         `.data/scripts`   (bytes as shipped: no shebang rewrite)
                     headers/         `.data/headers`
                     data/            `.data/data`      (prefix-relative)
                     .complete        written last: the tree is whole

The tree is interpreter-independent (nothing is generated, nothing rewritten), so one tree
serves every venv and every target CPython. It is extracted into `<trees>/tmp/`, made read-only,
and renamed into place: the rename is the commit, so a reader either sees no tree or a complete
one. An inter-process lock per sha256 makes parallel workers unpack a wheel once.

Every member is checked before anything is trusted: its name (no absolute path, `..`, `.`,
backslash, empty segment, symlink, duplicate, case twin), its RECORD row (present, hash and size
equal), and every RECORD row has a member. pypa/installer provides the spec-compliant pieces
used here: RECORD parsing and row validation (`installer.records`), the `.data` scheme names and
the WHEEL file parser (`installer.utils`). Its `WheelFile` source and `install()` are not used:
they derive the `.data` directory from the wheel *file* name (wrong for InquirerPy 0.3.4, which
ships `inquirerpy-0.3.4.dist-info`), skip `__pycache__` members (so the tree would disagree with
RECORD), generate interpreter-specific script wrappers and rewrite RECORD, and report a bad hash
without the expected and actual values.

A warm run reads none of that again. What the checks found in a wheel (its dist-info, RECORD's
rows, entry_points.txt) is remembered on disk per sha256, once the checks passed on bytes hashed
to that sha256 (`<cache>/listings/<sha256>.json`, `read_facts(..., remember=True)`), and
`read_facts` and `tree_files` answer from it: no zip is opened, no RECORD parsed, and
pypa/installer (~30 ms to import, with `email`) is imported only when a wheel is checked.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from harness import config, names
from harness.errors import IntegrityError, WheelError
from harness.facts import derive_facts
from harness.model import InstallTree, WheelFacts

if TYPE_CHECKING:  # pypa/installer is imported where a wheel's RECORD or WHEEL is parsed
    import hashlib

    from installer.records import RecordEntry

    from harness.wheellisting import Member, WheelListing

__all__ = [
    "TREE_FORMAT",
    "TREE_SUBDIRS",
    "Member",
    "TreeFile",
    "WheelListing",
    "file_digest",
    "file_sha256",
    "hash_matches",
    "inspect_archive",
    "install_tree",
    "is_complete_tree",
    "listings_dir",
    "read_facts",
    "read_listing",
    "site_files",
    "tree_dist_info",
    "tree_files",
    "tree_format",
    "wheel_dist_info",
]

# Bump when the tree layout changes: old trees rebuild. 2: the marker names the dist-info (so
# RECORD is found without a directory walk), and trees of format 1 were written into at run time
# by the interpreters that imported from them (bytecode), so none of them is trusted again.
TREE_FORMAT = "harness-install-tree 2"
COMPLETE_MARKER = ".complete"
TREE_SUBDIRS = ("site-packages", "scripts", "headers", "data")
# installer.utils.SCHEME_NAMES, restated so routing a remembered listing needs no installer import
# (tests/unit/test_warm_path.py holds the two equal).
SCHEME_NAMES = ("purelib", "platlib", "headers", "scripts", "data")
_SCHEME_DIRS = {
    "purelib": "site-packages",
    "platlib": "site-packages",
    "scripts": "scripts",
    "headers": "headers",
    "data": "data",
}
_SIGNATURES = ("RECORD.jws", "RECORD.p7s")  # signatures of RECORD are never listed in it
_WEAK_HASHES = frozenset({"md5", "sha1", "sha224"})  # the spec asks for sha256 or stronger
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LOCK_TIMEOUT_S = 1800.0  # a huge wheel (torch) unpacks in minutes; a stuck peer must not hang us
_CHUNK = 1 << 20
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)


# --------------------------------------------------------------------------- errors


def _error(wheel: str, member: str | None, rule: str, detail: str) -> WheelError:
    """One paragraph: the wheel, the member, what is wrong (expected vs actual), the rule."""
    where = f"member `{member}`" if member is not None else "the archive"
    return WheelError(
        f"wheel {wheel}: {where}: {detail}. Rule broken: {rule}. The wheel is refused and "
        "nothing was installed from it."
    )


# --------------------------------------------------------------------------- listing


def __getattr__(name: str) -> Any:
    """`Member` and `WheelListing`, defined in `harness.wheellisting` (made when first used)."""
    if name in ("Member", "WheelListing"):
        from harness import wheellisting

        return getattr(wheellisting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _member_name_problem(name: str) -> tuple[str, str] | None:
    """(rule, detail) when an archive name could land outside its tree or alias another."""
    if "\x00" in name:
        return ("member names hold no NUL byte", "the name contains a NUL byte")
    if "\\" in name:
        return (
            "member paths use `/` only (no backslash)",
            "the name contains a backslash, which some platforms read as a separator",
        )
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return (
            "member paths are relative (no absolute path or drive)",
            "the path is absolute and would be written outside the install tree",
        )
    segments = name.split("/")
    if "" in segments:
        return ("member paths have no empty segment", "the path has an empty segment (`//`)")
    if ".." in segments:
        return (
            "member paths have no `..` segment (nothing may escape the tree)",
            "a `..` segment would escape the install tree",
        )
    if "." in segments:
        return ("member paths have no `.` segment", "the path has a `.` segment")
    return None


def wheel_dist_info(archive: zipfile.ZipFile, filename: str | None = None) -> str:
    """The top-level `*.dist-info` directory that holds RECORD, as spelled in the archive.

    Read from the archive, never derived from the file name (InquirerPy 0.3.4 ships
    `inquirerpy-0.3.4.dist-info`): the `.data` directory stem follows it.
    """
    wheel = filename or os.path.basename(archive.filename or "<wheel>")
    holders = sorted(
        {
            name.split("/")[0]
            for name in archive.namelist()
            if re.fullmatch(r"[^/]+\.dist-info/RECORD", name)
        }
    )
    if not holders:
        dist_infos = sorted(
            {n.split("/")[0] for n in archive.namelist() if n.split("/")[0].endswith(".dist-info")}
        )
        found = ", ".join(dist_infos) if dist_infos else "no .dist-info directory at all"
        member = f"{dist_infos[0]}/RECORD" if dist_infos else "<name>-<version>.dist-info/RECORD"
        raise _error(
            wheel,
            member,
            "every wheel has exactly one `<name>-<version>.dist-info/RECORD`",
            f"RECORD is missing (expected one `*.dist-info/RECORD`, found {found})",
        )
    if len(holders) > 1:
        raise _error(
            wheel,
            f"{holders[1]}/RECORD",
            "every wheel has exactly one `<name>-<version>.dist-info/RECORD`",
            f"{len(holders)} dist-info directories hold a RECORD ({', '.join(holders)})",
        )
    return holders[0]


def _check_dist_info_matches_filename(wheel: str, dist_info: str) -> None:
    """The dist-info's distribution (and version) must be the file name's, up to normalisation."""
    try:
        file_name, file_version, _build, _tags = names.parse_wheel_filename(wheel)
    except names.InvalidWheelFilename as exc:
        raise _error(
            wheel,
            None,
            "a wheel file is named `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`",
            f"the file name is not a valid wheel file name ({exc})",
        ) from None
    stem = dist_info.removesuffix(".dist-info")
    info_name, _, info_version = stem.rpartition("-")
    if names.canonicalize_name(info_name or stem) != file_name:
        raise _error(
            wheel,
            dist_info,
            "the dist-info directory names the distribution the wheel file name names",
            f"the file name says distribution `{file_name}`, the archive's dist-info says "
            f"`{names.canonicalize_name(info_name or stem)}`",
        )
    with contextlib.suppress(InvalidVersion):
        if info_version and Version(info_version) != file_version:
            raise _error(
                wheel,
                dist_info,
                "the dist-info directory carries the version the wheel file name carries",
                f"the file name says version `{file_version}`, the dist-info says `{info_version}`",
            )


def _check_wheel_version(archive: zipfile.ZipFile, wheel: str, dist_info: str) -> None:
    member = f"{dist_info}/WHEEL"
    try:
        text = archive.read(member).decode("utf-8")
    except KeyError:
        raise _error(
            wheel,
            member,
            "every wheel has a `WHEEL` file in its dist-info",
            "the WHEEL file is missing",
        ) from None
    except UnicodeDecodeError as exc:
        raise _error(wheel, member, "WHEEL is UTF-8 text", f"it is not UTF-8 ({exc})") from None
    from installer.utils import parse_metadata_file

    version = (parse_metadata_file(text)["Wheel-Version"] or "").strip()
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) != 1:
        raise _error(
            wheel,
            member,
            "only `Wheel-Version` 1.x is supported (a new major version may change the layout)",
            f"expected Wheel-Version 1.x, found {version or 'no Wheel-Version field'!r}",
        )


def _parse_record(
    archive: zipfile.ZipFile, wheel: str, dist_info: str
) -> tuple[dict[str, RecordEntry], tuple[str, ...]]:
    """(rows by path, row paths in RECORD order), parsed with installer: three CSV fields, a
    known hash algorithm, an integer size."""
    member = f"{dist_info}/RECORD"
    try:
        text = archive.read(member).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(wheel, member, _RECORD_RULE, f"RECORD is not UTF-8 ({exc})") from None
    return _parse_record_text(text, wheel, member)


_RECORD_RULE = "RECORD is UTF-8 CSV with three fields per row: path, hash (`algo=value`), size"


def _parse_record_text(
    text: str, wheel: str, member: str
) -> tuple[dict[str, RecordEntry], tuple[str, ...]]:
    from installer.records import InvalidRecordEntry, RecordEntry, parse_record_file

    rule = _RECORD_RULE
    lines = [line for line in text.splitlines() if line.strip()]
    entries: dict[str, RecordEntry] = {}
    paths: list[str] = []
    try:
        for index, (path, hash_, size) in enumerate(parse_record_file(lines)):
            paths.append(path)
            try:
                entry = RecordEntry.from_elements(path, hash_, size)
            except InvalidRecordEntry as exc:
                raise InvalidRecordEntry(
                    elements=exc.elements,
                    issues=[f"row {index + 1} ({path!r}): {issue}" for issue in exc.issues],
                ) from None
            previous = entries.get(entry.path)
            if previous is not None and previous != entry:
                raise _error(
                    wheel,
                    member,
                    "RECORD lists each path once",
                    f"`{entry.path}` has two different rows ({previous.to_row()} and "
                    f"{entry.to_row()})",
                )
            entries[entry.path] = entry
    except InvalidRecordEntry as exc:
        raise _error(
            wheel, member, rule, f"RECORD cannot be parsed: {'; '.join(exc.issues)}"
        ) from None
    return entries, tuple(paths)


def _route(name: str, data_dir: str, wheel: str) -> tuple[str, str]:
    """(tree subdir, relative path) for an archive member (PEP 427 `.data` routing)."""
    segments = name.split("/")
    if segments[0] != data_dir:
        return "site-packages", name
    if len(segments) < 3 or segments[1] not in SCHEME_NAMES:
        raise _error(
            wheel,
            name,
            f"a `{data_dir}/` member lies under one of {', '.join(SCHEME_NAMES)}",
            f"`{segments[1] if len(segments) > 2 else name}` is not a known `.data` category",
        )
    return _SCHEME_DIRS[segments[1]], "/".join(segments[2:])


def inspect_archive(archive: zipfile.ZipFile, filename: str | None = None) -> WheelListing:
    """Check every structural rule of a wheel without reading member contents.

    Names first (they are the attack surface), then the dist-info, WHEEL and RECORD, then
    RECORD against the archive (every member listed, every row present, sizes equal).
    """
    from harness.wheellisting import Member, WheelListing

    wheel = filename or os.path.basename(archive.filename or "<wheel>")
    infos = [info for info in archive.infolist() if not info.filename.endswith("/")]
    seen: set[str] = set()
    folded: dict[str, str] = {}
    for info in infos:
        name = info.filename
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _error(
                wheel,
                name,
                "wheel members are regular files (no symlinks)",
                "the member is a symlink, which could point outside the install tree",
            )
        problem = _member_name_problem(name)
        if problem:
            raise _error(wheel, name, *problem)
        if name in seen:
            raise _error(
                wheel,
                name,
                "each member appears once in the archive",
                "the member appears twice, so which copy is installed would be arbitrary",
            )
        seen.add(name)
        twin = folded.setdefault(name.casefold(), name)
        if twin != name:
            raise _error(
                wheel,
                name,
                "no two members differ only in case",
                f"it differs only in case from `{twin}`; on a case-insensitive file system one "
                "would overwrite the other",
            )

    dist_info = wheel_dist_info(archive, wheel)
    _check_dist_info_matches_filename(wheel, dist_info)
    _check_wheel_version(archive, wheel, dist_info)
    entries, record_paths = _parse_record(archive, wheel, dist_info)
    record_member = f"{dist_info}/RECORD"
    data_dir = dist_info.removesuffix(".dist-info") + ".data"

    members: list[Member] = []
    destinations: dict[str, str] = {}  # casefolded "subdir/path" → member name
    for info in infos:
        name = info.filename
        subdir, path = _route(name, data_dir, wheel)
        target = f"{subdir}/{path}"
        other = destinations.setdefault(target.casefold(), name)
        if other != name:
            raise _error(
                wheel,
                name,
                "two members never install to the same path",
                f"it installs to {target}, as `{other}` does",
            )
        signature = name.startswith(f"{dist_info}/") and name.rsplit("/", 1)[-1] in _SIGNATURES
        entry = entries.pop(name, None)
        if name == record_member or signature:
            entry = None
        elif entry is None:
            raise _error(
                wheel,
                name,
                "every member is listed in RECORD",
                "the archive holds the member but RECORD has no row for it",
            )
        elif entry.hash_ is None:
            raise _error(
                wheel,
                name,
                "every RECORD row except RECORD's own carries a hash",
                "its RECORD row has an empty hash field",
            )
        elif entry.hash_.name.lower() in _WEAK_HASHES:
            raise _error(
                wheel,
                name,
                "RECORD hashes use sha256 or stronger",
                f"its RECORD row uses {entry.hash_.name}",
            )
        elif entry.size is not None and entry.size != info.file_size:
            raise _error(
                wheel,
                name,
                "each member's size equals its RECORD size",
                f"RECORD says {entry.size} bytes, the archive holds {info.file_size} bytes",
            )
        executable = bool((info.external_attr >> 16) & 0o111)
        members.append(Member(name, subdir, path, executable, entry))

    # A file and a directory of the same installed path cannot both exist.
    files = {f"{m.subdir}/{m.path}" for m in members}
    for m in members:
        parts = f"{m.subdir}/{m.path}".split("/")
        for depth in range(2, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in files:
                raise _error(
                    wheel,
                    m.name,
                    "a member path is either a file or a directory",
                    f"it needs {prefix} to be a directory, but another member is that file",
                )

    absent = sorted(p for p in entries if not p.endswith("/") and p != record_member)
    if absent:
        raise _error(
            wheel,
            absent[0],
            "every RECORD row names a file in the archive",
            "RECORD lists it but the archive has no such member"
            + (f" ({len(absent)} such rows: {', '.join(absent[:5])})" if len(absent) > 1 else ""),
        )

    entry_points_member = f"{dist_info}/entry_points.txt"
    entry_points_text = ""
    if entry_points_member in seen:
        try:
            entry_points_text = archive.read(entry_points_member).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _error(
                wheel, entry_points_member, "entry_points.txt is UTF-8", f"it is not ({exc})"
            ) from None

    return WheelListing(
        filename=wheel,
        dist_info=dist_info,
        members=tuple(members),
        record_paths=record_paths,
        entry_points_text=entry_points_text,
    )


@contextlib.contextmanager
def _open_archive(wheel_path: Path, wheel: str) -> Iterator[zipfile.ZipFile]:
    """The wheel as a zip; a file that is not one (or is cut short) is a WheelError."""
    try:
        archive = zipfile.ZipFile(wheel_path)
    except FileNotFoundError:
        raise WheelError(f"wheel {wheel}: no such file: {wheel_path}") from None
    except (*_ZIP_READ_ERRORS, OSError) as exc:
        raise _error(
            wheel,
            None,
            "a wheel is a complete zip archive (PEP 427)",
            f"{wheel_path} is not a readable zip archive ({exc}); it may be truncated, "
            "corrupt or not a wheel at all",
        ) from None
    with archive:
        try:
            yield archive
        except _ZIP_READ_ERRORS as exc:
            raise _error(
                wheel,
                None,
                "a wheel is a complete zip archive (PEP 427)",
                f"reading it failed ({type(exc).__name__}: {exc}); it is corrupt or truncated",
            ) from None


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
    remembered = _recall_listing(sha256, wheel, wheel_path) if remember else None
    if remembered is not None:
        dist_info, paths, entry_points_text = (
            remembered["dist_info"],
            remembered["paths"],
            remembered["entry_points"],
        )
    else:
        with _open_archive(wheel_path, wheel) as archive:
            listing = inspect_archive(archive, wheel)
            entries, _ = _parse_record(archive, wheel, listing.dist_info) if remember else ({}, ())
        dist_info, paths, entry_points_text = (
            listing.dist_info,
            listing.record_paths,
            listing.entry_points_text,
        )
        if remember:
            _remember_listing(sha256, wheel, wheel_path, listing, entries)
    return derive_facts(
        label=label,
        dist_info=dist_info,
        record=paths,
        entry_points_text=entry_points_text,
        sha256=sha256,
        filename=wheel,
    )


# --------------------------------------------------------------------------- remembered listings

# Bump when a check of `inspect_archive` or the routing changes: every listing is checked again.
LISTING_FORMAT = "harness-wheel-listing 1"


def listings_dir() -> Path:
    """Where checked listings are remembered: `<cache>/listings/<sha256>.json`."""
    return config.cache_dir() / "listings"


def _listing_document(sha256: str) -> dict | None:
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


def _recall_listing(sha256: str, wheel: str, wheel_path: Path) -> dict | None:
    """The listing remembered for these bytes under this file name; the file must be there
    with the remembered size (a caller's wrong sha256 then reads the archive, not a stranger's
    listing)."""
    doc = _listing_document(sha256.strip().lower())
    if doc is None or doc.get("filename") != wheel:
        return None
    try:
        if os.stat(wheel_path).st_size != doc.get("size"):
            return None
    except OSError:
        return None
    return doc


def _remember_listing(
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


def read_listing(wheel_path: Path, filename: str | None = None) -> WheelListing:
    """The checked listing of a wheel file (names, RECORD rows with their hashes, metadata)."""
    wheel_path = Path(wheel_path)
    wheel = filename or wheel_path.name
    with _open_archive(wheel_path, wheel) as archive:
        return inspect_archive(archive, wheel)


# --------------------------------------------------------------------------- install trees


def file_sha256(path: Path) -> str:
    import hashlib  # (~2.7 ms with OpenSSL: only when bytes are hashed, never on a warm run)

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _marker_text(sha256: str, dist_info: str) -> str:
    return f"{TREE_FORMAT}\n{sha256}\n{dist_info}\n"


def _read_marker(root: Path) -> list[str] | None:
    """[format, sha256, dist-info] of a tree's marker, or None when there is none."""
    try:
        return (Path(root) / COMPLETE_MARKER).read_text().split("\n")
    except (OSError, UnicodeDecodeError):
        return None


def _current(lines: list[str] | None) -> bool:
    return (
        lines is not None
        and len(lines) == 4
        and lines[0] == TREE_FORMAT
        and lines[2].endswith(".dist-info")
        and lines[3] == ""
    )


def is_complete_tree(root: Path, sha256: str) -> bool:
    """True when `root` is a finished tree of this sha256 in the current format."""
    lines = _read_marker(root)
    return _current(lines) and lines is not None and lines[1] == sha256


def tree_format(root: Path) -> str | None:
    """The format line of a tree's marker (None without a marker): `TREE_FORMAT` when current."""
    lines = _read_marker(root)
    return lines[0] if lines else None


def tree_dist_info(root: Path) -> str:
    """The dist-info directory of a complete tree, as its marker names it."""
    root = Path(root)
    lines = _read_marker(root)
    if not _current(lines):
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
    lines = _read_marker(root)
    if not _current(lines):
        tree_dist_info(root)  # raises the error that says why
    assert lines is not None
    dist_info = lines[2]
    marker = os.stat(root / COMPLETE_MARKER)
    key = (str(root), marker.st_ino, marker.st_mtime_ns)
    cached = _tree_files_memo.get(key) if remember else None
    if cached is not None:
        return cached
    member = f"{dist_info}/RECORD"
    doc = _listing_document(lines[1]) if remember else None
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
    data_dir = dist_info.removesuffix(".dist-info") + ".data"
    files = []
    for path in dict.fromkeys(paths):
        if path.endswith("/"):
            continue  # a directory row: nothing to hold
        hash_name, hash_value, size = rows[path]
        subdir, routed = _route(path, data_dir, str(root))
        if path == member:
            hash_name = hash_value = None
        files.append(TreeFile(subdir, routed, hash_name, hash_value, size))
    result = tuple(files)
    _tree_files_memo[key] = result
    return result


def site_files(root: Path) -> tuple[str, ...]:
    """The site-packages paths (relative, POSIX) RECORD lists for the tree at `root`, sorted."""
    return tuple(sorted(f.path for f in tree_files(root) if f.subdir == "site-packages"))


def hash_matches(hash_name: str, expected: str, digest: hashlib._Hash) -> bool:
    """A RECORD hash against a digest of the bytes: urlsafe base64 without padding, or (gmsh
    4.15.2 writes them) the same hash as hex digits."""
    import base64  # hashes are compared only when a tree is built or verified

    actual = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
    return actual == expected or expected.lower() == digest.hexdigest()


def file_digest(path: Path, hash_name: str) -> tuple[hashlib._Hash, int]:
    """(digest, size) of a file with RECORD's algorithm."""
    import hashlib

    digest = hashlib.new(hash_name)
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return digest, size


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


def _extract(archive: zipfile.ZipFile, listing: WheelListing, into: Path) -> None:
    """Write every member into its subdir, checking its bytes against RECORD as they stream."""
    import hashlib

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
            raise _error(
                listing.filename,
                member.name,
                "each member's hash equals its RECORD hash",
                f"RECORD says {entry.hash_.name}={expected}, the member's bytes hash to "
                f"{entry.hash_.name}={actual}",
            )
        if entry.size is not None and size != entry.size:
            raise _error(
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
    with contextlib.suppress(OSError):
        directory.rmdir()


def _build_tree(wheel_path: Path, wheel: str, sha256: str, trees_root: Path, final: Path) -> None:
    tmp_parent = trees_root / "tmp"
    for leftover in sorted(tmp_parent.glob(f"{sha256}-*")):
        _force_rmtree(leftover)  # a build killed before its rename; we hold the lock
    if os.path.lexists(final):
        _force_rmtree(final)  # a tree without its marker (or an old format): rebuild
    tmp = _new_tmp_dir(tmp_parent, sha256)
    try:
        with _open_archive(wheel_path, wheel) as archive:
            listing = inspect_archive(archive, wheel)
            _extract(archive, listing, tmp)
        _make_read_only(tmp)
        marker = tmp / COMPLETE_MARKER
        marker.write_text(_marker_text(sha256, listing.dist_info))
        os.chmod(marker, 0o444)
        os.rename(tmp, final)
        os.chmod(final, 0o555)
    except BaseException:
        _force_rmtree(tmp)
        raise
    finally:
        _remove_if_empty(tmp_parent)


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

    import filelock  # only a tree that is not there yet needs it (~10 ms to import)

    locks = root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    try:
        with filelock.FileLock(locks / f"{sha256}.lock", timeout=_LOCK_TIMEOUT_S):
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
    except filelock.Timeout:
        raise WheelError(
            f"wheel {wheel}: another process has held the unpack lock "
            f"{locks / (sha256 + '.lock')} for over {_LOCK_TIMEOUT_S:.0f} s; if no harness is "
            "running, delete the lock file and retry"
        ) from None
    return InstallTree(final)
