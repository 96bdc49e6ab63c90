"""The one reader of `case.toml`: a parsed TOML document → a validated, frozen `Case`.

It reads the document the way the file reads, top-down: `description` and the top keys
(`python`, `detects`, `imports`, `[env]`, ...), the `[[premise]]` guards, the `[[expect.*]]`
tables, then the pins (`harness.cases.pins`). Every error has the one format of
`harness.cases.reader`: file, table, key, problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cases.case import Case
from harness.cases.expectations import (
    LAYOUT_ENGINES,
    PREMISE_FACTS,
    CollisionExpectation,
    ConsoleScriptExpectation,
    Expectations,
    FallbackExpectation,
    FileExpectation,
    FlatDifference,
    LinkBudget,
    MetadataExpectation,
    ModuleExpectation,
    Premise,
    RefusalExpectation,
)
from harness.cases.pins import PIN_TABLES, parse_pins
from harness.cases.reader import Table, Where
from harness.model import COLLISION_KINDS, ENGINES, FAULT_PREFIX, is_fault

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

TOP_LEVEL_KEYS = frozenset(
    {
        "description",
        "python",
        "detects",
        "imports",
        "env",
        "reviewed",
        "slow",
        "layout_engines",
        "premise",
        "expect",
        *PIN_TABLES,
    }
)


def parse_case(name: str, path: Path, document: Mapping[str, Any]) -> Case:
    """Validate a parsed `case.toml` document (read from `path`) into the case `name`."""
    top = Table(document, Where(path, ("top level",)))
    top.only(TOP_LEVEL_KEYS)
    description = top.string("description")
    python = _python(top)
    detects = _detects(top)
    imports = top.strings("imports")
    env = _env(top)
    reviewed = top.boolean("reviewed", True)
    slow = top.boolean("slow", False)
    layout_engines = top.strings("layout_engines") if "layout_engines" in top else LAYOUT_ENGINES
    premises = tuple(_premise(t) for t in top.tables("premise", "[[premise]]"))
    expect = _expectations(top)
    support, wheels = parse_pins(top)
    return Case(
        name=name,
        path=path,
        description=description,
        python=python,
        detects=detects,
        imports=imports,
        env=env,
        reviewed=reviewed,
        slow=slow,
        layout_engines=layout_engines,
        premises=premises,
        expect=expect,
        support=support,
        wheels=wheels,
    )


# --------------------------------------------------------------------------- top keys


def _python(top: Table) -> SpecifierSet | None:
    """The interpreters the case supports (packaging is imported only when a case names some)."""
    if "python" not in top:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = top.string("python")
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise top.fail(f"not a version specifier set: {exc}", "python") from exc


def _detects(top: Table) -> tuple[str, ...]:
    """The variants under which the case must fail: whole-tree, pth or a known fault."""
    detects = top.strings("detects")
    for engine in detects:
        if is_fault(engine):
            from harness.engine.faults import FAULTS  # the planner, only when a case names one

            if engine.removeprefix(FAULT_PREFIX) not in FAULTS:
                known = ", ".join(FAULT_PREFIX + fault for fault in FAULTS)
                raise top.fail(f"{engine!r} names no fault; known: {known}", "detects")
        elif engine not in ENGINES or engine in ("merge", "flat"):
            raise top.fail(
                f"{engine!r} is not a variant a case can detect; use whole-tree, pth or "
                "fault:NAME (`harness faults --list`)",
                "detects",
            )
    return detects


def _env(top: Table) -> tuple[tuple[str, str], ...]:
    """`[env]`: the environment variables the real imports need, sorted by name."""
    env = top.table("env", "[env]")
    if env is None:
        return ()
    for key, value in env.values.items():
        if not isinstance(value, str):
            raise env.expected(key, "a string")
    return tuple(sorted(env.values.items()))


def _premise(t: Table) -> Premise:
    t.only({"wheel", "fact", "contains", "excludes", "equals", "why"})
    fact = t.string("fact")
    if fact not in PREMISE_FACTS:
        raise t.fail(f"{fact!r} is not a wheel fact; one of {', '.join(PREMISE_FACTS)}", "fact")
    if sum(k in t for k in ("contains", "excludes", "equals")) != 1:
        raise t.fail("needs exactly one of contains, excludes, equals")
    equals = t.values.get("equals")
    if "equals" in t and not isinstance(equals, str):  # may be empty: a fact with no items
        raise t.expected("equals", "a string")
    return Premise(
        wheel=t.string("wheel"),
        fact=fact,
        contains=t.optional_string("contains"),
        excludes=t.optional_string("excludes"),
        equals=equals,
        why=t.string("why"),
    )


# --------------------------------------------------------------------------- [[expect.*]]


def _expectations(top: Table) -> Expectations:
    expect = top.table("expect", "[expect]")
    if expect is None:
        return Expectations()
    expect.only({*_ARRAYS, "budget"})
    found = {
        field: tuple(read(t) for t in expect.tables(key, f"[[expect.{key}]]"))
        for key, (field, read) in _ARRAYS.items()
    }
    budget = expect.table("budget", "[expect.budget]")
    return Expectations(**found, budgets=(_budget(budget),) if budget else ())


def _module(t: Table) -> ModuleExpectation:
    t.only({"name", "owner", "absent", "explanation", "engines"})
    absent = t.boolean("absent", False)
    owner = t.optional_string("owner")
    if absent == bool(owner):
        raise t.fail('needs exactly one of owner = "<wheel>" or absent = true')
    return ModuleExpectation(t.string("name"), owner, absent, t.string("explanation"), t.engines())


def _file(t: Table) -> FileExpectation:
    """`[[expect.file]]` (site-packages relative) or `[[expect.prefix_file]]` (venv prefix)."""
    t.only({"path", "owner", "absent", "kind", "explanation", "engines"})
    path = t.string("path")
    if path.startswith("/") or any(p in ("", ".", "..") for p in path.split("/")):
        raise t.expected("path", "a relative path without '.', '..' or empty segments")
    kind = t.optional_string("kind")
    if kind not in (None, "dir", "file", "symlink"):
        raise t.expected("kind", "dir, file or symlink")
    absent = t.boolean("absent", False)
    owner = t.optional_string("owner")
    if not (absent or owner or kind):
        raise t.fail("needs owner, kind or absent = true")
    return FileExpectation(path, owner, absent, kind, t.string("explanation"), t.engines())


def _console_script(t: Table) -> ConsoleScriptExpectation:
    t.only({"name", "owner", "explanation", "engines"})
    return ConsoleScriptExpectation(
        t.string("name"), t.string("owner"), t.string("explanation"), t.engines()
    )


def _metadata(t: Table) -> MetadataExpectation:
    t.only({"name", "version", "explanation", "engines"})
    return MetadataExpectation(
        t.string("name"), t.optional_string("version"), t.string("explanation"), t.engines()
    )


def _collision(t: Table) -> CollisionExpectation:
    t.only({"kind", "name", "explanation", "engines"})
    kind = t.string("kind")
    if kind not in COLLISION_KINDS:
        raise t.fail(f"{kind!r} is not one of {', '.join(COLLISION_KINDS)}", "kind")
    return CollisionExpectation(kind, t.string("name"), t.string("explanation"), t.engines())


def _fallback(t: Table) -> FallbackExpectation:
    t.only({"wheel", "explanation", "engines"})
    return FallbackExpectation(t.string("wheel"), t.string("explanation"), t.engines())


def _flat_difference(t: Table) -> FlatDifference:
    t.only({"module", "explanation", "engines"})
    return FlatDifference(t.string("module"), t.string("explanation"), t.engines())


def _refusal(t: Table) -> RefusalExpectation:
    t.only({"engine", "explanation"})
    return RefusalExpectation(t.string("engine"), t.string("explanation"))


def _budget(t: Table) -> LinkBudget:
    t.only({"max_symlinks", "under", "explanation", "engines"})
    limit = t.integer("max_symlinks", minimum=0, what="a non-negative integer")
    return LinkBudget(limit, t.string("under"), t.string("explanation"), t.engines())


# `[[expect.<key>]]` → (the `Expectations` field, the reader of one table)
_ARRAYS: dict[str, tuple[str, Callable[[Table], Any]]] = {
    "module": ("modules", _module),
    "file": ("files", _file),
    "prefix_file": ("prefix_files", _file),
    "console_script": ("console_scripts", _console_script),
    "metadata": ("metadata", _metadata),
    "collision": ("collisions", _collision),
    "fallback": ("fallbacks", _fallback),
    "flat_difference": ("flat_differences", _flat_difference),
    "refusal": ("refusals", _refusal),
}


__all__ = ["TOP_LEVEL_KEYS", "parse_case"]
