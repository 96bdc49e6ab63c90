"""Synthetic wheels built in memory, for tests and for users sketching a collision shape.

A wheel here is exactly what an index would serve: a zip with the package files, a
`<name>-<version>.dist-info/` holding METADATA, WHEEL, optional entry_points.txt and a RECORD
listing every member with its sha256 and size. The bytes are deterministic (fixed timestamps,
sorted members, fixed compression level), so the sha256 of a synthetic wheel is stable across runs
and machines and can key an install tree like a real one.

Every part can be corrupted on request (`record_hash_mismatch`, `extra_members`, `truncate`, ...)
so the hostile-wheel tests build their inputs with the same function as the well-formed ones:
each corrupt switch breaks one rule and leaves the rest of the wheel valid.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import stat
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "DATA_CATEGORIES",
    "escape_name",
    "make_wheel",
    "record_hash",
    "wheel_filename",
    "write_wheel",
]

DATA_CATEGORIES = ("purelib", "platlib", "scripts", "headers", "data")

# 1980-01-01 is the earliest date a zip can hold: any fixed value makes the bytes reproducible.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = stat.S_IFREG | 0o644
_EXEC_MODE = stat.S_IFREG | 0o755
_LINK_MODE = stat.S_IFLNK | 0o777
_UNPARSEABLE_RECORD = b"this,row,has,too,many,fields\nand this one has one\n"

Content = bytes | str


def escape_name(name: str) -> str:
    """A distribution name as it appears in wheel and dist-info names: runs of `-_.` → `_`."""
    return re.sub(r"[-_.]+", "_", name)


def _escape_version(version: str) -> str:
    return version.replace("-", "_")


def wheel_filename(name: str, version: str, tag: str = "py3-none-any") -> str:
    """`{name}-{version}-{tag}.whl` with the name and version escaped (binary distribution format)."""
    return f"{escape_name(name)}-{_escape_version(version)}-{tag}.whl"


def record_hash(data: bytes) -> str:
    """A RECORD hash field: `sha256=` + urlsafe base64 without padding."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _as_bytes(content: Content) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _expand_tags(tag: str) -> list[str]:
    """`py2.py3-none-any` → the two `Tag:` lines a WHEEL file carries for it."""
    python, abi, platform = tag.split("-")
    return [
        f"{p}-{a}-{plat}"
        for p in python.split(".")
        for a in abi.split(".")
        for plat in platform.split(".")
    ]


