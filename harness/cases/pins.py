"""The pins of a case file: `[[support]]` and `[[wheels]]` tables, read and written.

A case names the exact wheel files it needs (one entry per file, so every target interpreter
finds its own build) and the order they are installed in. Pins come last in a case file, after
what the case expects (`harness.cases.order`). Schema of one table:

    [[wheels]]                         # or [[support]]: what a real import needs
    name = "protobuf"                  # distribution name
    version = "6.33.5"
    label = "protobuf-new"             # optional: identity in plans (default: selected file name)
    filename = "protobuf-…whl"         # optional: force this file whatever the interpreter tags
    platform = "musllinux_1_1_x86_64"  # optional: per interpreter, its file built for this
                                       # platform (another platform's build on every Python)
    files = [{ filename = "protobuf-…whl", sha256 = "<64 hex>", size = 123 }, …]

or, for a wheel the case builds itself, `[wheels.synthetic]` instead of `files`. `[[support]]`
wheels come first in wheel order, then `[[wheels]]`. Errors follow `harness.cases.reader`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from packaging.version import InvalidVersion, Version

from harness import names
from harness.cases.reader import Table, Where, shown
from harness.model import Pin, WheelFile

PIN_TABLES = ("support", "wheels")  # in wheel order: support wheels first
WHEEL_KEYS = frozenset({"name", "version", "files", "label", "filename", "platform", "synthetic"})
SYNTHETIC_KEYS = frozenset({"files", "tag", "entry_points", "data", "executable"})
FILE_KEYS = frozenset({"filename", "sha256", "size"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


def parse_pins(top: Table) -> tuple[tuple[Pin, ...], tuple[Pin, ...]]:
    """(support, wheels) from the top level of a case document, each in file order."""
    located: list[tuple[Where, Pin]] = []
    pins: dict[str, tuple[Pin, ...]] = {}
    for key in PIN_TABLES:
        parsed = []
        for table in top.tables(key, f"[[{key}]]"):
            pin = _pin(table, key)
            located.append((table.where, pin))
            parsed.append(pin)
        pins[key] = tuple(parsed)
    if not pins["wheels"]:
        raise top.fail("missing: a case needs at least one [[wheels]] table", "wheels")
    _check_labels(located)
    return pins["support"], pins["wheels"]


def _pin(t: Table, key: str) -> Pin:
    t.only(WHEEL_KEYS)
    name = t.string("name")
    version_text = t.string("version")
    try:
        version = Version(version_text)
    except InvalidVersion as exc:
        raise t.fail(f"not a PEP 440 version: {version_text!r}", "version") from exc
    if "synthetic" in t:
        return _synthetic_pin(t, key, name, version_text)
    files = _pinned_files(t, name, version)
    label = t.optional_string("label")
    forced, platform = _file_choice(t, files)
    return Pin(
        name=name,
        version=version_text,
        files=files,
        label=label,
        filename=forced,
        platform=platform,
    )


def _pinned_files(t: Table, name: str, version: Version) -> tuple[WheelFile, ...]:
    entries = t.values.get("files")
    if not isinstance(entries, list) or not entries:
        raise t.expected("files", "a non-empty array of {filename, sha256, size} tables")
    files: list[WheelFile] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries, 1):
        where = t.where.inside(f"files #{i}")
        wheel_file = _wheel_file(where, entry, name, version)
        if wheel_file.filename in seen:
            raise where.error(
                f"repeats {wheel_file.filename} (already files #{seen[wheel_file.filename]})",
                "filename",
            )
        seen[wheel_file.filename] = i
        files.append(wheel_file)
    return tuple(files)


def _wheel_file(where: Where, entry: Any, name: str, version: Version) -> WheelFile:
    if not isinstance(entry, dict):
        raise where.error(f"expected a table {{filename, sha256, size}}, got {shown(entry)}")
    f = Table(entry, where)
    f.only(FILE_KEYS)
    filename = f.string("filename")
    try:
        wheel_name, wheel_version, _build, _tags = names.parse_wheel_filename(filename)
    except names.InvalidWheelFilename as exc:
        raise f.fail(f"not a valid wheel file name: {exc}", "filename") from exc
    if wheel_name != names.canonicalize_name(name) or wheel_version != version:
        raise f.fail(
            f"a wheel of {wheel_name} {wheel_version}, expected one of {name} {version}",
            "filename",
        )
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise f.expected("sha256", "64 lowercase hex characters")
    size = f.integer("size", minimum=1, what="a positive integer (bytes)")
    return WheelFile(filename=filename, sha256=sha256, size=size)


def _file_choice(t: Table, files: Sequence[WheelFile]) -> tuple[str | None, str | None]:
    """(`filename`, `platform`): at most one of them chooses the pin's file."""
    filenames = [f.filename for f in files]
    forced = t.optional_string("filename")
    if forced is not None and forced not in filenames:
        raise t.fail(
            f"forces {forced!r}, which is not one of its files: {', '.join(filenames)}",
            "filename",
        )
    platform = t.optional_string("platform")
    if platform is None:
        return forced, None
    if forced is not None:
        raise t.fail(
            "chooses the file, and so does 'filename': give one (platform picks a file per "
            "interpreter, filename one file for all)",
            "platform",
        )
    if not any(tag.split("-")[2] == platform for f in filenames for tag in names.wheel_tags(f)):
        raise t.fail(
            f"names {platform!r}, but none of its files is built for it: {', '.join(filenames)}",
            "platform",
        )
    return None, platform


