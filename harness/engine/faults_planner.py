"""Faults planted in the planner: a named function swapped for one call, or other facts shown.

Each swap wraps one function of the planner (`harness.engine.plan` re-exports every one named
here) for the duration of one planning call; the planner's own code is untouched, the bug is
the wrapper written out below. `native-merged` instead shows the planner facts without native
roots. Each fault's story is its `paragraph`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from harness.engine import plan as planner
from harness.engine.faults_base import Fault
from harness.engine.rules import Rule


def _graft_wins_native(original: Callable) -> Callable:
    def resolve_directory_collision(state, tl, claims):
        if state.engine == "merge" and any(c.is_native for c in claims):
            chain = [c.label for c in claims]
            # the bug: the last claimant wins, a namespace-only graft included
            planner._project_winner(state, tl, chain, chain[-1], Rule.NATIVE_LAST_REGULAR)
            return
        original(state, tl, claims)

    return resolve_directory_collision


def _metadata_chains(state) -> dict[str, list[str]]:
    chains: dict[str, list[str]] = {}
    for w in state.wheels:
        for key in planner._metadata_keys(w):
            chains.setdefault(key, []).append(w.label)
    return {key: list(dict.fromkeys(labels)) for key, labels in chains.items()}


def _many_accepted(original: Callable) -> Callable:
    def resolve_metadata(state, fully_covered):
        # the bug: two or more copies left on fallback are not an error; the rule is shown
        # only the first of them, so it lets that one "own discovery" and the others stay too
        pretend = set(fully_covered)
        for labels in _metadata_chains(state).values():
            pretend.update([label for label in labels if label not in fully_covered][1:])
        return original(state, pretend)

    return resolve_metadata


def _counts_claimants(original: Callable) -> Callable:
    def resolve_metadata(state, fully_covered):
        # the bug: every claimant of a distribution counts as a copy, covered or not
        shared = {
            label
            for labels in _metadata_chains(state).values()
            if len(labels) > 1
            for label in labels
        }
        return original(state, set(fully_covered) - shared)

    return resolve_metadata


def _no_suppression(original: Callable) -> Callable:
    def duplicate_metadata_losers(wheels):
        return set()  # the bug: no duplicate-metadata loser is ever suppressed

    return duplicate_metadata_losers


def _collapse_shared(original: Callable) -> Callable:
    def collapse_entries(entry_projection, claims, exclude):
        # the bug: a namespace directory collapses to one link even when several wheels own
        # files below it (the last one wins it whole)
        if not entry_projection:
            return {}
        kept = {a for entry in entry_projection for a in planner.ancestors(entry)}
        owners: dict[str, list[str]] = {}
        for c in claims:
            for d in c.ns_dirs:
                owners.setdefault(d, []).append(c.label)
        candidates = [d for d in owners if d in kept and not planner.contains_any(d, exclude)]
        return {d: owners[d][-1] for d in planner.shallowest(candidates)}

    return collapse_entries


def _no_supersede(original: Callable) -> Callable:
    def supersede(ordered, state):
        return set()  # the bug: an earlier version of a distribution stays in

    return supersede


def _key_by_directory(original: Callable) -> Callable:
    def distribution_key(metadata_dir):
        return metadata_dir  # the bug: metadata deduplicated by dist-info directory name

    return distribution_key


PLANNER_FAULTS = (
    Fault(
        "graft-wins-native",
        "Before rules_py #1205 settled it, a directory collision holding native code projected "
        "its last claimant whole even when that claimant is a namespace-only graft (protobuf's "
        "`google/`) and an earlier wheel ships the regular package (google 1.9.3's "
        "`google/__init__.py`): the concrete tree shows the graft while runtime binds the "
        "regular package from the fallback, the seed bug (invariant 13).",
        "swap plan._resolve_directory_collision: native branch projects the last claimant",
        swaps={"_resolve_directory_collision": _graft_wins_native},
    ),
    Fault(
        "native-merged",
        "An engine that does not recognise native code (`.so`, `.pyd`, `.so.1`) merges a "
        "directory holding it physically, copying the extension out of its wheel: "
        "origin-relative lookups (`$ORIGIN` rpaths, `__file__`-relative data) then see the "
        "merged directory instead of the wheel's own files, and a regular package meant to "
        "win whole (google 1.9.3 over protobuf's graft, a native root spanning namespace "
        "wheels) is overlaid with the others' files (rules_py #1205, invariant 12).",
        "facts: the planner is shown no native roots",
        facts=lambda f: replace(f, native_roots=()),
    ),
    Fault(
        "metadata-many-accepted",
        "The 0/1/many rule applied wrong at many: two or more copies of one distribution left "
        "on whole-wheel fallback are accepted instead of refused, so several dist-info copies "
        "stay visible and `importlib.metadata` may describe code that is not the one imported "
        "(rules_py PR #1215's multi-fallback case).",
        "swap plan._resolve_metadata: only the first fallback copy is counted",
        swaps={"_resolve_metadata": _many_accepted},
    ),
    Fault(
        "metadata-counts-claimants",
        "The 0/1/many rule counted before the collision outcome: every claimant of a "
        "distribution's metadata is a copy, even one the native branch suppressed, so two "
        "builds of one distribution (pydantic_core from two lock universes, rules_py PR "
        "#1215) or a file top-level shipped twice hard-fail instead of leaving one copy.",
        "swap plan._resolve_metadata: claimants of a shared distribution count as fallback copies",
        swaps={"_resolve_metadata": _counts_claimants},
    ),
    Fault(
        "dup-metadata-not-suppressed",
        "rules_py #1205/#1283: in a native collision the loser of the metadata chain must be "
        "suppressed (covered, not on fallback); without that, the earlier build of a "
        "distribution stays on whole-wheel fallback next to the winner, and its dist-info, "
        "not the winner's, is the copy discovery finds.",
        "swap plan._duplicate_metadata_losers: no loser is ever suppressed",
        swaps={"_duplicate_metadata_losers": _no_suppression},
    ),
    Fault(
        "two-versions-both-visible",
        "rules_py deduplicates metadata by dist-info directory name, so two versions of one "
        "distribution (`protobuf-5.29.5.dist-info`, `protobuf-6.33.5.dist-info`) both stay "
        "visible and the code becomes a mix of both versions; our contract supersedes the "
        "earlier version entirely.",
        "swap plan._supersede (nothing superseded) and plan.distribution_key (directory name)",
        swaps={"_supersede": _no_supersede, "distribution_key": _key_by_directory},
    ),
    Fault(
        "namespace-collapse-shared",
        "rules_py #1405 collapses namespace entries to the shallowest single-owner directory; "
        "counting owners wrong links a directory several wheels share to one of them whole "
        "(`nvidia/cu13`, `google/cloud`), so every other wheel's files below it vanish from "
        "the concrete tree and, without a fallback line, from runtime.",
        "swap plan._collapse_entries: a shared namespace directory collapses to its last owner",
        swaps={"_collapse_entries": _collapse_shared},
    ),
)

__all__ = ["PLANNER_FAULTS"]
