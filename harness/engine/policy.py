"""The collision policy (engine-contract.md §6), applied in one place, never to the plan.

`enforce_policy` judges what the plan recorded, before anything is written: `error` fails on
the first collision, `warning` returns every message, `ignore` none. `enforce_on_venv` judges
what only writing can tell (§6.3): the merge conflicts of a written venv, and the notes the
flat oracle made. Neither changes what is projected, merged or left on fallback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import HarnessError, PolicyError
from harness.model import POLICIES, Plan

if TYPE_CHECKING:
    from harness.engine.materialize import Venv


def _known(policy: str) -> None:
    if policy not in POLICIES:
        raise HarnessError(
            f"unknown collision policy `{policy}`: expected one of {', '.join(POLICIES)}, "
            f"got {policy!r}."
        )


def enforce_policy(plan: Plan, policy: str) -> list[str]:
    """Apply the collision policy to a plan's recorded collisions (engine-contract.md §6.1).

    `error` raises `PolicyError` on the first recorded collision, `warning` returns every
    collision message (the caller prints them), `ignore` returns nothing. Never changes the plan.
    """
    _known(policy)
    if policy == "ignore":
        return []
    messages = [f"Package collision: {c.describe()}" for c in plan.collisions]
    if policy == "error" and plan.collisions:
        first = plan.collisions[0]
        raise PolicyError(
            f"Package collision: {first.describe()} (collision policy `error` fails on the "
            f"first of {len(plan.collisions)} recorded collision"
            f"{'s' if len(plan.collisions) != 1 else ''}; use --policy warning to report them "
            "or --policy ignore to accept them silently)."
        )
    return messages


def enforce_on_venv(venv: Venv, policy: str) -> list[str]:
    """engine-contract.md §6.3: merge conflicts are known only once the venv is written.

    `error` raises `PolicyError` when a merge met a conflict (the venv stays for inspection);
    `warning` returns each conflict's report and the flat oracle's notes; `ignore` returns none.
    """
    _known(policy)
    conflicts = venv.merge_conflicts
    if policy == "error" and conflicts:
        raise PolicyError(
            "merge conflicts under the `error` policy: "
            + " ".join(c.describe(venv.site_packages) for c in conflicts)
        )
    if policy == "ignore":
        return []
    return [c.describe(venv.site_packages) for c in conflicts] + list(venv.notes)


__all__ = ["enforce_on_venv", "enforce_policy"]
