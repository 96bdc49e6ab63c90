"""What a case expects and why: premises, expected outcomes and the engines each speaks about.

These are the typed values a `case.toml` is read into (`harness.cases.parse` parses them; a
`harness.cases.case.Case` holds them). Every expectation carries an `explanation`, a one-line reason
from the import system, so a reader learns the collision shape from the case file alone.

Schema (all sections optional; see README "Adding a case"), in the order a case file reads:

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

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.model import ENGINES, FAULT_PREFIX, WheelFacts, is_fault

if TYPE_CHECKING:
    pass

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
    path: str  # relative to the venv's site-packages (or prefix, for expect.prefix_file)
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


@dataclass(frozen=True)
class RefusalExpectation:
    """An engine may refuse this wheel set; the refusal is then accepted, never a pass."""

    engine: str  # an engine name, or "*"
    explanation: str


@dataclass(frozen=True)
class Expectations:
    """A case's `[[expect.*]]` tables, one tuple per kind, in file order."""

    modules: tuple[ModuleExpectation, ...] = ()
    files: tuple[FileExpectation, ...] = ()
    prefix_files: tuple[FileExpectation, ...] = ()
    console_scripts: tuple[ConsoleScriptExpectation, ...] = ()
    metadata: tuple[MetadataExpectation, ...] = ()
    collisions: tuple[CollisionExpectation, ...] = ()
    fallbacks: tuple[FallbackExpectation, ...] = ()
    flat_differences: tuple[FlatDifference, ...] = ()
    budgets: tuple[LinkBudget, ...] = ()  # the one [expect.budget] table, when given
    refusals: tuple[RefusalExpectation, ...] = ()

    def for_engine(self, engine: str, layout_engines: tuple[str, ...]) -> Expectations:
        """The expectations that speak about `engine` (see the module docstring)."""

        def applies(e: Any, layout: bool) -> bool:
            scope = e.engines if e.engines is not None else (layout_engines if layout else ("*",))
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

    def declared_flat_difference(self, name: str) -> FlatDifference | None:
        return next((d for d in self.flat_differences if d.covers(name)), None)


__all__ = [
    "LAYOUT_ENGINES",
    "PREMISE_FACTS",
    "CollisionExpectation",
    "ConsoleScriptExpectation",
    "Expectations",
    "FallbackExpectation",
    "FileExpectation",
    "FlatDifference",
    "LinkBudget",
    "MetadataExpectation",
    "ModuleExpectation",
    "Premise",
    "RefusalExpectation",
    "in_scope",
]
