"""The expectation half of a `case.toml`: premises, expected outcomes and their explanations.

A case says *what must happen and why*; every expectation carries an `explanation` (a one-line
reason from the import system), so a reader learns the collision shape from the file alone.
Pins (`[[wheels]]`, `[[support]]`) are parsed by `harness.cases`; this module reads the rest
of the same document and validates it with errors that name the file and the key.

Schema (all sections optional; see README "Adding a case"):

    python = ">=3.9"                  # interpreters the case supports (a PEP 440 specifier set)
    detects = ["whole-tree"]          # engine variants under which the case must FAIL
                                      # (whole-tree, pth, or a fault: "fault:console-first-wins")
    imports = ["google"]              # modules that need a real import (package code runs)
    reviewed = true                   # drafts written by `harness new-case` say false
    [env]                             # environment variables the real imports need
    [[premise]]  wheel, fact, contains | excludes | equals, why
    [[expect.module]]  name, owner | absent = true, explanation
    [[expect.file]]  path, owner | absent = true | kind = "dir"|"file"|"symlink", explanation
    [[expect.prefix_file]]  path (under the venv prefix), owner | absent | kind, explanation
    [[expect.console_script]]  name, owner, explanation
    [[expect.metadata]]  name, version, explanation
    [[expect.collision]]  kind, name, explanation
    [[expect.fallback]]  wheel, explanation
    [[expect.flat_difference]]  module, explanation
    [expect.budget]  max_symlinks = N, under = "nvidia", explanation
    [[expect.refusal]]  engine, explanation     # an engine (or "*": any third-party one) may
                                                # refuse this wheel set; never counted a pass

Which engines an expectation speaks about: those that state the import system's verdict (a
module's owner, metadata, console scripts, real imports) apply to every engine; those that
encode the merge engine's own layout choices (files and their kinds, prefix files, recorded
collisions, fallbacks, symlink budgets, declared flat differences, modules hidden by design
with `absent = true`) apply to `layout_engines`: by default the harness's merge engine and the
variants that model its bugs (`merge`, `whole-tree`, `pth`, every `fault:NAME`), never the flat
oracle nor a third-party engine, whose layout choices are its own. Any expectation may name
its engines itself: `engines = ["merge", "whole-tree"]`, or `["*"]` for every engine.

A fault variant (`fault:NAME`, `harness.engine.faults`) is the merge engine with one bug
planted, so every expectation that speaks about `merge` speaks about it too: a scope naming
`merge` (by default or explicitly) covers `fault:*`. That is the point of a fault: what merge
is expected to do is exactly what must catch merge doing it wrong. A scope may also name one
fault (`fault:console-first-wins`) or all of them (`fault:*`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from harness.errors import CaseFileError
from harness.model import COLLISION_KINDS, ENGINES, FAULT_PREFIX, WheelFacts, is_fault

PREMISE_FACTS = (
    "top_levels",
    "regular_top_levels",
    "namespace_top_levels",
    "top_level_dirs",
    "namespace_entries",
    "namespace_dirs",
    "regular_roots",
    "native_roots",
    "data_files",
    "root_pth_files",
    "console_scripts",
    "site_paths",
    "dist_info",
    "version",
)


@dataclass(frozen=True)
class Premise:
    """A guard on a wheel's shape: fails if an upstream release loses the collision shape."""

    wheel: str
    fact: str
    contains: str | None
    excludes: str | None
    equals: str | None
    why: str

    def holds(self, facts: WheelFacts) -> tuple[bool, str]:
        """(ok, what was actually seen)."""
        value = getattr(facts, self.fact)
        if self.fact == "console_scripts":
            value = tuple(cs.name for cs in value)
        if isinstance(value, str):
            seen = value
            if self.equals is not None:
                return value == self.equals, seen
            if self.contains is not None:
                return self.contains in value, seen
            return self.excludes not in value, seen  # type: ignore[operator]
        items = tuple(value)
        seen = ", ".join(items[:12]) + (" …" if len(items) > 12 else "") or "(none)"
        if self.equals is not None:
            return ",".join(items) == self.equals, seen
        if self.contains is not None:
            return self.contains in items, seen
        return self.excludes not in items, seen

    def describe(self) -> str:
        if self.equals is not None:
            return f"{self.wheel}: {self.fact} == {self.equals!r}"
        if self.contains is not None:
            return f"{self.wheel}: {self.fact} contains {self.contains!r}"
        return f"{self.wheel}: {self.fact} excludes {self.excludes!r}"


