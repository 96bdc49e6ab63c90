"""Faults that transform the merge engine's plan before it is written.

Each step takes `merge`'s plan and the wheels and returns the plan a buggy engine would have
made: pex's first-claimant layout, the 0/1/many metadata rule wrong at 0 or 1, console scripts
to their first claimant, fallback lines reversed, dropped or on `addsitedir`, merge contributors
reversed. Each fault's story is its `paragraph`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.engine import plan as planner
from harness.engine.faults_base import Fault
from harness.engine.rules import Rule
from harness.facts import is_metadata, split_dist_info
from harness.model import Decision, Fallback, MergeGroup, Outcome, Plan, WheelFacts


def _active(base: Plan, wheels: Sequence[WheelFacts]) -> list[WheelFacts]:
    seen: dict[str, WheelFacts] = {}
    for f in wheels:
        seen.setdefault(f.label, f)
    return [f for f in seen.values() if f.label not in set(base.superseded)]


def _sorted_decisions(decisions) -> tuple[Decision, ...]:
    rank = {group: i for i, group in enumerate(planner.DECISION_GROUPS)}
    return tuple(
        sorted(
            decisions,
            key=lambda d: (rank[planner.RULE_GROUPS[d.rule]], d.path, d.rule, d.claimants),
        )
    )


def _first_wins_whole_tree(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """pex's symlinked venv: each top-level is one whole link, the first claimant's; a wheel
    any of whose top-levels is taken goes whole, code and dist-info, to a fallback entry."""
    taken: dict[str, str] = {}
    projections: dict[str, str] = {}
    fallbacks: list[Fallback] = []
    decisions = [
        d for d in base.decisions if planner.RULE_GROUPS[d.rule] in ("console scripts", "data")
    ]
    covered = []
    for f in _active(base, wheels):
        clash = [tl for tl in f.top_levels if tl in taken]
        if clash or not f.layout_known:
            fallbacks.append(Fallback(f.label, addsitedir=not f.layout_known))
            why = ", ".join(f"`{tl}` (taken by {taken[tl]})" for tl in clash) or "layout unknown"
            decisions.append(
                Decision(
                    f.label,
                    Rule.PTH_FALLBACK,
                    (f.label,),
                    Outcome.FALLBACK,
                    f.label,
                    f"fault: whole wheel to fallback: {why}",
                )
            )
            continue
        covered.append(f.label)
        for tl in f.top_levels:
            taken[tl] = projections[tl] = f.label
            decisions.append(
                Decision(
                    tl,
                    Rule.SINGLE_CLAIMANT,
                    (f.label,),
                    Outcome.PROJECT,
                    f.label,
                    "fault: first claimant, whole",
                )
            )
    owners: dict[str, str] = {}
    for label in [*covered, *(fb.label for fb in fallbacks)]:
        f = next(w for w in wheels if w.label == label)
        for m in f.metadata_top_levels or ((f.dist_info,) if f.dist_info else ()):
            owners.setdefault(split_dist_info(m)[0], label)
    return replace(
        base,
        projections=tuple(sorted(projections.items())),
        merges=(),
        fallbacks=tuple(fallbacks),
        metadata_owners=tuple(sorted(owners.items())),
        collisions=tuple(c for c in base.collisions if c.kind in ("console script", "data file")),
        decisions=_sorted_decisions(decisions),
        fully_covered=tuple(covered),
    )


def _zero_hidden(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """0 copies on fallback, and still nothing projected."""
    return replace(
        base, projections=tuple((p, o) for p, o in base.projections if not is_metadata(p))
    )


def _one_doubled(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """1 copy on fallback, and the winner's dist-info projected as well."""
    by_label = {f.label: f for f in wheels}
    projections = dict(base.projections)
    for d in base.decisions:
        if d.rule != "metadata-fallback-owner":
            continue
        key = split_dist_info(d.path)[0]
        winner = by_label[d.claimants[-1]]
        for m in winner.metadata_top_levels:
            if split_dist_info(m)[0] == key:
                projections.setdefault(m, winner.label)
    return replace(base, projections=tuple(sorted(projections.items())))


