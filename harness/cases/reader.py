"""Typed reads of a case file's TOML tables, and the one error format they fail with.

Every problem in a `case.toml` is reported in one shape, so its author fixes the file from
that one message:

    <file>: <table>: key '<key>': <problem>

`<table>` is the table as the file spells its header: `top level` (the keys before the first
header), `[env]`, `[expect]`, `[expect.budget]`, or one table of an array counted from 1 in file
order, `[[wheels]] #2`, `[[expect.module]] #3`. Something nested inside a table adds its own
part the same way (`[[wheels]] #2: files #1: key 'sha256': ...`, `[[wheels]] #1:
[wheels.synthetic]: key 'files': ...`). A problem with a table as a whole names no key. A type
problem reads `expected <what>, got <what was there>`:

    cases/x/case.toml: [[expect.module]] #2: key 'owner': expected a non-empty string, got an integer 3
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import CaseFileError

_MISSING = object()
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    float: "a float",
    list: "an array",
    dict: "a table",
}


def shown(value: object) -> str:
    """What a value is, for `got ...`: `nothing` when the key is missing, else its TOML type
    and (shortened) value."""
    if value is _MISSING or value is None:
        return "nothing"
    kind = _TYPE_NAMES.get(type(value), f"a {type(value).__name__}")
    text = repr(value)
    return f"{kind} {text if len(text) <= 80 else text[:77] + '...'}"


@dataclass(frozen=True)
class Where:
    """A place in a case file: the file, then the table and anything nested in it."""

    file: Path
    place: tuple[str, ...] = ()

    def inside(self, part: str) -> Where:
        return Where(self.file, (*self.place, part))

    def error(self, problem: str, key: str | None = None) -> CaseFileError:
        parts = [str(self.file), *self.place]
        if key is not None:
            parts.append(f"key '{key}'")
        return CaseFileError(": ".join([*parts, problem]))

    def __str__(self) -> str:
        """The place without the file, for naming another table in a message."""
        return ": ".join(self.place)


class Table:
    """One TOML table of a case file, read with types; every failure names where it is."""

    def __init__(self, values: Mapping[str, Any], where: Where) -> None:
        self.values = values
        self.where = where

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def fail(self, problem: str, key: str | None = None) -> CaseFileError:
        return self.where.error(problem, key)

    def expected(self, key: str, what: str) -> CaseFileError:
        """The one type error: `key '<key>': expected <what>, got <what is there>`."""
        return self.fail(f"expected {what}, got {shown(self.values.get(key, _MISSING))}", key)

    def only(self, allowed: Iterable[str]) -> None:
        """Refuse keys the schema does not know (a typo reads as a missing key otherwise)."""
        known = sorted(allowed)
        unknown = sorted(set(self.values) - set(known))
        if unknown:
            also = f"; also unknown: {', '.join(unknown[1:])}" if unknown[1:] else ""
            raise self.fail(f"unknown key (known: {', '.join(known)}){also}; a typo?", unknown[0])

    def string(self, key: str) -> str:
        """A required non-empty string."""
        value = self.values.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.expected(key, "a non-empty string")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key) if key in self.values else None

    def strings(self, key: str) -> tuple[str, ...]:
        """An array of non-empty strings (empty when the key is missing)."""
        value = self.values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.expected(key, "an array of non-empty strings")
        return tuple(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if not isinstance(value, bool):
            raise self.expected(key, "true or false")
        return value

    def integer(self, key: str, *, minimum: int, what: str) -> int:
        """A required integer (never a boolean) of at least `minimum`, described as `what`."""
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.expected(key, what)
        return value

    def table(self, key: str, header: str, *, nested: bool = False) -> Table | None:
        """The sub-table `key`, or None when missing. It is named by its `header` alone
        (`[expect.budget]`), or after this table's name when `nested` (`[[wheels]] #2:
        [wheels.synthetic]`: the header alone would not say which wheel)."""
        if key not in self.values:
            return None
        value = self.values[key]
        if not isinstance(value, dict):
            raise self.expected(key, f"a table ({header})")
        return Table(value, (self.where if nested else Where(self.where.file)).inside(header))

    def tables(self, key: str, header: str) -> list[Table]:
        """The array of tables `key`, each named `<header> #<n>` (from 1, in file order)."""
        value = self.values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.expected(key, f"an array of tables ({header})")
        top = Where(self.where.file)
        return [Table(v, top.inside(f"{header} #{i}")) for i, v in enumerate(value, 1)]

    def engines(self) -> tuple[str, ...] | None:
        """An expectation's own `engines = [...]` scope, or None for its kind's default."""
        if "engines" not in self.values:
            return None
        value = self.strings("engines")
        if not value:
            raise self.expected("engines", 'at least one engine (or "*")')
        return value


__all__ = ["Table", "Where", "shown"]
