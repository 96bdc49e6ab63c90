"""Case files, pin part: `cases/<name>/case.toml` → a frozen `Case` with its ordered pins.

A case names the exact wheel files it needs (one entry per file, so every target interpreter
finds its own build) and the order they are installed in. This module validates only the pin
part (`description`, `[[wheels]]`, `[[support]]`); the whole parsed document is kept in
`Case.raw` so `harness.expectations` can read the rest of the same file. Every validation error
names the file, the key path (`wheels[2].files[0].sha256`) and what is wrong, because a case
author fixes the file by reading that one message.

Schema of one wheel table (`[[wheels]]` or `[[support]]`):

    name = "protobuf"                  # distribution name
    version = "6.33.5"
    label = "protobuf-new"             # optional: identity in plans (default: selected file name)
    filename = "protobuf-…whl"         # optional: force this file whatever the interpreter tags
    platform = "musllinux_1_1_x86_64"  # optional: per interpreter, its file built for this
                                       # platform (another platform's build on every Python)
    files = [{ filename = "…whl", sha256 = "<64 hex>", size = 123 }, …]

`[[support]]` wheels (what a real import needs) come first in wheel order, then `[[wheels]]`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from harness import names
from harness.config import PROJECT_ROOT
from harness.errors import CaseFileError
from harness.model import Pin, WheelFile

CASE_FILE = "case.toml"
PIN_TABLES = ("support", "wheels")  # in wheel order: support wheels first
WHEEL_KEYS = frozenset({"name", "version", "files", "label", "filename", "platform", "synthetic"})
SYNTHETIC_KEYS = frozenset({"files", "tag", "entry_points", "data", "executable"})
FILE_KEYS = frozenset({"filename", "sha256", "size"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


def default_cases_root() -> Path:
    return PROJECT_ROOT / "cases"


@dataclass(frozen=True)
class Case:
    """One parsed, validated case. `path` is the `case.toml` file itself.

    `raw` is the whole TOML document (read-only view) for the sections other modules own.
    """

    name: str
    path: Path
    description: str
    wheels: tuple[Pin, ...]
    support: tuple[Pin, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def pins(self) -> tuple[Pin, ...]:
        """Every pin in wheel order: support wheels first, then the wheels under test."""
        return self.support + self.wheels


class _Where:
    """Builds errors that name the file and the key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> CaseFileError:
        return CaseFileError(f"{self.path}: `{key}` {problem}")


