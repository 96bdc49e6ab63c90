"""Judge an observed venv: A1-A8 and the case's expectations, from plain values alone.

One entry point, `judge`, used by the runner, `harness check` and `harness new-case` alike
(through `harness.pipeline`). It takes what observing recorded (`check.Observation`, the flat
oracle's observation, the wheels' facts, the case) and returns findings (checks.md §5); it
opens no file and runs no process: observing (checks.md §4) recorded all it needs. An engine's plan may be passed to explain a finding; it never
removes one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from harness import check
from harness.expectations import LAYOUT_ENGINES
from harness.model import Plan, is_fault

if TYPE_CHECKING:
    from harness.cases import Case
    from harness.observe import Facts


def strict_layout(engine: str) -> bool:
    """The merge engine and its bug models, held to the merge engine's own rules (A7, A8)."""
    return engine in LAYOUT_ENGINES or is_fault(engine)


def judge(
    obs: check.Observation,
    flat: check.Observation | None,
    facts: Facts,
    case: Case | None,
    names: Iterable[str],
    explain: Plan | None = None,
    reports: Sequence[str] | None = None,
    strict_layout: bool = False,
) -> list[check.Finding]:
    """A1–A8 and the case's expectations, from observations alone (pure).

    `case` is already narrowed to the engine (`Case.for_engine`); without a case (None)
    A5 and the expectations do not run and every loss against flat is an A2 finding. `explain`
    is the engine's own plan, when it has one: it explains findings, never excuses them.
    `reports` is what the engine said while building (the harness's own engines' warnings):
    A8 judges that every conflict a merge resolved is among them; None (an adapter) skips A8.
    `strict_layout` (the merge engine and its bug models) holds A7 to the merge engine's own
    rule; any other engine is held to what a flat install does.
    """
    findings = check.check_a1(obs)
    findings += check.check_a2(obs, flat, facts.shipped, case, explain)
    findings += check.check_a3(obs, facts.wheels)
    # the order of fallback lines is the merge engine's rule (engine-contract.md §2.4); another
    # engine's order shows, where it matters, as a difference from flat (A5)
    order = [w.label for w in facts.wheels] if strict_layout else ()
    findings += check.check_a4(obs, order)
    if case is not None and flat is not None:
        findings += check.check_a5(obs, flat, set(names), case)
    findings += check.check_a6(obs, flat)
    findings += check.check_a7(obs, None if strict_layout else flat)
    findings += check.check_a8(obs, reports)
    if case is not None:
        findings += check.check_expectations(obs, case, facts.wheels, explain)
    return findings


__all__ = ["judge", "strict_layout"]
