"""Prepared wheels -> plan -> policy -> venv: the one call the CLI, the runner and the pytest
plugin share, so all three build venvs exactly the same way.

`engine="flat"` is the oracle: its venv is built by `harness.oracle.install_flat` from the
wheel files (pypa/installer, pip's rules), never by this package's materializer or merge code;
its plan is the planner's flat plan, kept only to explain the install order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.engine.materialize import Venv, materialize, prepare_out, write_state
from harness.engine.plan import plan
from harness.engine.policy import enforce_on_venv, enforce_policy
from harness.model import InstallTree, Interpreter, Plan, PreparedWheel


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

    `error` raises `PolicyError` before anything is written when the plan records a collision,
    and after writing when a merge met a conflict (the venv stays for inspection); `warning`
    returns the collision and merge-conflict messages; `ignore` returns none.
    """
    the_plan = plan([p.facts for p in prepared], engine=engine)
    warnings = list(enforce_policy(the_plan, policy))
    venv, said = write_planned(the_plan, prepared, interpreter, Path(out), policy, replace)
    return Assembly(plan=the_plan, venv=venv, warnings=tuple(warnings + said))


def write_planned(
    the_plan: Plan,
    prepared: Sequence[PreparedWheel],
    interpreter: Interpreter,
    out: Path,
    policy: str,
    replace: bool,
) -> tuple[Venv, list[str]]:
    """Write a plan the policy accepted, then judge what writing told (engine-contract.md §6.3):
    the venv and the merge-conflict messages (and the flat oracle's notes) the policy lets
    through. The materializer writes the plan; `flat` is the oracle's."""
    trees = {p.label: p.tree for p in prepared}
    if the_plan.engine == "flat":
        venv = _flat(the_plan, prepared, trees, interpreter, out, replace=replace)
    else:
        venv = materialize(the_plan, trees, interpreter, out, replace=replace)
    return venv, enforce_on_venv(venv, policy)


def _flat(
    the_plan: Plan,
    prepared: Sequence[PreparedWheel],
    trees: Mapping[str, InstallTree],
    interpreter: Interpreter,
    out: Path,
    *,
    replace: bool,
) -> Venv:
    """The oracle's venv, with the same `.harness/` state as every other venv (the flat plan
    and a manifest whose owners are the oracle's own record of who wrote each file)."""
    from harness.oracle import install_flat  # the oracle (pypa/installer) only for `flat`

    out = Path(os.path.abspath(out))
    prepare_out(out, replace)
    flat = install_flat(prepared, interpreter, out)
    venv = Path(os.path.realpath(flat.path))
    site_packages = Path(os.path.realpath(flat.site_packages))
    write_state(the_plan, trees, interpreter, venv, site_packages, flat.owners, ())
    return Venv(
        path=flat.path,
        python=flat.python,
        site_packages=flat.site_packages,
        engine="flat",
        owners=dict(flat.owners),
        notes=flat.notes,
    )


__all__ = ["Assembly", "assemble", "write_planned"]