def _type_name(value: object) -> str:
    return {str: "a string", int: "an integer", bool: "a boolean", list: "an array"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def _string(where: _Where, table: Mapping[str, Any], key: str, at: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if key not in table else f"{_type_name(value)} {value!r}"
        raise where.fail(at, f"must be a non-empty string, got {shown}")
    return value


def _only(where: _Where, table: Mapping[str, Any], allowed: frozenset[str], at: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise where.fail(
            f"{at}.{unknown[0]}",
            f"is not a known key (known: {', '.join(sorted(allowed))}); a typo?",
        )


def _wheel_file(where: _Where, entry: Any, at: str, name: str, version: Version) -> WheelFile:
    if not isinstance(entry, dict):
        raise where.fail(at, f"must be a table {{filename, sha256, size}}, got {_type_name(entry)}")
    _only(where, entry, FILE_KEYS, at)
    filename = _string(where, entry, "filename", f"{at}.filename")
    try:
        wheel_name, wheel_version, _build, _tags = names.parse_wheel_filename(filename)
    except names.InvalidWheelFilename as exc:
        raise where.fail(f"{at}.filename", f"is not a valid wheel file name: {exc}") from exc
    if wheel_name != names.canonicalize_name(name) or wheel_version != version:
        raise where.fail(
            f"{at}.filename",
            f"is a wheel of {wheel_name} {wheel_version}, expected one of {name} {version}",
        )
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise where.fail(f"{at}.sha256", f"must be 64 lowercase hex characters, got {sha256!r}")
    size = entry.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise where.fail(f"{at}.size", f"must be a positive integer (bytes), got {size!r}")
    return WheelFile(filename=filename, sha256=sha256, size=size)


def _pin(where: _Where, table: Any, at: str) -> Pin:
    if not isinstance(table, dict):
        raise where.fail(at, f"must be a table, got {_type_name(table)}")
    _only(where, table, WHEEL_KEYS, at)
    name = _string(where, table, "name", f"{at}.name")
    version_text = _string(where, table, "version", f"{at}.version")
    try:
        version = Version(version_text)
    except InvalidVersion as exc:
        raise where.fail(f"{at}.version", f"is not a PEP 440 version: {version_text!r}") from exc
    if "synthetic" in table:
        return _synthetic_pin(where, table, at, name, version_text)
    entries = table.get("files")
    if not isinstance(entries, list) or not entries:
        raise where.fail(
            f"{at}.files",
            "must be a non-empty array of {filename, sha256, size} tables, got "
            + ("nothing" if entries is None else repr(entries)),
        )
    files: list[WheelFile] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        wheel_file = _wheel_file(where, entry, f"{at}.files[{i}]", name, version)
        if wheel_file.filename in seen:
            raise where.fail(
                f"{at}.files[{i}].filename",
                f"repeats {wheel_file.filename} (already files[{seen[wheel_file.filename]}])",
            )
        seen[wheel_file.filename] = i
        files.append(wheel_file)
    label = table.get("label")
    if label is not None:
        label = _string(where, table, "label", f"{at}.label")
    forced = table.get("filename")
    if forced is not None:
        forced = _string(where, table, "filename", f"{at}.filename")
        if forced not in seen:
            raise where.fail(
                f"{at}.filename",
                f"forces {forced!r}, which is not one of its files: {', '.join(seen)}",
            )
    platform = table.get("platform")
    if platform is not None:
        platform = _string(where, table, "platform", f"{at}.platform")
        if forced is not None:
            raise where.fail(
                f"{at}.platform",
                "and `filename` both choose the file: give one (platform picks a file per "
                "interpreter, filename one file for all)",
            )
        built_for = [
            f.filename
            for f in files
            if any(t.split("-")[2] == platform for t in _file_tags(f.filename))
        ]
        if not built_for:
            raise where.fail(
                f"{at}.platform",
                f"names {platform!r}, but none of its files is built for it: {', '.join(seen)}",
            )
    return Pin(
        name=name,
        version=version_text,
        files=tuple(files),
        label=label,
        filename=forced,
        platform=platform,
    )


def _file_tags(filename: str) -> list[str]:
    return list(names.wheel_tags(filename))


def _synthetic_pin(
    where: _Where, table: Mapping[str, Any], at: str, name: str, version: str
) -> Pin:
    """A wheel the case builds itself (`[wheels.synthetic]`): a shape no real wheel has yet.

    `make_wheel` writes deterministic bytes, so the file's sha256 is stable and the wheel is
    cached, unpacked and verified exactly like a downloaded one.
    """
    from harness.wheelbuilder import make_wheel, wheel_filename

    spec = table["synthetic"]
    where_s = f"{at}.synthetic"
    if not isinstance(spec, dict):
        raise where.fail(where_s, f"must be a table, got {_type_name(spec)}")
    _only(where, spec, SYNTHETIC_KEYS, where_s)
    if "files" in table:
        raise where.fail(
            f"{at}.files",
            "a synthetic wheel has no pinned files: its bytes are built from the spec",
        )
    files = spec.get("files")
    if (
        not isinstance(files, dict)
        or not files
        or not all(isinstance(v, str) for v in files.values())
    ):
        raise where.fail(f"{where_s}.files", 'must be a non-empty table of path = "text content"')
    tag = spec.get("tag", "py3-none-any")
    entry_points = spec.get("entry_points")
    if entry_points is not None and not (
        isinstance(entry_points, dict) and all(isinstance(v, dict) for v in entry_points.values())
    ):
        raise where.fail(
            f"{where_s}.entry_points",
            'must be a table of groups, each a table name = "module:attr"',
        )
    data = spec.get("data")
    if data is not None and not (
        isinstance(data, dict) and all(isinstance(v, dict) for v in data.values())
    ):
        raise where.fail(
            f"{where_s}.data", 'must be a table of categories, each a table path = "content"'
        )
    executable = spec.get("executable", [])
    try:
        payload = make_wheel(
            name,
            version,
            files,
            tag=tag,
            entry_points=entry_points,
            data=data,
            executable=executable,
        )
    except (ValueError, TypeError) as exc:
        raise where.fail(where_s, f"cannot build the wheel: {exc}") from exc
    filename = wheel_filename(name, version, tag)
    import hashlib

    wheel_file = WheelFile(filename, hashlib.sha256(payload).hexdigest(), len(payload))
    label = table.get("label")
    if label is not None:
        label = _string(where, table, "label", f"{at}.label")
    return Pin(
        name=name,
        version=version,
        files=(wheel_file,),
        label=label,
        filename=filename,
        synthetic=payload,
    )


def possible_labels(pin: Pin) -> frozenset[str]:
    """Every label a pin can take in a plan (its explicit label, else a selectable file name)."""
    if pin.label:
        return frozenset({pin.label})
    if pin.filename:
        return frozenset({pin.filename})
    return frozenset(f.filename for f in pin.files)


def _check_labels(where: _Where, located: Sequence[tuple[str, Pin]]) -> None:
    """Two different pins must never be able to end up under one label."""
    for j, (at_j, pin_j) in enumerate(located):
        for at_i, pin_i in located[:j]:
            if pin_i == pin_j:
                continue  # the same wheel listed twice: deduplicated, first position kept
            shared = sorted(possible_labels(pin_i) & possible_labels(pin_j))
            if shared and (pin_i.label or pin_j.label):
                raise where.fail(
                    f"{at_j}.label" if pin_j.label else at_j,
                    f"can be labelled {shared[0]!r}, as can {at_i}; labels name wheels in "
                    "plans and must be unique (set a distinct `label`)",
                )
    by_file: dict[str, tuple[str, WheelFile]] = {}
    for at, pin in located:
        for i, f in enumerate(pin.files):
            earlier = by_file.setdefault(f.filename, (f"{at}.files[{i}]", f))
            if earlier[1] != f:
                raise where.fail(
                    f"{at}.files[{i}]",
                    f"pins {f.filename} as sha256 {f.sha256} size {f.size}, but {earlier[0]} "
                    f"pins it as sha256 {earlier[1].sha256} size {earlier[1].size}",
                )


def parse_case(name: str, path: Path, document: Mapping[str, Any]) -> Case:
    """Validate an already parsed TOML document (the pin part only)."""
    where = _Where(path)
    description = _string(where, document, "description", "description")
    located: list[tuple[str, Pin]] = []
    pins: dict[str, tuple[Pin, ...]] = {}
    for table in PIN_TABLES:
        value = document.get(table, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise where.fail(table, f"must be an array of tables ([[{table}]]), got {value!r}")
        parsed = []
        for i, entry in enumerate(value):
            pin = _pin(where, entry, f"{table}[{i}]")
            located.append((f"{table}[{i}]", pin))
            parsed.append(pin)
        pins[table] = tuple(parsed)
    if not pins["wheels"]:
        raise where.fail("wheels", "is missing: a case needs at least one [[wheels]] table")
    _check_labels(where, located)
    return Case(
        name=name,
        path=path,
        description=description,
        wheels=pins["wheels"],
        support=pins["support"],
        raw=types.MappingProxyType(dict(document)),
    )


def load_case(path_or_dir: str | Path) -> Case:
    """Read and validate `case.toml` (given the file or its directory; name = directory name)."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / CASE_FILE
    if not path.is_file():
        raise CaseFileError(f"{path}: no such case file (expected cases/<name>/{CASE_FILE})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"{path}: not UTF-8 text: {exc}") from exc
    return parse_case(path.parent.name, path, toml_document(text, path))


# Bump when what a document is remembered as changes.
DOCUMENT_FORMAT = "harness-toml-document 1"
# The parser a remembered document came from: tomllib is the standard library's (tomli before
# 3.11), so a newer Python's TOML rules never answer for an older one.
_PARSER = "python{}.{}".format(*sys.version_info[:2])


def documents_dir() -> Path:
    """Where parsed case documents are remembered: `<cache>/case-documents/<name>.json`, named
    by `config.memo_name` of the text (each holds the text it was parsed from)."""
    from harness import config

    return config.cache_dir() / "case-documents"


def toml_document(text: str, path: Path) -> dict[str, Any]:
    """The TOML document `text` (read from `path`, named in errors) as tomllib parses it.

    What tomllib made of a text is remembered with the text, as JSON, when JSON holds it
    exactly (no dates, no NaN), so a case file read before is not parsed again and tomllib
    (~4 ms to import, with datetime) is imported only for a text not seen before. A text that
    does not parse is never remembered: it fails the same way every time.
    """
    from harness.config import memo_name

    memo = documents_dir() / f"{memo_name(text)}.json"
    try:
        remembered = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        remembered = None
    if (
        isinstance(remembered, dict)
        and remembered.get("format") == DOCUMENT_FORMAT
        and remembered.get("parser") == _PARSER
        and remembered.get("text") == text
        and isinstance(remembered.get("document"), dict)
    ):
        return remembered["document"]
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the host is 3.11; tomli is the same parser for 3.10
        import tomli as tomllib
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseFileError(f"{path}: TOML syntax error: {exc}") from exc
    _remember_document(memo, text, document)
    return document


def _remember_document(memo: Path, source: str, document: dict[str, Any]) -> None:
    """Best effort and atomic; only a document JSON gives back as it is (`_json_exact`)."""
    if not _json_exact(document):
        return
    try:
        text = json.dumps(
            {"format": DOCUMENT_FORMAT, "parser": _PARSER, "text": source, "document": document}
        )
    except (TypeError, ValueError):
        return  # a date or time: not JSON
    if json.loads(text)["document"] != document:
        return
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f"{memo.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, memo)
    except OSError:
        return


def _json_exact(value: Any) -> bool:
    """Only values whose JSON reads back as the same type and value: tables with string keys,
    arrays, strings, integers, booleans and finite floats (a TOML date or time is no JSON
    value; NaN and the infinities are no standard JSON)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return value is None or isinstance(value, (str, int, bool))


def discover_cases(root: str | Path | None = None) -> list[Case]:
    """Every `<root>/<name>/case.toml`, validated, sorted by name."""
    base = Path(root) if root is not None else default_cases_root()
    if not base.is_dir():
        return []
    return [load_case(d) for d in sorted(base.iterdir()) if (d / CASE_FILE).is_file()]


def case_names(root: str | Path | None = None) -> list[str]:
    """Names of the case directories (without parsing them)."""
    base = Path(root) if root is not None else default_cases_root()
    if not base.is_dir():
        return []
    return sorted(d.name for d in base.iterdir() if (d / CASE_FILE).is_file())


def is_case_name(name: str, root: str | Path | None = None) -> bool:
    """`name` is one of `case_names(root)`, asked of that one directory (no listing)."""
    base = Path(root) if root is not None else default_cases_root()
    if name in ("", ".", "..") or any(sep and sep in name for sep in ("/", os.sep, os.altsep)):
        return False
    return (base / name / CASE_FILE).is_file()


def find_case(name: str, root: str | Path | None = None) -> Case:
    """The case called `name`; the error lists the cases that exist."""
    base = Path(root) if root is not None else default_cases_root()
    if (base / name / CASE_FILE).is_file():
        return load_case(base / name)
    known = case_names(base)
    raise CaseFileError(
        f"no case named {name!r} under {base} (known: {', '.join(known) or 'none'})"
    )


# --------------------------------------------------------------------------- writing


def _toml_string(value: str) -> str:
    """A TOML basic string. JSON string escapes are a subset of TOML's."""
    return json.dumps(value)


def pin_fragment_toml(pins: Iterable[Pin], table: str = "wheels") -> str:
    """Pins as `[[wheels]]` (or `[[support]]`) tables in exactly the format `load_case` reads."""
    if table not in PIN_TABLES:
        raise ValueError(f"table must be one of {PIN_TABLES}, got {table!r}")
    blocks = []
    for pin in pins:
        lines = [
            f"[[{table}]]",
            f"name = {_toml_string(pin.name)}",
            f"version = {_toml_string(pin.version)}",
        ]
        if pin.label:
            lines.append(f"label = {_toml_string(pin.label)}")
        if pin.filename:
            lines.append(f"filename = {_toml_string(pin.filename)}")
        if pin.platform:
            lines.append(f"platform = {_toml_string(pin.platform)}")
        lines.append("files = [")
        lines.extend(
            f"  {{ filename = {_toml_string(f.filename)}, sha256 = {_toml_string(f.sha256)}, "
            f"size = {f.size} }},"
            for f in pin.files
        )
        lines.append("]")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


__all__ = [
    "CASE_FILE",
    "Case",
    "case_names",
    "default_cases_root",
    "discover_cases",
    "find_case",
    "load_case",
    "parse_case",
    "pin_fragment_toml",
    "possible_labels",
]
