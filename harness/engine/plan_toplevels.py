"""Top-levels claimed by several wheels (engine-contract.md §3.1, §3.5, §3.6, §7.2).

One top-level at a time, dispatched on the shape of its claimants: a single claimant projects
it; an all-namespace top-level is a union (`harness.engine.plan_namespace`); a directory
collision is merged, or projected whole to its last regular claimant when native code is
involved (the `whole-tree` variant projects its last claimant); a collision involving a file
projects the last claimant.
"""

from __future__ import annotations

from harness.engine.plan_namespace import _resolve_all_namespace
from harness.engine.plan_state import _Claim, _State, _Wheel, losers_detail
from harness.engine.rules import Rule
from harness.model import MergeGroup, Outcome


def _resolve_top_level(
    state: _State, by_label: dict[str, _Wheel], tl: str, claims: list[_Claim]
) -> None:
    """engine-contract.md §3.1: dispatch one top-level on the shape of its claimants."""
    distinct = {c.label: c for c in claims}  # wheels are de-duplicated: one claim per label
    chain = list(distinct)
    if len(chain) == 1:
        state.projection[tl] = chain[0]
        state.decide(tl, Rule.SINGLE_CLAIMANT, chain, Outcome.PROJECT, chain[0])
        return
    if all(c.is_ns for c in claims):
        _resolve_all_namespace(state, by_label, tl, list(distinct.values()))
        return
    state.collide_chain("top-level", tl, chain)
    winners = list(distinct.values())
    if any(c.is_ns for c in winners) or all(c.is_dir for c in winners):
        _resolve_directory_collision(state, tl, winners)
        return
    # engine-contract.md §3.6: file-valued (or hand-written regular) collision, last claimant
    # wins; the others stay on fallback (a `pkgutil.extend_path` winner can still graft from
    # them).
    winner = chain[-1]
    for label in chain[:-1]:
        state.skip(label, tl)
    state.projection[tl] = winner
    state.decide(tl, Rule.FILE_LAST_WINS, chain, Outcome.PROJECT, winner, "others stay on fallback")


def _resolve_directory_collision(state: _State, tl: str, claims: list[_Claim]) -> None:
    """engine-contract.md §3.5 (merge) or the pre-fix whole-tree behaviour (§7.2)."""
    chain = [c.label for c in claims]
    if state.engine == "whole-tree":
        _project_winner(state, tl, chain, chain[-1], Rule.WHOLE_TREE_LAST_CLAIMANT)
        return
    if any(c.is_native for c in claims):
        # Not every claim is namespace (that is engine-contract.md §3.2), so a regular claimant
        # exists: the last one wins; a namespace-only graft never does, in either order.
        regulars = [c.label for c in claims if not c.is_ns]
        _project_winner(state, tl, chain, regulars[-1], Rule.NATIVE_LAST_REGULAR)
        return
    for label in chain:
        state.cover(label, tl)
    state.merges.append(MergeGroup(tl, tuple(chain)))
    state.decide(
        tl,
        Rule.MIXED_MERGE,
        chain,
        Outcome.MERGE,
        chain[-1],
        "no native code: physical merge of every claimant in wheel order, later wins",
    )


def _project_winner(state: _State, tl: str, chain: list[str], winner: str, rule: Rule) -> None:
    """Project `tl` whole to `winner`; losers stay on fallback unless duplicate-metadata losers."""
    state.projection[tl] = winner
    suppressed, fallback = [], []
    for label in chain:
        if label == winner or label in state.dup_metadata_losers:
            state.cover(label, tl)
            if label != winner:
                suppressed.append(label)
        else:
            state.skip(label, tl)
            fallback.append(label)
    state.decide(tl, rule, chain, Outcome.PROJECT, winner, losers_detail(fallback, suppressed))
