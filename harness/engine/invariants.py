"""Plan-level invariants (checks.md §6) checked on any plan, for any engine variant.

`check_plan_invariants(wheels, plan)` returns every violation as a sentence tagged with the
invariant it breaks (`[no-nested-outputs] ...`); an empty list means the plan is sound. Each
check recomputes its expectation from the wheel facts (not from the planner's internals), so a
planner bug shows up here rather than in a venv. The runner calls this on every case, so every
check is linear in the number of paths (set look-ups over ancestor chains).

The checks are grouped by family: `invariants_runs` (re-planning, policies),
`invariants_outputs` (shape, nesting, reserved paths, owners, supersede, decisions),
`invariants_winners` (last distinct claimant, metadata copies, the `pth` set) and
`invariants_coverage` (fallbacks, silent loss, native code, namespaces), over the look-ups and
restated helpers of `invariants_context`. Every check has a negative test that shows it failing
on a deliberately broken plan (tests/unit/test_invariants.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.engine.invariants_context import (
    VENV_OWNED_PREFIX_ROOTS,
    Enforcer,
    Planner,
    _Context,
    ancestors,
    distribution_key,
)
from harness.engine.invariants_coverage import (
    _check_fallback_completeness,
    _check_namespace_purity,
    _check_native_origin,
    _check_no_silent_loss,
    _check_regular_beats_graft,
)
from harness.engine.invariants_outputs import (
    _check_decisions_cover_outputs,
    _check_no_nested_outputs,
    _check_owners_ship_paths,
    _check_reserved_prefix,
    _check_shape,
    _check_supersede,
)
from harness.engine.invariants_runs import _check_determinism, _check_policy_neutrality
from harness.engine.invariants_winners import (
    _check_last_distinct_wins,
    _check_one_metadata_copy,
    _check_pth,
)
from harness.engine.plan import enforce_policy
from harness.engine.plan import plan as make_plan
from harness.model import Plan, WheelFacts


def check_plan_invariants(
    wheels: Sequence[WheelFacts],
    plan: Plan,
    *,
    planner: Planner = make_plan,
    enforce: Enforcer = enforce_policy,
) -> list[str]:
    """Every checks.md §6 invariant checkable on a plan; violations as sentences.

    `planner` and `enforce` default to this package's functions; they are parameters so the
    determinism and policy-neutrality checks can be shown to fail on a faulty implementation.
    """
    ctx = _Context.build(wheels, plan)
    violations: list[str] = []
    violations += _check_determinism(wheels, plan, planner)
    violations += _check_policy_neutrality(plan, enforce)
    violations += _check_shape(ctx)
    if plan.engine in ("merge", "whole-tree"):
        violations += _check_no_nested_outputs(ctx)
        violations += _check_reserved_prefix(ctx)
        violations += _check_owners_ship_paths(ctx)
        violations += _check_supersede(ctx)
        violations += _check_last_distinct_wins(ctx)
        violations += _check_fallback_completeness(ctx)
        violations += _check_no_silent_loss(ctx)
        violations += _check_native_origin(ctx)
        if plan.engine == "merge":  # whole-tree reproduces the graft bug on purpose
            violations += _check_regular_beats_graft(ctx)
        violations += _check_namespace_purity(ctx)
        violations += _check_one_metadata_copy(ctx)
        violations += _check_decisions_cover_outputs(ctx)
    elif plan.engine == "pth":
        violations += _check_pth(ctx)
    return violations


__all__ = ["VENV_OWNED_PREFIX_ROOTS", "ancestors", "check_plan_invariants", "distribution_key"]
