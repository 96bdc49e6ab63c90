"""One case: everything its `case.toml` says, typed and frozen, in the order the file reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cases.expectations import LAYOUT_ENGINES, Expectations, Premise, RefusalExpectation
from harness.model import Pin

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet


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


__all__ = ["Case"]
