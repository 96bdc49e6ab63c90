"""What a fault variant is: the `Fault` record and the shapes of its deviations.

A fault (`harness.engine.faults`) is the merge engine with one bug planted, deviating in exactly
one way: a planner function swapped for one call, different facts shown to the planner, the plan
transformed, the written venv changed, or the engine's report filtered. The catalogue is split by
where the bug lives: `faults_planner` (swaps, facts), `faults_plans` (plan), `faults_venv` (venv,
report).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.engine.materialize import Venv
from harness.model import FAULT_PREFIX, Interpreter, Plan, PreparedWheel, WheelFacts

PlanStep = Callable[[Plan, Sequence[WheelFacts]], Plan]
VenvStep = Callable[[Plan, Mapping[str, PreparedWheel], Venv, Interpreter], bool]
ReportStep = Callable[[Sequence[str], Venv], list[str]]
Touches = Callable[[Plan, Sequence[WheelFacts]], bool]


@dataclass(frozen=True)
class Fault:
    """One planted bug: its story, how it deviates from `merge`, and the deviation itself."""

    name: str
    paragraph: str  # the bug, where it comes from, what goes wrong at runtime
    deviation: str  # one line: how it is planted here
    swaps: Mapping[str, Callable[[Callable], Callable]] = field(default_factory=dict)
    facts: Callable[[WheelFacts], WheelFacts] | None = None
    plan: PlanStep | None = None
    venv: VenvStep | None = None
    report: ReportStep | None = None
    touches: Touches | None = None  # can `venv`/`report` change anything here (cheap guess)

    @property
    def engine(self) -> str:
        return FAULT_PREFIX + self.name


__all__ = ["Fault", "PlanStep", "ReportStep", "Touches", "VenvStep"]
