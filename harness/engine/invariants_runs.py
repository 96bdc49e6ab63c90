"""Invariants 1 and 2 (checks.md §6.1, §6.2): the planner and the policy, run again.

Determinism re-plans the same wheels (and the first one listed twice); policy neutrality applies
every policy to the plan. Both take the planner and the policy as parameters, so the negative
tests can show each check failing on a faulty implementation.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.engine.invariants_context import Enforcer, Planner
from harness.errors import HarnessError, PolicyError
from harness.model import POLICIES, Plan, WheelFacts


def _check_determinism(wheels: Sequence[WheelFacts], plan: Plan, planner: Planner) -> list[str]:
    """Item 1 (+ item 5's second half): same input, same plan; a repeated wheel changes nothing."""
    tag = "[determinism]"
    try:
        first = planner(list(wheels), plan.engine)
        second = planner(list(wheels), plan.engine)
        repeated = planner([*wheels, *wheels[:1]], plan.engine) if wheels else first
    except HarnessError as exc:
        return [f"{tag} re-planning the same wheels with engine {plan.engine} failed: {exc}"]
    out = []
    if first != second or first.to_json() != second.to_json():
        out.append(f"{tag} planning the same wheels twice gave different plans")
    if first != plan:
        out.append(f"{tag} the plan differs from a fresh plan of the same wheels")
    if repeated != first:
        out.append(f"{tag} listing the first wheel a second time changed the plan")
    return out


def _check_policy_neutrality(plan: Plan, enforce: Enforcer) -> list[str]:
    """Item 2: warning/ignore never fail; error fails iff collisions exist, on the first one."""
    tag = "[policy-neutrality]"
    out = []
    snapshot = plan.to_json()
    results: dict[str, list[str] | PolicyError] = {}
    for policy in POLICIES:
        try:
            results[policy] = enforce(plan, policy)
        except PolicyError as exc:
            results[policy] = exc
    if plan.to_json() != snapshot:
        out.append(f"{tag} applying a policy changed the plan")
    for policy in ("warning", "ignore"):
        if isinstance(results[policy], PolicyError):
            out.append(f"{tag} policy {policy} raised: {results[policy]}")
    warning, ignore, error = results["warning"], results["ignore"], results["error"]
    if isinstance(ignore, list) and ignore:
        out.append(f"{tag} policy ignore returned {len(ignore)} messages, expected none")
    if isinstance(warning, list):
        described = [c.describe() for c in plan.collisions]
        if len(warning) != len(described) or any(
            d not in m for d, m in zip(described, warning, strict=False)
        ):
            out.append(
                f"{tag} policy warning returned {len(warning)} messages for "
                f"{len(described)} recorded collisions"
            )
    if plan.collisions:
        if not isinstance(error, PolicyError):
            out.append(f"{tag} policy error did not fail on {len(plan.collisions)} collisions")
        elif plan.collisions[0].describe() not in str(error):
            out.append(f"{tag} policy error did not report the first recorded collision")
    elif isinstance(error, PolicyError):
        out.append(f"{tag} policy error failed on a plan without collisions")
    return out