@dataclass(frozen=True)
class ModuleExpectation:
    name: str
    owner: str | None  # a wheel label or distribution name whose file runtime binds
    absent: bool
    explanation: str
    engines: tuple[str, ...] | None = None  # None: the default scope of its kind


@dataclass(frozen=True)
class FileExpectation:
    path: str  # relative to the venv's site-packages
    owner: str | None
    absent: bool
    kind: str | None  # "dir", "file", "symlink"
    explanation: str
    engines: tuple[str, ...] | None = None  # None: the default scope of its kind


@dataclass(frozen=True)
class ConsoleScriptExpectation:
    name: str  # the bin/<name> wrapper
    owner: str  # the wheel whose entry point it must run
    explanation: str
    engines: tuple[str, ...] | None = None  # None: the default scope of its kind


@dataclass(frozen=True)
class MetadataExpectation:
    name: str
    version: str | None
    explanation: str
    engines: tuple[str, ...] | None = None  # None: the default scope of its kind


@dataclass(frozen=True)
class CollisionExpectation:
    kind: str
    name: str
    explanation: str
    engines: tuple[str, ...] | None = None  # None: the default scope of its kind


@dataclass(frozen=True)
class FallbackExpectation:
    wheel: str
    explanation: str
    engines: tuple[str, ...] | None = None  # None: the default scope of its kind


@dataclass(frozen=True)
class FlatDifference:
    module: str  # a dotted name; covers its submodules too
    explanation: str
    engines: tuple[str, ...] | None = None  # None: the default scope of its kind

    def covers(self, name: str) -> bool:
        return name == self.module or name.startswith(self.module + ".")


@dataclass(frozen=True)
class LinkBudget:
    max_symlinks: int
    under: str
    explanation: str
    engines: tuple[str, ...] | None = None


# The harness's merge engine and the variants that model its bugs: the engines whose layout
# choices a case's layout expectations describe, unless the case names others. `fault:*`
# (every fault variant) is implied wherever `merge` is named (`in_scope`).
LAYOUT_ENGINES = ("merge", "whole-tree", "pth", "fault:*")


def in_scope(engine: str, scope: tuple[str, ...]) -> bool:
    """Whether an expectation scoped to `scope` speaks about `engine` (module docstring)."""
    if "*" in scope or engine in scope:
        return True
    return is_fault(engine) and ("merge" in scope or f"{FAULT_PREFIX}*" in scope)


@dataclass(frozen=True)
class RefusalExpectation:
    """An engine may refuse this wheel set; the refusal is then accepted, never a pass."""

    engine: str  # an engine name, or "*"
    explanation: str


