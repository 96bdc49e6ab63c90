"""The corpus: `cases/<name>/case.toml`, each read once into one frozen `Case`.

A `Case` is everything its file says, typed, in the order the file reads: what it is about
(`description`), which interpreters it supports, which variants it must detect, what it imports
for real and with which environment, the premises that guard its wheels' shape, what it expects
and why, and last its pins (support wheels first, then the wheels under test). `harness.cases.parse`
is the one reader that builds it (errors name file, table and key: `harness.cases.reader`);
`harness.cases.documents` remembers each file's parsed TOML with its text. This module finds cases
and loads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cases.expectations import LAYOUT_ENGINES, Expectations, Premise, RefusalExpectation
from harness.config import PROJECT_ROOT
from harness.errors import CaseFileError
from harness.model import Pin

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

CASE_FILE = "case.toml"


def default_cases_root() -> Path:
    return PROJECT_ROOT / "cases"


@dataclass(frozen=True)
class Case:
    """One parsed, validated case. `path` is the `case.toml` file itself.

    A case narrowed to one engine (`for_engine`) keeps only the expectations that speak
    about that engine; everything else is the same.
    """

    name: str
    path: Path
    description: str
    python: SpecifierSet | None = None  # interpreters the case supports; None: all
    detects: tuple[str, ...] = ()  # variants under which the case must fail
    imports: tuple[str, ...] = ()  # modules imported for real (package code runs)
    env: tuple[tuple[str, str], ...] = ()  # [env] of those imports, sorted by name
    reviewed: bool = True  # drafts written by `harness new-case` say false
    slow: bool = False  # runs only with HARNESS_SLOW=1
    layout_engines: tuple[str, ...] = LAYOUT_ENGINES  # default scope of layout expectations
    premises: tuple[Premise, ...] = ()
    expect: Expectations = field(default_factory=Expectations)
    support: tuple[Pin, ...] = ()  # [[support]]: what a real import needs
    wheels: tuple[Pin, ...] = ()  # [[wheels]]: the wheels under test

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def pins(self) -> tuple[Pin, ...]:
        """Every pin in wheel order: support wheels first, then the wheels under test."""
        return self.support + self.wheels

    def supports(self, version: tuple[int, ...]) -> bool:
        """Whether the case runs on an interpreter of this version."""
        return self.python is None or self.python.contains(".".join(map(str, version)))

    def for_engine(self, engine: str) -> Case:
        """The case with only the expectations that speak about `engine` (harness.cases.expectations)."""
        return replace(self, expect=self.expect.for_engine(engine, self.layout_engines))

    def accepted_refusal(self, engine: str) -> RefusalExpectation | None:
        """The `[[expect.refusal]]` that accepts `engine` refusing this wheel set, if any."""
        return self.expect.accepted_refusal(engine)


def load_case(path_or_dir: str | Path) -> Case:
    """Read and validate `case.toml` (given the file or its directory; name = directory name)."""
    from harness.cases.documents import toml_document
    from harness.cases.parse import parse_case

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
    "Case",
    "case_names",
    "default_cases_root",
    "discover_cases",
    "find_case",
    "is_case_name",
    "load_case",
]