def _zipinfo(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.create_system = 3  # unix: readers honour the mode bits in external_attr
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _render_record(rows: Sequence[tuple[str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _entry_points_text(entry_points: Mapping[str, Mapping[str, str]]) -> str:
    lines: list[str] = []
    for group in sorted(entry_points):
        lines.append(f"[{group}]")
        lines.extend(f"{key} = {value}" for key, value in sorted(entry_points[group].items()))
        lines.append("")
    return "\n".join(lines)


def make_wheel(
    name: str,
    version: str,
    files: Mapping[str, Content],
    *,
    dist_info_name: str | None = None,
    tag: str = "py3-none-any",
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    data: Mapping[str, Mapping[str, Content]] | None = None,
    executable: Iterable[str] = (),
    metadata_extra: Sequence[str] = (),
    root_is_purelib: bool = True,
    wheel_version: str | None = "1.0",
    record_hash_mismatch: Iterable[str] = (),
    record_size_mismatch: Iterable[str] = (),
    record_missing: bool = False,
    record_extra_rows: Iterable[str] = (),
    record_unparseable: bool | bytes = False,
    duplicate_members: Mapping[str, Content] | Iterable[str] = (),
    extra_members: Sequence[tuple[str, Content]] = (),
    unrecorded_members: Sequence[tuple[str, Content]] = (),
    symlink_members: Mapping[str, str] | None = None,
    directory_entries: Iterable[str] = (),
    truncate: int | None = None,
    not_zip: bool = False,
) -> bytes:
    """The bytes of a wheel for `name` `version` holding `files` (archive path → content).

    Layout switches:
      dist_info_name   the dist-info directory (with or without `.dist-info`), e.g. a lowercase
                       stem like InquirerPy's `inquirerpy-0.3.4`; default `<escaped name>-<version>`.
      entry_points     group → entry name → value, written to entry_points.txt.
      data             category (purelib, platlib, scripts, headers, data) → path → content,
                       stored under `<stem>.data/<category>/<path>`.
      executable       archive member names stored with mode 0o755 (others 0o644).
      metadata_extra   lines appended to METADATA.
      wheel_version    the WHEEL file's `Wheel-Version`; None leaves the WHEEL file out.

    Corrupt switches (each breaks one rule, the rest of the wheel stays valid):
      record_hash_mismatch / record_size_mismatch   member names whose RECORD hash / size is wrong.
      record_missing       no RECORD member at all.
      record_extra_rows    RECORD rows for files that are not in the archive.
      record_unparseable   RECORD is not a 3-column CSV (True), or exactly these bytes.
      duplicate_members    member names stored a second time (Mapping: with these contents).
      extra_members        raw (name, content) members, recorded in RECORD with a correct row
                           ('../evil', '/abs', 'a\\b', case twins...): only the name is hostile.
      unrecorded_members   raw (name, content) members that RECORD does not list.
      symlink_members      name → target, stored as symlink members (and recorded).
      directory_entries    zip directory entries (names ending `/`, never in RECORD), e.g.
                           pyarrow 14.0.1's `pyarrow./`: legal, and skipped by installers.
      truncate             keep only the first `truncate` bytes of the finished zip.
      not_zip              return bytes that are not a zip archive at all.

    Longer than 80 lines for its one flat keyword per switch and this list of them (the tests
    name every switch at the call); the body only puts the helpers below in order.
    """
    if not_zip:
        return b"This is not a zip archive, whatever its file name says.\n" * 8
    stem = dist_info_name or f"{escape_name(name)}-{_escape_version(version)}"
    stem = stem.removesuffix(".dist-info")
    dist_info = f"{stem}.dist-info"
    members = _members(
        files,
        stem=stem,
        data=data or {},
        dist_info_files=_dist_info_files(
            name, version, tag, entry_points, metadata_extra, root_is_purelib, wheel_version
        ),
        executable=set(executable),
        extra_members=extra_members,
        unrecorded_members=unrecorded_members,
        symlink_members=symlink_members or {},
    )
    by_name = {m[0]: m for m in members}
    if isinstance(duplicate_members, Mapping):
        duplicates = [(n, _as_bytes(c)) for n, c in sorted(duplicate_members.items())]
    else:
        duplicates = [(n, by_name[n][1]) for n in sorted(duplicate_members)]

    record_name = f"{dist_info}/RECORD"
    rows = _record_rows(
        members,
        hash_wrong=set(record_hash_mismatch),
        size_wrong=set(record_size_mismatch),
        extra_rows=record_extra_rows,
        record_name=record_name,
    )
    if record_missing:
        record = None
    elif record_unparseable is False:
        record = (record_name, _render_record(rows))
    elif record_unparseable is True:
        record = (record_name, _UNPARSEABLE_RECORD)
    else:
        record = (record_name, record_unparseable)
    wheel = _zip_bytes(
        directory_entries,
        members,
        [(n, c, by_name[n][2]) for n, c in duplicates],
        record,
    )
    return wheel[:truncate] if truncate is not None else wheel


def _dist_info_files(
    name: str,
    version: str,
    tag: str,
    entry_points: Mapping[str, Mapping[str, str]] | None,
    metadata_extra: Sequence[str],
    root_is_purelib: bool,
    wheel_version: str | None,
) -> list[tuple[str, str]]:
    """(file name in the dist-info, text): METADATA, WHEEL unless left out, entry_points.txt."""
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        *metadata_extra,
    ]
    found = [("METADATA", "\n".join(metadata) + "\n")]
    if wheel_version is not None:
        wheel_lines = [
            f"Wheel-Version: {wheel_version}",
            # every synthetic wheel's bytes (so its sha256, its tree, which build a resolver
            # picks) depend on this line: it keeps the name it had before the stage move
            "Generator: harness.wheelbuilder",
            f"Root-Is-Purelib: {'true' if root_is_purelib else 'false'}",
            *(f"Tag: {t}" for t in _expand_tags(tag)),
        ]
        found.append(("WHEEL", "\n".join(wheel_lines) + "\n"))
    if entry_points:
        found.append(("entry_points.txt", _entry_points_text(entry_points)))
    return found


# (archive name, bytes, zip mode, listed in RECORD)
_Member = tuple[str, bytes, int, bool]


def _members(
    files: Mapping[str, Content],
    *,
    stem: str,
    data: Mapping[str, Mapping[str, Content]],
    dist_info_files: Sequence[tuple[str, str]],
    executable: set[str],
    extra_members: Sequence[tuple[str, Content]],
    unrecorded_members: Sequence[tuple[str, Content]],
    symlink_members: Mapping[str, str],
) -> list[_Member]:
    """Every member but RECORD, sorted by name (a stable sort: twins keep their order)."""
    members: list[_Member] = []

    def add(
        member: str, content: Content, *, mode: int | None = None, recorded: bool = True
    ) -> None:
        if mode is None:
            mode = _EXEC_MODE if member in executable else _FILE_MODE
        members.append((member, _as_bytes(content), mode, recorded))

    for path, content in files.items():
        add(path, content)
    for category, entries in data.items():
        for path, content in entries.items():
            add(f"{stem}.data/{category}/{path}", content)
    for filename, text in dist_info_files:
        add(f"{stem}.dist-info/{filename}", text)
    for member, content in extra_members:
        add(member, content)
    for member, content in unrecorded_members:
        add(member, content, recorded=False)
    for member, target in symlink_members.items():
        add(member, target, mode=_LINK_MODE)
    members.sort(key=lambda m: m[0])
    return members


def _record_rows(
    members: Sequence[_Member],
    *,
    hash_wrong: set[str],
    size_wrong: set[str],
    extra_rows: Iterable[str],
    record_name: str,
) -> list[tuple[str, str, str]]:
    """RECORD's rows: each recorded member (hash or size made wrong where asked), the rows for
    absent files, RECORD's own row last."""
    rows: list[tuple[str, str, str]] = []
    for member, content, _mode, recorded in members:
        if not recorded:
            continue
        digest = record_hash(content + b"tampered" if member in hash_wrong else content)
        size = len(content) + 1 if member in size_wrong else len(content)
        rows.append((member, digest, str(size)))
    for absent in extra_rows:
        rows.append((absent, record_hash(b"absent"), "6"))
    rows.append((record_name, "", ""))
    return rows


def _zip_bytes(
    directory_entries: Iterable[str],
    members: Sequence[_Member],
    duplicates: Sequence[tuple[str, bytes, int]],
    record: tuple[str, bytes] | None,
) -> bytes:
    """The zip: directory entries, members, second copies, then RECORD (None: left out)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns on duplicate names
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for directory in sorted(directory_entries):
                name = directory if directory.endswith("/") else directory + "/"
                zf.writestr(_zipinfo(name, stat.S_IFDIR | 0o755), b"")
            for member, content, mode, _recorded in members:
                zf.writestr(_zipinfo(member, mode), content)
            for member, content, mode in duplicates:
                zf.writestr(_zipinfo(member, mode), content)
            if record is not None:
                zf.writestr(_zipinfo(record[0], _FILE_MODE), record[1])
    return buffer.getvalue()


def write_wheel(
    directory: Path | str,
    name: str,
    version: str,
    files: Mapping[str, Content],
    *,
    filename: str | None = None,
    **options: object,
) -> Path:
    """`make_wheel` written to `directory/<name>-<version>-<tag>.whl` (or `filename`)."""
    tag = str(options.get("tag", "py3-none-any"))
    path = Path(directory) / (filename or wheel_filename(name, version, tag))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_wheel(name, version, files, **options))  # type: ignore[arg-type]
    return path
