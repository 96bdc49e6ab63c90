"""A wheel archive checked without reading member contents: every rule, or a WheelError.

Every member is checked before anything is trusted: its name (no absolute path, `..`, `.`,
backslash, empty segment, symlink, duplicate, case twin), its RECORD row (present, hashed with
sha256 or stronger, size equal), and every RECORD row has a member. The dist-info that holds
RECORD is read from the archive, never derived from the file name, and must name the file's
distribution and version; WHEEL must say Wheel-Version 1.x. What passes is a `WheelListing`:
each member routed (PEP 427 `.data` routing) to where it lands in an install tree, with its
RECORD row. Member hashes need the bytes: they are checked while extracting (`harness.supply.trees`).

pypa/installer provides the spec-compliant pieces used here: RECORD parsing and row validation
(`installer.records`) and the WHEEL file parser (`installer.utils`), imported only when a wheel is
checked (~30 ms with `email`; a warm run checks none). Every refusal is one paragraph
(`wheel_error`): the wheel, the member, what is wrong (expected vs actual), the rule broken.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from harness import names
from harness.errors import WheelError

if TYPE_CHECKING:  # pypa/installer is imported where a wheel's RECORD or WHEEL is parsed
    from installer.records import RecordEntry

    from harness.supply.wheellisting import Member, WheelListing

__all__ = [
    "RECORD_RULE",
    "SCHEME_NAMES",
    "SIGNATURES",
    "inspect_archive",
    "open_archive",
    "parse_record",
    "parse_record_text",
    "route",
    "wheel_dist_info",
    "wheel_error",
]

# installer.utils.SCHEME_NAMES, restated so routing a remembered listing needs no installer import
# (tests/unit/test_warm_path.py holds the two equal).
SCHEME_NAMES = ("purelib", "platlib", "headers", "scripts", "data")
_SCHEME_DIRS = {  # `.data/<scheme>/` → the install tree's subdir (harness.supply.trees.TREE_SUBDIRS)
    "purelib": "site-packages",
    "platlib": "site-packages",
    "scripts": "scripts",
    "headers": "headers",
    "data": "data",
}
SIGNATURES = ("RECORD.jws", "RECORD.p7s")  # signatures of RECORD are never listed in it
_WEAK_HASHES = frozenset({"md5", "sha1", "sha224"})  # the spec asks for sha256 or stronger
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)


def wheel_error(wheel: str, member: str | None, rule: str, detail: str) -> WheelError:
    """One paragraph: the wheel, the member, what is wrong (expected vs actual), the rule."""
    where = f"member `{member}`" if member is not None else "the archive"
    return WheelError(
        f"wheel {wheel}: {where}: {detail}. Rule broken: {rule}. The wheel is refused and "
        "nothing was installed from it."
    )


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
        raise wheel_error(
            wheel,
            member,
            "every wheel has exactly one `<name>-<version>.dist-info/RECORD`",
            f"RECORD is missing (expected one `*.dist-info/RECORD`, found {found})",
        )
    if len(holders) > 1:
        raise wheel_error(
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
        raise wheel_error(
            wheel,
            None,
            "a wheel file is named `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`",
            f"the file name is not a valid wheel file name ({exc})",
        ) from None
    stem = dist_info.removesuffix(".dist-info")
    info_name, _, info_version = stem.rpartition("-")
    if names.canonicalize_name(info_name or stem) != file_name:
        raise wheel_error(
            wheel,
            dist_info,
            "the dist-info directory names the distribution the wheel file name names",
            f"the file name says distribution `{file_name}`, the archive's dist-info says "
            f"`{names.canonicalize_name(info_name or stem)}`",
        )
    with contextlib.suppress(InvalidVersion):
        if info_version and Version(info_version) != file_version:
            raise wheel_error(
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
        raise wheel_error(
            wheel,
            member,
            "every wheel has a `WHEEL` file in its dist-info",
            "the WHEEL file is missing",
        ) from None
    except UnicodeDecodeError as exc:
        raise wheel_error(
            wheel, member, "WHEEL is UTF-8 text", f"it is not UTF-8 ({exc})"
        ) from None
    from installer.utils import parse_metadata_file

    version = (parse_metadata_file(text)["Wheel-Version"] or "").strip()
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) != 1:
        raise wheel_error(
            wheel,
            member,
            "only `Wheel-Version` 1.x is supported (a new major version may change the layout)",
            f"expected Wheel-Version 1.x, found {version or 'no Wheel-Version field'!r}",
        )


def parse_record(
    archive: zipfile.ZipFile, wheel: str, dist_info: str
) -> tuple[dict[str, RecordEntry], tuple[str, ...]]:
    """(rows by path, row paths in RECORD order), parsed with installer: three CSV fields, a
    known hash algorithm, an integer size."""
    member = f"{dist_info}/RECORD"
    try:
        text = archive.read(member).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise wheel_error(wheel, member, RECORD_RULE, f"RECORD is not UTF-8 ({exc})") from None
    return parse_record_text(text, wheel, member)


RECORD_RULE = "RECORD is UTF-8 CSV with three fields per row: path, hash (`algo=value`), size"


def parse_record_text(
    text: str, wheel: str, member: str
) -> tuple[dict[str, RecordEntry], tuple[str, ...]]:
    from installer.records import InvalidRecordEntry, RecordEntry, parse_record_file

    rule = RECORD_RULE
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
                raise wheel_error(
                    wheel,
                    member,
                    "RECORD lists each path once",
                    f"`{entry.path}` has two different rows ({previous.to_row()} and "
                    f"{entry.to_row()})",
                )
            entries[entry.path] = entry
    except InvalidRecordEntry as exc:
        raise wheel_error(
            wheel, member, rule, f"RECORD cannot be parsed: {'; '.join(exc.issues)}"
        ) from None
    return entries, tuple(paths)


def route(name: str, data_dir: str, wheel: str) -> tuple[str, str]:
    """(tree subdir, relative path) for an archive member (PEP 427 `.data` routing)."""
    segments = name.split("/")
    if segments[0] != data_dir:
        return "site-packages", name
    if len(segments) < 3 or segments[1] not in SCHEME_NAMES:
        raise wheel_error(
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
    from harness.supply.wheellisting import WheelListing

    wheel = filename or os.path.basename(archive.filename or "<wheel>")
    infos = [info for info in archive.infolist() if not info.filename.endswith("/")]
    _check_member_names(infos, wheel)
    names_in_archive = {info.filename for info in infos}

    dist_info = wheel_dist_info(archive, wheel)
    _check_dist_info_matches_filename(wheel, dist_info)
    _check_wheel_version(archive, wheel, dist_info)
    entries, record_paths = parse_record(archive, wheel, dist_info)

    members = _recorded_members(infos, entries, wheel, dist_info)
    _check_files_are_not_directories(members, wheel)
    _check_rows_have_members(entries, names_in_archive, wheel, dist_info)
    return WheelListing(
        filename=wheel,
        dist_info=dist_info,
        members=members,
        record_paths=record_paths,
        entry_points_text=_entry_points_text(archive, names_in_archive, wheel, dist_info),
    )


def _check_member_names(infos: list[zipfile.ZipInfo], wheel: str) -> None:
    """No symlink, no unsafe name, no name twice, no two names that differ only in case."""
    seen: set[str] = set()
    folded: dict[str, str] = {}
    for info in infos:
        name = info.filename
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise wheel_error(
                wheel,
                name,
                "wheel members are regular files (no symlinks)",
                "the member is a symlink, which could point outside the install tree",
            )
        problem = _member_name_problem(name)
        if problem:
            raise wheel_error(wheel, name, *problem)
        if name in seen:
            raise wheel_error(
                wheel,
                name,
                "each member appears once in the archive",
                "the member appears twice, so which copy is installed would be arbitrary",
            )
        seen.add(name)
        twin = folded.setdefault(name.casefold(), name)
        if twin != name:
            raise wheel_error(
                wheel,
                name,
                "no two members differ only in case",
                f"it differs only in case from `{twin}`; on a case-insensitive file system one "
                "would overwrite the other",
            )


def _row_problem(entry: RecordEntry | None, file_size: int) -> tuple[str, str] | None:
    """(rule, detail) when a member's RECORD row is missing, unhashed, weak or of another size."""
    if entry is None:
        return (
            "every member is listed in RECORD",
            "the archive holds the member but RECORD has no row for it",
        )
    if entry.hash_ is None:
        return (
            "every RECORD row except RECORD's own carries a hash",
            "its RECORD row has an empty hash field",
        )
    if entry.hash_.name.lower() in _WEAK_HASHES:
        return ("RECORD hashes use sha256 or stronger", f"its RECORD row uses {entry.hash_.name}")
    if entry.size is not None and entry.size != file_size:
        return (
            "each member's size equals its RECORD size",
            f"RECORD says {entry.size} bytes, the archive holds {file_size} bytes",
        )
    return None


