"""The corpus: `cases/<name>/case.toml`, each read once into one frozen `Case`.

A `Case` is everything its file says, typed, in the order the file reads: what it is about
(`description`), which interpreters it supports, which variants it must detect, what it imports
for real and with which environment, the premises that guard its wheels' shape, what it expects
and why, and last its pins (support wheels first, then the wheels under test). `harness.cases.parse`
is the one reader that builds it (errors name file, table and key: `harness.cases.reader`);
`harness.cases.documents` remembers each file's parsed TOML with its text. This module finds cases
and loads them; it imports none of the case's types until a case is loaded, so a command that
only needs a case's pins (`load_pins`, for the words `harness assemble CASE` takes) pays for
none of the expectation types, version specifiers or the fault catalogue (docs/benchmarks.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import PROJECT_ROOT
from harness.errors import CaseFileError

if TYPE_CHECKING:
    from harness.cases.case import Case
    from harness.model import Pin

CASE_FILE = "case.toml"


def default_cases_root() -> Path:
    return PROJECT_ROOT / "cases"


def _case_file(path_or_dir: str | Path) -> tuple[Path, str]:
    """The case file (given it or its directory) and its text; a clear error otherwise."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / CASE_FILE
    if not path.is_file():
        raise CaseFileError(f"{path}: no such case file (expected cases/<name>/{CASE_FILE})")
    try:
        return path, path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"{path}: not UTF-8 text: {exc}") from exc


def load_case(path_or_dir: str | Path) -> Case:
    """Read and validate `case.toml` (given the file or its directory; name = directory name)."""
    from harness.cases.documents import toml_document
    from harness.cases.parse import parse_case

    path, text = _case_file(path_or_dir)
    return parse_case(path.parent.name, path, toml_document(text, path))


def load_pins(path_or_dir: str | Path) -> tuple[Pin, ...]:
    """A case's pins in wheel order, read by the same pin parser `load_case` uses; the rest of
    the file is validated where the case is run. For commands that only install a case's
    wheels: reading its expectations would cost a warm `harness assemble CASE` ~15 ms."""
    from harness.cases.documents import toml_document
    from harness.cases.pins import parse_pins
    from harness.cases.reader import Table, Where

    path, text = _case_file(path_or_dir)
    top = Table(toml_document(text, path), Where(path, ("top level",)))
    support, wheels = parse_pins(top)
    return support + wheels


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


__all__ = [
    "CASE_FILE",
    "case_names",
    "default_cases_root",
    "discover_cases",
    "find_case",
    "is_case_name",
    "load_case",
    "load_pins",
]
