"""Layout facts of a wheel from its RECORD rows alone (engine-contract.md §1.2–§1.3).

Pure functions over path strings: no archive or file-system access, so the planner's inputs can
be built in tests from a list of paths, and a real wheel's facts are exactly what RECORD says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from harness.model import ConsoleScript, WheelFacts
from harness.names import canonicalize_name

_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_SONAME = re.compile(r"\.so\.\d")
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def is_native(path: str) -> bool:
    """A compiled library or extension: `.so`, `.pyd`, `.dylib`, `.dll` or `.so.<digit>`."""
    name = path.rsplit("/", 1)[-1]
    return name.endswith(_NATIVE_SUFFIXES) or bool(_SONAME.search(name))


def is_metadata(top_level: str) -> bool:
    return top_level.endswith(_METADATA_SUFFIXES)


def record_paths(record_text: str) -> list[str]:
    """The first column of every RECORD row, parsed with csv semantics."""
    import csv

    return [row[0] for row in csv.reader(record_text.splitlines()) if row and row[0]]


def split_dist_info(dist_info: str) -> tuple[str, str]:
    """`Foo_Bar-1.0.dist-info` → (`foo-bar`, `1.0`)."""
    stem = dist_info[: -len(".dist-info")] if dist_info.endswith(".dist-info") else dist_info
    name, _, version = stem.rpartition("-")
    if not name:
        return canonicalize_name(stem), ""
    return canonicalize_name(name), version


def _valid_segments(segments: Sequence[str]) -> bool:
    return bool(segments) and all(s not in ("", ".", "..") for s in segments)


def route_record(paths: Iterable[str], data_stem: str) -> tuple[list[str], list[str]]:
    """Split RECORD paths into (site-packages paths, prefix-relative data files).

    `<stem>.data/purelib|platlib/x` lands at `x`, `<stem>.data/data/x` is a data file, other
    `.data` categories (scripts, headers) do not shape the layout. Absolute rows and rows whose
    first segment is empty, `.` or `..` (setuptools-era `../../bin/x`) are dropped.
    """
    data_dir = f"{data_stem}.data"
    site: set[str] = set()
    data: set[str] = set()
    for raw in paths:
        if raw.startswith("/") or "\\" in raw:
            continue
        segments = raw.split("/")
        if segments[0] in ("", ".", ".."):
            continue
        if segments[0] == data_dir:
            if len(segments) < 3:
                continue
            category, rest = segments[1], segments[2:]
            if category in ("purelib", "platlib"):
                if _valid_segments(rest):
                    site.add("/".join(rest))
            elif category == "data" and _valid_segments(rest):
                data.add("/".join(rest))
            continue
        if _valid_segments(segments):
            site.add(raw)
    return sorted(site), sorted(data)


def parse_console_scripts(entry_points_text: str) -> tuple[ConsoleScript, ...]:
    """`[console_scripts]` entries as (name, module, attr); a later duplicate name overwrites."""
    scripts: dict[str, ConsoleScript] = {}
    section = None
    for raw in entry_points_text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section != "console_scripts" or "=" not in line:
            continue
        name, _, value = line.partition("=")
        value = re.split(r"\s[#;]|^[#;]", value, maxsplit=1)[0]
        value = value.split("[", 1)[0].strip()
        module, _, attr = value.partition(":")
        name, module, attr = name.strip(), module.strip(), attr.strip()
        if name and module and attr:
            scripts[name] = ConsoleScript(name, module, attr)
    return tuple(sorted(scripts.values()))


def derive_facts(
    *,
    label: str,
    dist_info: str,
    record: Iterable[str],
    entry_points_text: str = "",
    sha256: str = "",
    filename: str = "",
) -> WheelFacts:
    """All layout facts of one wheel from its RECORD paths (engine-contract.md §1.3)."""
    data_stem = dist_info[: -len(".dist-info")]
    site_paths, data_files = route_record(record, data_stem)
    name, version = split_dist_info(dist_info)
    segs = [p.split("/") for p in site_paths]
    path_set = set(site_paths)

    top_levels = sorted({s[0] for s in segs})
    regular = sorted(
        tl
        for tl in top_levels
        if not is_metadata(tl) and (tl in path_set or f"{tl}/__init__.py" in path_set)
    )
    namespace = sorted(tl for tl in top_levels if not is_metadata(tl) and tl not in regular)
    dirs = sorted({s[0] for s in segs if len(s) > 1 and not is_metadata(s[0])})
    init_dirs = {"/".join(s[:-1]) for s in segs if len(s) > 1 and s[-1] == "__init__.py"}
    namespace_set = set(namespace)

    entries: set[str] = set()
    ns_dirs: set[str] = set()
    reg_roots: set[str] = set()
    native: set[str] = set()
    for s in segs:
        under_ns = s[0] in namespace_set
        if under_ns and len(s) >= 2:
            entry = "/".join(s)
            for depth in range(2, len(s)):
                prefix = "/".join(s[:depth])
                if prefix in init_dirs:
                    entry = prefix
                    break
            entries.add(entry)
            # directories strictly below the top-level, walking down until a regular boundary
            for depth in range(2, len(s)):
                prefix = "/".join(s[:depth])
                if prefix in init_dirs:
                    reg_roots.add(prefix)
                    break
                ns_dirs.add(prefix)
    for s in segs:
        if len(s) >= 2 and is_native(s[-1]) and not is_metadata(s[0]):
            native.add(s[0])
            for depth in range(2, len(s)):
                prefix = "/".join(s[:depth])
                if prefix in ns_dirs or prefix in reg_roots:
                    native.add(prefix)

    entry_points = parse_console_scripts(entry_points_text)
    return WheelFacts(
        label=label,
        name=name,
        version=version,
        dist_info=dist_info,
        site_paths=tuple(site_paths),
        top_levels=tuple(top_levels),
        regular_top_levels=tuple(regular),
        namespace_top_levels=tuple(namespace),
        top_level_dirs=tuple(dirs),
        namespace_entries=tuple(sorted(entries)),
        namespace_dirs=tuple(sorted(ns_dirs)),
        regular_roots=tuple(sorted(reg_roots)),
        native_roots=tuple(sorted(native)),
        console_scripts=entry_points,
        data_files=tuple(data_files),
        root_pth_files=tuple(tl for tl in top_levels if tl.endswith(".pth") and tl in path_set),
        sha256=sha256,
        filename=filename,
    )


def facts_from_paths(
    label: str,
    paths: Iterable[str],
    *,
    dist_info: str | None = None,
    console_scripts: Iterable[str] = (),
    data_files: Iterable[str] = (),
) -> WheelFacts:
    """Facts for a wheel given as a bare site-packages path list: for planner tests.

    The dist-info (default `<label>-1.0.dist-info`) is added with a RECORD row so the wheel's
    layout is known; `console_scripts` take the `name=module:attr` form.
    """
    dist_info = dist_info or f"{label.replace('-', '_')}-1.0.dist-info"
    stem = dist_info[: -len(".dist-info")]
    rows = [*paths, f"{dist_info}/METADATA", f"{dist_info}/RECORD"]
    rows += [f"{stem}.data/data/{p}" for p in data_files]
    entry_points = "[console_scripts]\n" + "\n".join(console_scripts) + "\n"
    return derive_facts(
        label=label, dist_info=dist_info, record=rows, entry_points_text=entry_points
    )