@dataclass(frozen=True)
class CaseSpec:
    """Everything a case expects, beyond its pins."""

    python: SpecifierSet | None
    detects: tuple[str, ...]
    imports: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    reviewed: bool
    premises: tuple[Premise, ...]
    modules: tuple[ModuleExpectation, ...]
    files: tuple[FileExpectation, ...]
    prefix_files: tuple[FileExpectation, ...]
    console_scripts: tuple[ConsoleScriptExpectation, ...]
    metadata: tuple[MetadataExpectation, ...]
    collisions: tuple[CollisionExpectation, ...]
    fallbacks: tuple[FallbackExpectation, ...]
    flat_differences: tuple[FlatDifference, ...]
    budgets: tuple[LinkBudget, ...]
    layout_engines: tuple[str, ...] = LAYOUT_ENGINES
    refusals: tuple[RefusalExpectation, ...] = ()

    def for_engine(self, engine: str) -> CaseSpec:
        """The expectations that speak about `engine` (see the module docstring)."""

        def applies(e, layout: bool) -> bool:
            scope = (
                e.engines if e.engines is not None else (self.layout_engines if layout else ("*",))
            )
            return in_scope(engine, scope)

        return replace(
            self,
            modules=tuple(m for m in self.modules if applies(m, m.absent)),
            files=tuple(f for f in self.files if applies(f, True)),
            prefix_files=tuple(f for f in self.prefix_files if applies(f, True)),
            console_scripts=tuple(c for c in self.console_scripts if applies(c, False)),
            metadata=tuple(m for m in self.metadata if applies(m, False)),
            collisions=tuple(c for c in self.collisions if applies(c, True)),
            fallbacks=tuple(f for f in self.fallbacks if applies(f, True)),
            flat_differences=tuple(f for f in self.flat_differences if applies(f, True)),
            budgets=tuple(b for b in self.budgets if applies(b, True)),
        )

    def accepted_refusal(self, engine: str) -> RefusalExpectation | None:
        """The declaration that accepts `engine` refusing this wheel set. `*` speaks for every
        third-party engine, never for the harness's own (a planner that refuses is a bug); one
        for `merge` speaks for its fault variants too."""
        own = engine in ENGINES or is_fault(engine)
        return next(
            (
                r
                for r in self.refusals
                if (r.engine == "*" and not own)
                or (r.engine != "*" and in_scope(engine, (r.engine,)))
            ),
            None,
        )

    def supports(self, version: tuple[int, int, int]) -> bool:
        return self.python is None or self.python.contains(".".join(map(str, version)))

    def declared_flat_difference(self, name: str) -> FlatDifference | None:
        return next((d for d in self.flat_differences if d.covers(name)), None)


