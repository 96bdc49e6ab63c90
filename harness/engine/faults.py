"""Fault variants: the merge engine with one real-world bug planted, run as `fault:NAME`.

Each fault is one paragraph of engine history (the upstream bug it reproduces in rules_py's
engine, or the shape of another engine such as pex) and one small, explicit deviation from the
`merge` engine. The corpus must fail under every fault: `harness faults` runs them all and
prints which case catches which fault with which rule, and a case may list the faults it
detects (`detects = ["fault:console-first-wins"]`). What a user runs against their own engine is
the corpus, so the corpus, not the engine's unit tests, is what must catch the bugs engines make.

A deviation is one of (see `Fault`):

- `swaps`: one named function of the planner (`harness.engine.plan`) is replaced, for the
  duration of one planning call, by a wrapper around the original, in every planner module that
  binds it. The planner's own code is untouched: the bug is the replacement, written out in
  `faults_planner`;
- `facts`: the planner is shown different wheel facts (what the engine fails to see);
- `plan`: the planner's result is transformed before it is written;
- `venv`: the written venv is changed afterwards (what a buggy materializer or merge would have
  left on disk), answering whether it changed anything;
- `report`: what the engine says while building is filtered.

A fault that changes nothing for a wheel set (same layout as `merge`, nothing changed on disk
or in the report) is *not exercised* there: the runner reports it as such rather than as a
pass, since its venv would be `merge`'s. Faults are judged like every other engine, from the
venv alone (A1-A8 and the case's expectations); the plan invariants are not run on them, so a
fault counts as detected only where the corpus itself catches it.

This module runs faults; the catalogue lives beside the code of each family: `faults_planner`
(swaps, facts), `faults_plans` (plan) and `faults_venv` (venv, report); `faults_base` holds the
`Fault` record.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.engine import plan as planner
from harness.engine.assemble import Assembly, write_planned
from harness.engine.faults_base import Fault
from harness.engine.faults_planner import PLANNER_FAULTS
from harness.engine.faults_plans import PLAN_FAULTS
from harness.engine.faults_venv import VENV_FAULTS, naive_wrapper
from harness.engine.policy import enforce_policy
from harness.errors import HarnessError, PlanError
from harness.model import FAULT_PREFIX, Interpreter, Plan, PreparedWheel, WheelFacts, is_fault


@dataclass(frozen=True)
class FaultBuild:
    """What building a fault gave: the venv (None when not built) and whether the fault
    changed anything against `merge` for this wheel set."""

    assembly: Assembly | None
    exercised: bool
    why: str = ""


# --------------------------------------------------------------------------- the registry

# The catalogue in the order `harness faults` lists it (engine-contract.md §7.6).
_ORDER = (
    "first-wins-whole-tree",
    "graft-wins-native",
    "native-merged",
    "metadata-zero-hidden",
    "metadata-one-doubled",
    "metadata-many-accepted",
    "metadata-counts-claimants",
    "dup-metadata-not-suppressed",
    "two-versions-both-visible",
    "console-first-wins",
    "namespace-collapse-shared",
    "fallback-reversed",
    "partly-covered-dropped",
    "addsitedir-known",
    "merge-reversed",
    "stale-bytecode-kept",
    "conflicts-unreported",
    "data-in-site-packages",
    "console-dotted-unresolved",
)
_BY_NAME = {f.name: f for f in (*PLANNER_FAULTS, *PLAN_FAULTS, *VENV_FAULTS)}
assert sorted(_BY_NAME) == sorted(_ORDER), "every fault is listed once in _ORDER"
FAULTS: dict[str, Fault] = {name: _BY_NAME[name] for name in _ORDER}


# --------------------------------------------------------------------------- planner swaps

_SWAP_LOCK = threading.Lock()


@contextlib.contextmanager
def _swapped(swaps: Mapping[str, Callable[[Callable], Callable]]) -> Iterator[None]:
    """Replace planner functions by name for one planning call, then put the originals back.

    The planner is several modules (`harness.engine.plan` and its `STEP_MODULES`); a function is
    replaced in each module that binds it, so every caller sees the wrapper.
    """
    if not swaps:
        yield
        return
    modules = (planner, *planner.STEP_MODULES)
    with _SWAP_LOCK:
        patched: list[tuple[object, str, Callable]] = []
        try:
            for name, wrap in swaps.items():
                original = getattr(planner, name)  # AttributeError: the planner renamed it
                replacement = wrap(original)
                for module in modules:
                    if getattr(module, name, None) is original:
                        patched.append((module, name, original))
                        setattr(module, name, replacement)
            yield
        finally:
            for module, name, original in reversed(patched):
                setattr(module, name, original)


# --------------------------------------------------------------------------- running


def fault_named(engine: str) -> Fault:
    """The fault behind `fault:NAME` (or `NAME`); a HarnessError naming the known ones."""
    name = engine.removeprefix(FAULT_PREFIX)
    try:
        return FAULTS[name]
    except KeyError:
        raise HarnessError(
            f"unknown fault {name!r}; known: {', '.join(FAULTS)} (run as fault:NAME)"
        ) from None


def fault_plan(engine: str, wheels: Sequence[WheelFacts]) -> Plan:
    """The plan of `fault:NAME` for `wheels` (PlanError where its planner refuses)."""
    fault = fault_named(engine)
    shown = [fault.facts(f) for f in wheels] if fault.facts else list(wheels)
    with _swapped(fault.swaps):
        result = planner.plan(shown, "merge")
    if fault.plan is not None:
        result = fault.plan(result, list(wheels))
    return replace(result, engine=fault.engine)


def _layout(p: Plan) -> tuple:
    return (
        p.projections,
        p.merges,
        p.fallbacks,
        p.console_scripts,
        p.data_projections,
        p.superseded,
    )


def build(
    engine: str,
    prepared: Sequence[PreparedWheel],
    interpreter: Interpreter,
    out: Path,
    *,
    policy: str = "warning",
    replace_out: bool = False,
    always: bool = False,
) -> FaultBuild:
    """Plan and write `fault:NAME`'s venv at `out`, unless it would be `merge`'s own (with
    `always`, write it anyway: `exercised` still says whether it differs).

    Raises PlanError when the fault's planner refuses and `merge`'s does not (a refusal is
    the fault's visible outcome); when both refuse alike, the fault is not exercised.
    """
    fault = fault_named(engine)
    wheels = [p.facts for p in prepared]
    try:
        base: Plan | None = planner.plan(wheels, "merge")
    except PlanError:
        base = None
    try:
        the_plan = fault_plan(engine, wheels)
    except PlanError:
        if base is None:
            return FaultBuild(None, False, "merge's planner refuses this wheel set as well")
        raise
    differs = base is None or _layout(the_plan) != _layout(base)
    may_touch = fault.touches is not None and fault.touches(the_plan, wheels)
    if not differs and not may_touch and not always:
        return FaultBuild(None, False, "the fault changes nothing in this wheel set's venv")
    warnings = list(enforce_policy(the_plan, policy))
    venv, said = write_planned(the_plan, prepared, interpreter, Path(out), policy, replace_out)
    warnings += said
    changed = False
    if fault.venv is not None:
        changed = fault.venv(the_plan, {p.label: p for p in prepared}, venv, interpreter)
    if fault.report is not None:
        said = fault.report(warnings, venv)
        changed = changed or said != warnings
        warnings = said
    assembly = Assembly(plan=the_plan, venv=venv, warnings=tuple(warnings))
    if not differs and not changed:
        return FaultBuild(assembly, False, "the fault changed nothing in this wheel set's venv")
    return FaultBuild(assembly, True)


__all__ = [
    "FAULTS",
    "FAULT_PREFIX",
    "Fault",
    "FaultBuild",
    "build",
    "fault_named",
    "fault_plan",
    "is_fault",
    "naive_wrapper",
]
