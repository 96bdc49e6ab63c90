"""Judge an observed venv: A1-A8 and the case's expectations, from plain values alone.

One entry point, `judge`, used by the runner, `harness check`, `harness new-case` and the
pytest plugin alike (through `harness.run.pipeline`). It takes what observing recorded (an
`Observation` of the venv and one of the flat oracle, the wheels' facts, the case) and returns
findings (checks.md §5); it opens no file and runs no process: observing (checks.md §4) recorded
all it needs. It never takes the engine's word: an engine's plan may add its explanation to a
finding's text (`explain`), never excuse one; what an engine *said* while building (its
warnings) is judged only for whether it reported what it did (A8). Each finding names the
module or path, the concrete and the runtime side, the rule and the wheels involved; the runner
adds the case, the interpreter and the engine. The plan invariants are the harness's own
planner's (`harness.engine.invariants`), checked by the runner, not here.

Modules: `findings` (Finding, the rule table), `venv_rules` (A1-A4), `flat_rules` (A5-A8),
`expectations` (premises and the case's declarations), `wording` (how findings name owners).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from harness.cases.expectations import LAYOUT_ENGINES
from harness.judge.expectations import check_expectations, check_premises, static_blind_spots
from harness.judge.findings import RULES, Finding
from harness.judge.flat_rules import (
    check_a5,
    check_a6,
    check_a7,
    check_a8,
    differences_from_flat,
    same_module,
    signature,
)
from harness.judge.venv_rules import check_a1, check_a2, check_a3, check_a4
from harness.model import Plan, is_fault
from harness.observe.observation import Observation

if TYPE_CHECKING:
    from harness.cases.case import Case
    from harness.observe.venv import Facts


def strict_layout(engine: str) -> bool:
    """The merge engine and its bug models, held to the merge engine's own rules (A7, A8)."""
    return engine in LAYOUT_ENGINES or is_fault(engine)


def judge(
    obs: Observation,
    flat: Observation | None,
    facts: Facts,
    case: Case | None,
    names: Iterable[str],
    explain: Plan | None = None,
    reports: Sequence[str] | None = None,
    strict_layout: bool = False,
) -> list[Finding]:
    """A1–A8 and the case's expectations, from observations alone (pure).

    `case` is already narrowed to the engine (`Case.for_engine`); without a case (None)
    A5 and the expectations do not run and every loss against flat is an A2 finding. `explain`
    is the engine's own plan, when it has one: it explains findings, never excuses them.
    `reports` is what the engine said while building (the harness's own engines' warnings):
    A8 judges that every conflict a merge resolved is among them; None (an adapter) skips A8.
    `strict_layout` (the merge engine and its bug models) holds A7 to the merge engine's own
    rule; any other engine is held to what a flat install does.
    """
    findings = check_a1(obs)
    findings += check_a2(obs, flat, facts.shipped, case, explain)
    findings += check_a3(obs, facts.wheels)
    # the order of fallback lines is the merge engine's rule (engine-contract.md §2.4); another
    # engine's order shows, where it matters, as a difference from flat (A5)
    order = [w.label for w in facts.wheels] if strict_layout else ()
    findings += check_a4(obs, order)
    if case is not None and flat is not None:
        findings += check_a5(obs, flat, set(names), case)
    findings += check_a6(obs, flat)
    findings += check_a7(obs, None if strict_layout else flat)
    findings += check_a8(obs, reports)
    if case is not None:
        findings += check_expectations(obs, case, facts.wheels, explain)
    return findings


__all__ = [
    "RULES",
    "Finding",
    "check_a1",
    "check_a2",
    "check_a3",
    "check_a4",
    "check_a5",
    "check_a6",
    "check_a7",
    "check_a8",
    "check_expectations",
    "check_premises",
    "differences_from_flat",
    "judge",
    "same_module",
    "signature",
    "static_blind_spots",
    "strict_layout",
]
