"""Prepared wheels -> plan -> policy -> venv: the one call the CLI, the runner and the pytest
plugin share, so all three build venvs exactly the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.engine.materialize import Venv, materialize
from harness.engine.plan import enforce_policy, plan
from harness.model import Interpreter, Plan, PreparedWheel


@dataclass(frozen=True)
class Assembly:
    """A written venv with the plan it obeys and every message the policy lets through."""

    plan: Plan
    venv: Venv
    warnings: tuple[str, ...] = ()


def assemble(
    prepared: Sequence[PreparedWheel],
    interpreter: Interpreter,
    out: Path,
    *,
    engine: str = "merge",
    policy: str = "warning",
    replace: bool = False,
) -> Assembly:
    """Plan `prepared` (in wheel order) with `engine`, apply `policy`, write the venv at `out`.

    `error` raises `PolicyError` before anything is written when the plan records a collision;
    `warning` returns the collision and merge-conflict messages; `ignore` returns none.
    """
    the_plan = plan([p.facts for p in prepared], engine=engine)
    warnings = list(enforce_policy(the_plan, policy))
    trees = {p.label: p.tree for p in prepared}
    venv = materialize(the_plan, trees, interpreter, Path(out), replace=replace, policy=policy)
    if policy != "ignore":
        warnings += [c.describe(venv.site_packages) for c in venv.merge_conflicts]
        warnings += list(venv.notes)
    return Assembly(plan=the_plan, venv=venv, warnings=tuple(warnings))


__all__ = ["Assembly", "assemble"]