def _recorded_members(
    infos: list[zipfile.ZipInfo], entries: dict[str, RecordEntry], wheel: str, dist_info: str
) -> tuple[Member, ...]:
    """Each member routed to its tree path (no two to one path) with its checked RECORD row;
    RECORD itself and its signatures carry none."""
    from harness.supply.wheellisting import Member

    record_member = f"{dist_info}/RECORD"
    data_dir = dist_info.removesuffix(".dist-info") + ".data"
    members: list[Member] = []
    destinations: dict[str, str] = {}  # casefolded "subdir/path" → member name
    for info in infos:
        name = info.filename
        subdir, path = route(name, data_dir, wheel)
        target = f"{subdir}/{path}"
        other = destinations.setdefault(target.casefold(), name)
        if other != name:
            raise wheel_error(
                wheel,
                name,
                "two members never install to the same path",
                f"it installs to {target}, as `{other}` does",
            )
        signature = name.startswith(f"{dist_info}/") and name.rsplit("/", 1)[-1] in SIGNATURES
        entry = entries.get(name)
        if name == record_member or signature:
            entry = None
        else:
            problem = _row_problem(entry, info.file_size)
            if problem:
                raise wheel_error(wheel, name, *problem)
        executable = bool((info.external_attr >> 16) & 0o111)
        members.append(Member(name, subdir, path, executable, entry))
    return tuple(members)