class _Reader:
    """Typed access to a TOML table with errors that name the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> CaseFileError:
        return CaseFileError(f"{self.path}: `{key}`: {problem}")

    def string(
        self, table: Mapping[str, Any], key: str, where: str, *, required: bool = True
    ) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key}", "is required (a non-empty string)")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", f"must be a non-empty string, got {value!r}")
        return value

    def strings(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"{where}{key}", f"must be a list of non-empty strings, got {value!r}")
        return tuple(value)

    def tables(
        self, table: Mapping[str, Any], key: str, where: str
    ) -> list[tuple[str, Mapping[str, Any]]]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{where}{key}", "must be an array of tables ([[...]])")
        return [(f"{where}{key}[{i}]", v) for i, v in enumerate(value)]

    def only(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(
                where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
            )

    def engines(self, table: Mapping[str, Any], where: str) -> tuple[str, ...] | None:
        """An expectation's own `engines = [...]` scope, or None for its kind's default."""
        if "engines" not in table:
            return None
        value = self.strings(table, "engines", f"{where}.")
        if not value:
            raise self.fail(f"{where}.engines", 'must name at least one engine (or "*")')
        return value

    def boolean(self, table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}{key}", f"must be true or false, got {value!r}")
        return value


TOP_LEVEL_KEYS = {
    "description",
    "wheels",
    "support",
    "python",
    "detects",
    "imports",
    "env",
    "reviewed",
    "premise",
    "expect",
    "slow",
    "layout_engines",
}
EXPECT_KEYS = {
    "module",
    "file",
    "prefix_file",
    "console_script",
    "metadata",
    "collision",
    "fallback",
    "flat_difference",
    "budget",
    "refusal",
}


def parse_spec(path: Path, raw: Mapping[str, Any]) -> CaseSpec:
    """Validate and read the expectation sections of a parsed case document."""
    r = _Reader(path)
    r.only(raw, "(top level)", TOP_LEVEL_KEYS)

    python = None
    if "python" in raw:
        text = r.string(raw, "python", "(top level)")
        try:
            python = SpecifierSet(text or "")
        except InvalidSpecifier as exc:
            raise r.fail("python", f"is not a version specifier set: {exc}") from exc

    detects = r.strings(raw, "detects", "")
    for engine in detects:
        if is_fault(engine):
            from harness.engine.faults import FAULTS  # the planner, only when a case names one

            if engine.removeprefix(FAULT_PREFIX) not in FAULTS:
                raise r.fail(
                    "detects",
                    f"{engine!r} names no fault; known: "
                    + ", ".join(FAULT_PREFIX + name for name in FAULTS),
                )
        elif engine not in ENGINES or engine in ("merge", "flat"):
            raise r.fail(
                "detects",
                f"{engine!r} is not a variant a case can detect; use whole-tree, pth or "
                "fault:NAME (`harness faults --list`)",
            )

    env_table = raw.get("env", {})
    if not isinstance(env_table, dict) or not all(isinstance(v, str) for v in env_table.values()):
        raise r.fail("env", "must be a table of string values")

    premises = []
    for where, t in r.tables(raw, "premise", ""):
        r.only(t, where, {"wheel", "fact", "contains", "excludes", "equals", "why"})
        fact = r.string(t, "fact", where)
        if fact not in PREMISE_FACTS:
            raise r.fail(
                f"{where}.fact", f"{fact!r} is not a wheel fact; one of {', '.join(PREMISE_FACTS)}"
            )
        tests = [k for k in ("contains", "excludes", "equals") if k in t]
        if len(tests) != 1:
            raise r.fail(where, "needs exactly one of contains, excludes, equals")
        premises.append(
            Premise(
                wheel=r.string(t, "wheel", where),  # type: ignore[arg-type]
                fact=fact,  # type: ignore[arg-type]
                contains=r.string(t, "contains", where, required=False),
                excludes=r.string(t, "excludes", where, required=False),
                equals=t["equals"] if isinstance(t.get("equals"), str) else None,
                why=r.string(t, "why", where),  # type: ignore[arg-type]
            )
        )

    expect = raw.get("expect", {})
    if not isinstance(expect, dict):
        raise r.fail("expect", "must be a table of [[expect.*]] arrays")
    r.only(expect, "expect", EXPECT_KEYS)

    modules = []
    for where, t in r.tables(expect, "module", "expect."):
        r.only(t, where, {"name", "owner", "absent", "explanation", "engines"})
        absent = r.boolean(t, "absent", f"{where}.", False)
        owner = r.string(t, "owner", where, required=False)
        if absent == bool(owner):
            raise r.fail(where, 'needs exactly one of owner = "<wheel>" or absent = true')
        modules.append(
            ModuleExpectation(
                r.string(t, "name", where),
                owner,
                absent,
                r.string(t, "explanation", where),
                r.engines(t, where),
            )
        )  # type: ignore[arg-type]

    files = _file_expectations(r, expect, "file")
    prefix_files = _file_expectations(r, expect, "prefix_file")

    console_scripts = []
    for where, t in r.tables(expect, "console_script", "expect."):
        r.only(t, where, {"name", "owner", "explanation", "engines"})
        console_scripts.append(
            ConsoleScriptExpectation(
                r.string(t, "name", where),  # type: ignore[arg-type]
                r.string(t, "owner", where),  # type: ignore[arg-type]
                r.string(t, "explanation", where),  # type: ignore[arg-type]
                r.engines(t, where),
            )
        )

    metadata = []
    for where, t in r.tables(expect, "metadata", "expect."):
        r.only(t, where, {"name", "version", "explanation", "engines"})
        metadata.append(
            MetadataExpectation(
                r.string(t, "name", where),  # type: ignore[arg-type]
                r.string(t, "version", where, required=False),
                r.string(t, "explanation", where),  # type: ignore[arg-type]
                r.engines(t, where),
            )
        )

    collisions = []
    for where, t in r.tables(expect, "collision", "expect."):
        r.only(t, where, {"kind", "name", "explanation", "engines"})
        kind = r.string(t, "kind", where)
        if kind not in COLLISION_KINDS:
            raise r.fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(COLLISION_KINDS)}")
        collisions.append(
            CollisionExpectation(
                kind,
                r.string(t, "name", where),
                r.string(t, "explanation", where),
                r.engines(t, where),
            )
        )  # type: ignore[arg-type]

    fallbacks = []
    for where, t in r.tables(expect, "fallback", "expect."):
        r.only(t, where, {"wheel", "explanation", "engines"})
        fallbacks.append(
            FallbackExpectation(
                r.string(t, "wheel", where),
                r.string(t, "explanation", where),
                r.engines(t, where),
            )
        )  # type: ignore[arg-type]

    flat = []
    for where, t in r.tables(expect, "flat_difference", "expect."):
        r.only(t, where, {"module", "explanation", "engines"})
        flat.append(
            FlatDifference(
                r.string(t, "module", where),
                r.string(t, "explanation", where),
                r.engines(t, where),
            )
        )  # type: ignore[arg-type]

    budgets = []
    budget = expect.get("budget")
    if budget is not None:
        if not isinstance(budget, dict):
            raise r.fail("expect.budget", "must be a table")
        r.only(budget, "expect.budget", {"max_symlinks", "under", "explanation", "engines"})
        limit = budget.get("max_symlinks")
        if not isinstance(limit, int) or limit < 0:
            raise r.fail(
                "expect.budget.max_symlinks", f"must be a non-negative integer, got {limit!r}"
            )
        budgets.append(
            LinkBudget(
                limit,
                r.string(budget, "under", "expect.budget"),
                r.string(budget, "explanation", "expect.budget"),
                r.engines(budget, "expect.budget"),
            )
        )  # type: ignore[arg-type]

    refusals = []
    for where, t in r.tables(expect, "refusal", "expect."):
        r.only(t, where, {"engine", "explanation"})
        refusals.append(
            RefusalExpectation(r.string(t, "engine", where), r.string(t, "explanation", where))  # type: ignore[arg-type]
        )

    return CaseSpec(
        python=python,
        detects=detects,
        imports=r.strings(raw, "imports", ""),
        env=tuple(sorted(env_table.items())),
        reviewed=r.boolean(raw, "reviewed", "", True),
        premises=tuple(premises),
        modules=tuple(modules),
        files=tuple(files),
        prefix_files=tuple(prefix_files),
        console_scripts=tuple(console_scripts),
        metadata=tuple(metadata),
        collisions=tuple(collisions),
        fallbacks=tuple(fallbacks),
        flat_differences=tuple(flat),
        budgets=tuple(budgets),
        layout_engines=r.strings(raw, "layout_engines", "")
        if "layout_engines" in raw
        else LAYOUT_ENGINES,
        refusals=tuple(refusals),
    )


def _file_expectations(r: _Reader, expect: Mapping[str, Any], key: str) -> list[FileExpectation]:
    """`[[expect.file]]` (site-packages relative) or `[[expect.prefix_file]]` (venv prefix)."""
    found = []
    for where, t in r.tables(expect, key, "expect."):
        r.only(t, where, {"path", "owner", "absent", "kind", "explanation", "engines"})
        path = r.string(t, "path", where)
        parts = (path or "").split("/")
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts):  # type: ignore[union-attr]
            raise r.fail(
                f"{where}.path",
                f"must be a relative path without `.`, `..` or empty segments, got {path!r}",
            )
        kind = r.string(t, "kind", where, required=False)
        if kind not in (None, "dir", "file", "symlink"):
            raise r.fail(f"{where}.kind", f"must be dir, file or symlink, got {kind!r}")
        absent = r.boolean(t, "absent", f"{where}.", False)
        owner = r.string(t, "owner", where, required=False)
        if not (absent or owner or kind):
            raise r.fail(where, "needs owner, kind or absent = true")
        found.append(
            FileExpectation(
                path, owner, absent, kind, r.string(t, "explanation", where), r.engines(t, where)
            )
        )  # type: ignore[arg-type]
    return found