def _synthetic_pin(t: Table, key: str, name: str, version: str) -> Pin:
    """A wheel the case builds itself (`[wheels.synthetic]`): a shape no real wheel has yet.

    `make_wheel` writes deterministic bytes, so the file's sha256 is stable and the wheel is
    cached, unpacked and verified exactly like a downloaded one.
    """
    import hashlib

    from harness.supply.wheelbuilder import make_wheel, wheel_filename

    spec = t.table("synthetic", f"[{key}.synthetic]", nested=True)
    assert spec is not None  # the caller saw the key
    spec.only(SYNTHETIC_KEYS)
    if "files" in t:
        raise t.fail(
            f"a synthetic wheel has no pinned files: its bytes are built from [{key}.synthetic]",
            "files",
        )
    files = spec.values.get("files")
    if (
        not isinstance(files, dict)
        or not files
        or not all(isinstance(v, str) for v in files.values())
    ):
        raise spec.expected("files", 'a non-empty table of path = "text content"')
    entry_points = spec.values.get("entry_points")
    if entry_points is not None and not _table_of_tables(entry_points):
        raise spec.expected("entry_points", 'a table of groups, each a table name = "module:attr"')
    data = spec.values.get("data")
    if data is not None and not _table_of_tables(data):
        raise spec.expected("data", 'a table of categories, each a table path = "content"')
    tag = spec.values.get("tag", "py3-none-any")
    executable = spec.values.get("executable", [])
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
        raise spec.fail(f"cannot build the wheel: {exc}") from exc
    filename = wheel_filename(name, version, tag)
    wheel_file = WheelFile(filename, hashlib.sha256(payload).hexdigest(), len(payload))
    return Pin(
        name=name,
        version=version,
        files=(wheel_file,),
        label=t.optional_string("label"),
        filename=filename,
        synthetic=payload,
    )


def _table_of_tables(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())


def possible_labels(pin: Pin) -> frozenset[str]:
    """Every label a pin can take in a plan (its explicit label, else a selectable file name)."""
    if pin.label:
        return frozenset({pin.label})
    if pin.filename:
        return frozenset({pin.filename})
    return frozenset(f.filename for f in pin.files)


def _check_labels(located: Sequence[tuple[Where, Pin]]) -> None:
    """Two different pins must never be able to end up under one label, nor one file name
    be pinned with two different hashes."""
    for j, (where_j, pin_j) in enumerate(located):
        for where_i, pin_i in located[:j]:
            if pin_i == pin_j:
                continue  # the same wheel listed twice: deduplicated, first position kept
            shared = sorted(possible_labels(pin_i) & possible_labels(pin_j))
            if shared and (pin_i.label or pin_j.label):
                raise where_j.error(
                    f"can be labelled {shared[0]!r}, as can {where_i}; labels name wheels in "
                    "plans and must be unique (set a distinct `label`)",
                    "label" if pin_j.label else None,
                )
    by_file: dict[str, tuple[Where, WheelFile]] = {}
    for where, pin in located:
        for i, f in enumerate(pin.files, 1):
            at = where.inside(f"files #{i}")
            earlier_at, earlier = by_file.setdefault(f.filename, (at, f))
            if earlier != f:
                raise at.error(
                    f"pins {f.filename} as sha256 {f.sha256} size {f.size}, but {earlier_at} "
                    f"pins it as sha256 {earlier.sha256} size {earlier.size}"
                )


# --------------------------------------------------------------------------- writing


def _toml_string(value: str) -> str:
    """A TOML basic string. JSON string escapes are a subset of TOML's."""
    return json.dumps(value)


def pin_fragment_toml(pins: Iterable[Pin], table: str = "wheels") -> str:
    """Pins as `[[wheels]]` (or `[[support]]`) tables in exactly the format `load_case` reads,
    each key in reading order (name, version, how the file is chosen, files). In a case file
    they go last: `[[support]]`, then `[[wheels]]`."""
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


__all__ = ["PIN_TABLES", "parse_pins", "pin_fragment_toml", "possible_labels"]