def _check_files_are_not_directories(members: tuple[Member, ...], wheel: str) -> None:
    """A file and a directory of the same installed path cannot both exist."""
    files = {f"{m.subdir}/{m.path}" for m in members}
    for m in members:
        parts = f"{m.subdir}/{m.path}".split("/")
        for depth in range(2, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in files:
                raise wheel_error(
                    wheel,
                    m.name,
                    "a member path is either a file or a directory",
                    f"it needs {prefix} to be a directory, but another member is that file",
                )


def _check_rows_have_members(
    entries: dict[str, RecordEntry], names_in_archive: set[str], wheel: str, dist_info: str
) -> None:
    """Every RECORD row but a directory's and RECORD's own names a member."""
    record_member = f"{dist_info}/RECORD"
    absent = sorted(
        p
        for p in entries
        if p not in names_in_archive and not p.endswith("/") and p != record_member
    )
    if absent:
        raise wheel_error(
            wheel,
            absent[0],
            "every RECORD row names a file in the archive",
            "RECORD lists it but the archive has no such member"
            + (f" ({len(absent)} such rows: {', '.join(absent[:5])})" if len(absent) > 1 else ""),
        )


def _entry_points_text(
    archive: zipfile.ZipFile, names_in_archive: set[str], wheel: str, dist_info: str
) -> str:
    """entry_points.txt of the dist-info as text ("" without one)."""
    entry_points_member = f"{dist_info}/entry_points.txt"
    if entry_points_member not in names_in_archive:
        return ""
    try:
        return archive.read(entry_points_member).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise wheel_error(
            wheel, entry_points_member, "entry_points.txt is UTF-8", f"it is not ({exc})"
        ) from None


@contextlib.contextmanager
def open_archive(wheel_path: Path, wheel: str) -> Iterator[zipfile.ZipFile]:
    """The wheel as a zip; a file that is not one (or is cut short) is a WheelError."""
    try:
        archive = zipfile.ZipFile(wheel_path)
    except FileNotFoundError:
        raise WheelError(f"wheel {wheel}: no such file: {wheel_path}") from None
    except (*_ZIP_READ_ERRORS, OSError) as exc:
        raise wheel_error(
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
            raise wheel_error(
                wheel,
                None,
                "a wheel is a complete zip archive (PEP 427)",
                f"reading it failed ({type(exc).__name__}: {exc}); it is corrupt or truncated",
            ) from None
