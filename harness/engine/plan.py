"""The planner: which wheel owns which site-packages path, and why (engine-contract.md §3).

`plan(wheels, engine)` is a pure function of the ordered `WheelFacts`: no file system, no
policy. It returns a frozen `Plan` whose every projection, merge, fallback, console script,
data path and metadata owner carries a `Decision` naming the rule that made it
(`harness.engine.rules`), so a report can say *why* `google/` points where it points. The plan
decides everything the materializer writes, refusals included (a data file or console script
the venv owns). The collision policy is applied afterwards by `enforce_policy`
(`harness.engine.policy`), which never changes the plan (engine-contract.md §6.1).

Precedence everywhere is "last distinct claimant wins" in wheel order (engine-contract.md §1.1).
The steps follow engine-contract.md §3, one module per idea: supersede earlier versions of a
distribution (§4.3, `plan_metadata`), bucket claims per top-level and resolve each
(§3.1-§3.6, `plan_toplevels`, with namespaces in `plan_namespace`), fold conflicted roots into
merges (§3.7), console scripts (§3.8, `plan_scripts`), data files (§3.9, `plan_data`), fully
covered wheels and fallbacks (§3.10, here), then the 0/1/many metadata rule (§4.1). The shared
vocabulary (path helpers, per-wheel views, the accumulator) is `plan_state`.

Fault variants (`harness.engine.faults`) wrap planner functions by name for one call: this
module re-exports each, and it and every step module in `STEP_MODULES` is patched where it
binds the wrapped function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.engine import (
    plan_data,
    plan_metadata,
    plan_namespace,
    plan_scripts,
    plan_state,
    plan_toplevels,
)
from harness.engine.plan_data import _resolve_data_files, _validate_data_files
from harness.engine.plan_metadata import (
    _duplicate_metadata_losers,
    _first_on_path,
    _metadata_keys,
    _resolve_metadata,
    _supersede,
)
from harness.engine.plan_namespace import _collapse_entries, _fold_merge_groups
from harness.engine.plan_scripts import _resolve_console_scripts
from harness.engine.plan_state import (
    _Claim,
    _State,
    _Wheel,
    ancestors,
    contains_any,
    distribution_key,
    shallowest,
)
from harness.engine.plan_toplevels import (
    _project_winner,
    _resolve_directory_collision,
    _resolve_top_level,
)
from harness.engine.policy import enforce_policy
from harness.engine.rules import DECISION_GROUPS, RULE_GROUPS, Rule
from harness.errors import HarnessError
from harness.model import (
    ENGINES,
    RESERVED_PREFIX_ROOTS,
    Decision,
    Fallback,
    Outcome,
    Plan,
    WheelFacts,
)

# The prefix roots the venv owns, by their former planner name (one tuple: harness.model).
RESERVED_DATA_ROOTS = RESERVED_PREFIX_ROOTS

_GROUP_RANK = {group: rank for rank, group in enumerate(DECISION_GROUPS)}


# --------------------------------------------------------------------------- entry point


def plan(wheels: Sequence[WheelFacts], engine: str = "merge") -> Plan:
    """Plan one venv from `wheels` in provider order with the chosen engine variant.

    Raises `PlanError` for the hard errors no policy downgrades (engine-contract.md §4.4): a native
    conflicted root without a regular claimant, two or more copies of one distribution's
    metadata left on fallback, a malformed data path, a console script no wrapper can run.
    `HarnessError` for an unknown engine.
    """
    if engine not in ENGINES:
        raise HarnessError(
            f"unknown engine `{engine}`: expected one of {', '.join(ENGINES)}, got {engine!r}."
        )
    ordered = _dedupe_wheels(wheels)
    for facts in ordered:
        _validate_data_files(facts)
    if engine == "flat":
        return _plan_flat(ordered)
    if engine == "pth":
        return _plan_pth(ordered)
    return _plan_projecting(ordered, engine)


def _dedupe_wheels(wheels: Sequence[WheelFacts]) -> list[WheelFacts]:
    """A wheel listed twice (same label) keeps its first position (engine-contract.md §1.1)."""
    seen: dict[str, WheelFacts] = {}
    for facts in wheels:
        seen.setdefault(facts.label, facts)
    return list(seen.values())


def _sort_decisions(decisions: Iterable[Decision]) -> tuple[Decision, ...]:
    def key(d: Decision) -> tuple[int, str, str, tuple[str, ...], str, str]:
        rank = _GROUP_RANK[RULE_GROUPS[d.rule]]
        return (rank, d.path, d.rule, d.claimants, d.winner or "", d.detail)

    return tuple(sorted(decisions, key=key))


# --------------------------------------------------------------------------- flat and pth


def _plan_flat(ordered: list[WheelFacts]) -> Plan:
    """The oracle: every wheel installed in order into one site-packages, as pip does.

    Nothing is projected, and no console script is listed: this plan only explains the order.
    The venv itself, its `bin/` wrappers included, is built by `harness.oracle.install_flat`
    from the wheel files, never from a plan, so the engine's own code cannot move the oracle.
    """
    labels = tuple(f.label for f in ordered)
    # pip uninstalls an installed distribution before it installs another copy of it (any
    # version, any build), so only the last wheel of each distribution leaves files behind.
    last_of = {f.name: f.label for f in ordered if f.name}
    superseded = tuple(f.label for f in ordered if f.name and last_of[f.name] != f.label)
    decisions = [
        Decision(
            path=f.label,
            rule=Rule.FLAT_INSTALL,
            claimants=(f.label,),
            outcome=Outcome.SUPERSEDED if f.label in superseded else Outcome.INSTALL,
            winner=last_of.get(f.name, f.label),
            detail=(
                f"uninstalled by pip when {last_of[f.name]} of the same distribution is installed"
                if f.label in superseded
                else f"installed {i} of {len(labels)}; its files overwrite earlier wheels' files"
            ),
        )
        for i, f in enumerate(ordered, 1)
    ]
    return Plan(
        engine="flat",
        wheels=labels,
        projections=(),
        merges=(),
        fallbacks=(),
        metadata_owners=(),
        console_scripts=(),
        data_projections=(),
        collisions=(),
        decisions=_sort_decisions(decisions),
        superseded=superseded,
    )


def _plan_pth(ordered: list[WheelFacts]) -> Plan:
    """The naive baseline (engine-contract.md §7.3): every wheel a `.pth` line, nothing
    projected into site-packages.

    Console scripts are still decided here (last claimant wins, the venv's own names refused)
    so scripts can be compared; the metadata owner reported per distribution is the first copy
    on `sys.path` (`plan_metadata._first_on_path`).
    """
    labels = [f.label for f in ordered]
    state = _State(engine="pth", wheels=[_Wheel.of(f) for f in ordered], dup_metadata_losers=set())
    fallbacks = []
    for f in ordered:
        fallbacks.append(Fallback(f.label, addsitedir=not f.layout_known))
        line = "addsitedir line (layout unknown)" if not f.layout_known else "plain path line"
        state.decide(f.label, Rule.PTH_FALLBACK, (f.label,), Outcome.FALLBACK, f.label, line)
    metadata_owners = _first_on_path(state)
    scripts = _resolve_console_scripts(state, ())
    return Plan(
        engine="pth",
        wheels=tuple(labels),
        projections=(),
        merges=(),
        fallbacks=tuple(fallbacks),
        metadata_owners=tuple(sorted(metadata_owners)),
        console_scripts=scripts,
        data_projections=(),
        collisions=tuple(state.collisions),
        decisions=_sort_decisions(state.decisions),
    )


# --------------------------------------------------------------------------- merge / whole-tree


def _plan_projecting(ordered: list[WheelFacts], engine: str) -> Plan:
    """`merge` and `whole-tree`: the steps of engine-contract.md §3, in order."""
    labels = [f.label for f in ordered]
    state = _State(engine=engine, wheels=[], dup_metadata_losers=set())
    superseded = _supersede(ordered, state)
    state.wheels = [_Wheel.of(f) for f in ordered if f.label not in superseded]
    state.dup_metadata_losers = _duplicate_metadata_losers(state.wheels)

    # Bucket claims per top-level in insertion order: wheel order x each wheel's top-levels.
    buckets: dict[str, list[_Claim]] = {}
    for w in state.wheels:
        for tl in w.facts.top_levels:
            if tl in w.claims:
                buckets.setdefault(tl, []).append(w.claims[tl])
    by_label = {w.label: w for w in state.wheels}
    for tl, claims in buckets.items():
        _resolve_top_level(state, by_label, tl, claims)
    _fold_merge_groups(state)
    scripts = _resolve_console_scripts(state, superseded)
    data = _resolve_data_files(state)
    fully_covered = _fully_covered(state)
    metadata_owners = _resolve_metadata(state, fully_covered)
    fallbacks = _fallbacks(state, fully_covered)

    return Plan(
        engine=engine,
        wheels=tuple(labels),
        projections=tuple(sorted(state.projection.items())),
        merges=tuple(sorted(state.merges, key=lambda m: m.root)),
        fallbacks=tuple(fallbacks),
        metadata_owners=tuple(sorted(metadata_owners.items())),
        console_scripts=scripts,
        data_projections=data,
        collisions=tuple(state.collisions),
        decisions=_sort_decisions(state.decisions),
        fully_covered=tuple(w.label for w in state.wheels if w.label in fully_covered),
        superseded=tuple(label for label in labels if label in superseded),
    )


# --------------------------------------------------------------------------- coverage, fallbacks


def _fully_covered(state: _State) -> set[str]:
    """engine-contract.md §3.10: known layout, and every non-metadata top-level projected or
    covered."""
    covered = set()
    for w in state.wheels:
        if not w.facts.layout_known:
            continue
        skipped = state.skipped.get(w.label, set())
        handled = state.covered.get(w.label, set())
        if all(
            tl not in skipped and (state.projection.get(tl) == w.label or tl in handled)
            for tl in w.claims
        ):
            covered.add(w.label)
    return covered


def _fallbacks(state: _State, fully_covered: set[str]) -> list[Fallback]:
    """engine-contract.md §3.10: one line per active wheel not fully covered, in wheel order,
    with a decision naming the top-levels that routed it there."""
    fallbacks: list[Fallback] = []
    for w in state.wheels:
        if w.label in fully_covered:
            continue
        fallbacks.append(Fallback(w.label, addsitedir=not w.facts.layout_known))
        if not w.facts.layout_known:
            state.decide(
                w.label,
                Rule.FALLBACK_ADDSITEDIR,
                (w.label,),
                Outcome.FALLBACK,
                w.label,
                "layout unknown (no RECORD top-levels): addsitedir so its root .pth files run",
            )
            continue
        skipped = sorted(state.skipped.get(w.label, ()))
        uncovered = sorted(
            tl
            for tl in w.claims
            if tl not in skipped
            and state.projection.get(tl) != w.label
            and tl not in state.covered.get(w.label, ())
        )
        reasons = []
        if skipped:
            reasons.append("routed to fallback by " + ", ".join(skipped))
        if uncovered:
            reasons.append("not projected: " + ", ".join(uncovered))
        state.decide(
            w.label, Rule.FALLBACK_PLAIN, (w.label,), Outcome.FALLBACK, w.label, "; ".join(reasons)
        )
    return fallbacks


# The step modules whose globals a fault's swap patches besides this one's (harness.engine.faults).
STEP_MODULES = (
    plan_state,
    plan_metadata,
    plan_namespace,
    plan_toplevels,
    plan_scripts,
    plan_data,
)

# Public names, then (underscored) the functions fault variants wrap or reuse.
__all__ = [
    "DECISION_GROUPS",
    "RESERVED_DATA_ROOTS",
    "RULE_GROUPS",
    "STEP_MODULES",
    "_collapse_entries",
    "_duplicate_metadata_losers",
    "_metadata_keys",
    "_project_winner",
    "_resolve_directory_collision",
    "_resolve_metadata",
    "_supersede",
    "ancestors",
    "contains_any",
    "distribution_key",
    "enforce_policy",
    "plan",
    "shallowest",
]