def _console_first_wins(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    first: dict[str, tuple[str, str, str]] = {}
    for f in _active(base, wheels):
        for cs in f.console_scripts:
            first.setdefault(cs.name, (f.label, cs.module, cs.attr))
    scripts = tuple(sorted((name, *first[name]) for name, *_ in base.console_scripts))
    decisions = [
        replace(
            d,
            winner=first[d.path][0],
            detail=f"{first[d.path][1]}:{first[d.path][2]} (fault: first wins)",
        )
        if d.rule == "console-script-last-wins"
        else d
        for d in base.decisions
    ]
    return replace(base, console_scripts=scripts, decisions=tuple(decisions))


def _fallbacks_reversed(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    return replace(base, fallbacks=tuple(reversed(base.fallbacks)))


def _partly_covered_dropped(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """A wheel that owns some projection or merge is taken as covered: its fallback line goes."""
    partly = {o for p, o in base.projections if not is_metadata(p)}
    partly |= {label for group in base.merges for label in group.contributors}
    return replace(base, fallbacks=tuple(f for f in base.fallbacks if f.label not in partly))


def _addsitedir_known(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    return replace(
        base, fallbacks=tuple(Fallback(f.label, addsitedir=True) for f in base.fallbacks)
    )


def _merge_reversed(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    return replace(
        base, merges=tuple(MergeGroup(g.root, tuple(reversed(g.contributors))) for g in base.merges)
    )


PLAN_FAULTS = (
    Fault(
        "first-wins-whole-tree",
        "pex's symlinked `--venv` layout (external-engines.md): every top-level is one whole "
        "symlink to its first claimant, and a distribution any of whose top-levels is already "
        "taken goes whole, code and dist-info, to a fallback entry; nothing is merged and no "
        "collision is recorded. A later wheel's regular package never reaches the concrete "
        "tree, the namespace graft of the first claimant hides the regular package bound at "
        "runtime (the seed bug), and modules of merged-in-flat packages vanish.",
        "plan: rebuilt from the wheels' top-levels, first claimant wins whole",
        plan=_first_wins_whole_tree,
    ),
    Fault(
        "metadata-zero-hidden",
        "The 0/1/many metadata rule applied wrong at 0: no copy of a distribution is left on "
        "fallback, yet the winner's dist-info is not projected either, so "
        "`importlib.metadata` finds no copy at all (entry points, `version()` and plugin "
        "discovery fail).",
        "plan: dist-info projections removed",
        plan=_zero_hidden,
    ),
    Fault(
        "metadata-one-doubled",
        "The 0/1/many rule applied wrong at 1: one copy stays on fallback and the winner's "
        "dist-info is projected as well, so `importlib.metadata` scans two copies, which is "
        "what rules_py #1191 fixed (a wheel on fallback also had its dist-info projected).",
        "plan: the winner's dist-info projected where one copy is on fallback",
        plan=_one_doubled,
    ),
    Fault(
        "console-first-wins",
        "rules_py #1154: the 2.x assembler picked the first claimant of a console script "
        'name, reversing 1.11\'s "last command wins"; `bin/<name>` then runs the entry point '
        "of the earlier wheel while a flat install (and the contract) runs the later one's.",
        "plan: each console script goes to its first claimant",
        plan=_console_first_wins,
    ),
    Fault(
        "fallback-reversed",
        "rules_py #815: the engine `.pth` lines must keep wheel order; written in reverse, an "
        "earlier fallback wheel shadows a later one for every name both ship, reversing "
        '"later wins" exactly where the engine did not project.',
        "plan: fallback lines in reverse wheel order",
        plan=_fallbacks_reversed,
    ),
    Fault(
        "partly-covered-dropped",
        "rules_py #1285/#1383: a wheel covered on one top-level but routed to fallback on "
        "another (or a regular collision loser an `extend_path` winner grafts from) must keep "
        "its fallback line; dropping it because some of it is projected loses the rest.",
        "plan: wheels owning any projection or merge lose their fallback line",
        plan=_partly_covered_dropped,
    ),
    Fault(
        "addsitedir-known",
        "rules_py #1138: known-layout fallbacks written as `site.addsitedir` lines run the "
        "wheel's root `.pth` files a second time (they are already projected into "
        "site-packages), so their path lines add entries twice and their import lines run "
        "twice; only unknown layouts may use `addsitedir`.",
        "plan: every fallback is an addsitedir line",
        plan=_addsitedir_known,
    ),
    Fault(
        "merge-reversed",
        "The merge overlays contributors in reverse wheel order (rules_py's "
        "`site_merge_order_test` guards it): the earlier wheel's file wins every shared path "
        "of a physically merged directory, unlike a flat install.",
        "plan: merge contributors reversed",
        plan=_merge_reversed,
    ),
)

__all__ = ["PLAN_FAULTS"]
