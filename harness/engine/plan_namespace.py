"""A PEP 420 top-level shared by several wheels (engine-contract.md §3.2-§3.4, §3.7).

Every claimant ships the top-level as a namespace, so it is a union: each wheel's namespace
entries are projected separately, the last wheel shipping an entry owns it, and entries collapse
to the shallowest directories a single wheel owns. A regular package spanning wheels inside the
namespace (a *conflicted root*) cannot be unioned: it is projected whole to its last regular
claimant when it holds native code (§3.2.2), and otherwise merged physically (§3.7).
"""

from __future__ import annotations

from harness.engine.plan_state import (
    _Claim,
    _State,
    _Wheel,
    ancestors,
    contains_any,
    losers_detail,
    shallowest,
    within,
    within_any,
)
from harness.engine.rules import Rule
from harness.errors import PlanError
from harness.model import Decision, MergeGroup, Outcome


def _resolve_all_namespace(
    state: _State, by_label: dict[str, _Wheel], tl: str, claims: list[_Claim]
) -> None:
    """engine-contract.md §3.2-§3.4: a PEP 420 top-level shared by several wheels."""
    chain = [c.label for c in claims]
    conflicted = _conflicted_roots(state, by_label, tl, claims)
    native_roots: list[str] = []
    if conflicted:
        candidates = [
            root for root in conflicted if any(root in by_label[c].native_roots for c in chain)
        ]
        native_roots = shallowest(r for r in conflicted if contains_any(r, candidates))
        mergeable = {r for r in conflicted if not within_any(r, native_roots)}
        state.conflicted_roots |= mergeable
        for root in native_roots:
            _resolve_native_span(state, by_label, tl, root, claims)

    with_entries = []
    entryless = []
    for c in claims:
        if c.entries:
            with_entries.append(c)
        else:
            entryless.append(c.label)
            state.skip(c.label, tl)
    detail_parts = []
    if conflicted:
        detail_parts.append("conflicted roots: " + ", ".join(sorted(conflicted)))
    if entryless:
        detail_parts.append("entryless claimants on fallback: " + ", ".join(entryless))
    state.decide(tl, Rule.NAMESPACE_UNION, chain, Outcome.UNION, None, "; ".join(detail_parts))
    if not with_entries:
        return
    _project_entries(state, tl, with_entries, conflicted)
    _decide_excluded_entries(state, with_entries, conflicted, native_roots)


def _conflicted_roots(
    state: _State, by_label: dict[str, _Wheel], tl: str, claims: list[_Claim]
) -> set[str]:
    """engine-contract.md §3.2.1: regular roots of one claimant that another claimant lists
    among its namespace dirs or regular roots (a regular package spanning wheels)."""
    prefix = tl + "/"
    conflicted: set[str] = set()
    for c in claims:
        state.ns_claimants.add(c.label)
        for root in by_label[c.label].regular_roots:
            if not root.startswith(prefix):
                continue
            for other in claims:
                o = by_label[other.label]
                if other.label != c.label and (root in o.ns_dirs or root in o.regular_roots):
                    conflicted.add(root)
    return conflicted


def _project_entries(
    state: _State, tl: str, with_entries: list[_Claim], conflicted: set[str]
) -> None:
    """engine-contract.md §3.3-§3.4: own each entry outside the conflicted roots, drop nested
    ones, collapse to single-owner directories, and project what is left."""
    owners = _resolve_entry_owners(state, tl, with_entries, conflicted)
    _dedupe_prefix_conflicts(state, tl, owners)
    entry_projection = {entry: owner for entry, (owner, _) in owners.items()}
    collapsed = _collapse_entries(entry_projection, with_entries, conflicted)
    bound_by: dict[str, list[str]] = {d: [] for d in collapsed}
    for entry in sorted(entry_projection):
        d = next((a for a in ancestors(entry) if a in collapsed), None)
        if d is not None:
            bound_by[d].append(entry)
            del entry_projection[entry]
    for d, owner in collapsed.items():
        inside = bound_by[d]
        entry_projection[d] = owner
        state.decide(
            d,
            Rule.NAMESPACE_COLLAPSE,
            [owner],
            Outcome.PROJECT,
            owner,
            f"single-owner namespace directory binds {len(inside)} entr"
            f"{'y' if len(inside) == 1 else 'ies'}",
        )
        for entry in inside:
            state.decisions.append(_entry_decision(entry, owners[entry], f"through {d}"))
    for entry, owner_chain in owners.items():
        if entry in entry_projection:
            state.decisions.append(_entry_decision(entry, owner_chain, ""))
    state.projection.update(entry_projection)
    for c in with_entries:
        state.cover_if_clean(c.label, tl)


def _decide_excluded_entries(
    state: _State, claims: list[_Claim], conflicted: set[str], native_roots: list[str]
) -> None:
    """Entries inside a conflicted root follow its merge or native projection: say so."""
    if not conflicted:
        return
    chains: dict[str, list[str]] = {}
    for c in claims:
        for entry in c.entries:
            if within_any(entry, conflicted):
                chains.setdefault(entry, []).append(c.label)
    merge_roots = shallowest(r for r in conflicted if not within_any(r, native_roots))
    for entry, chain in sorted(chains.items()):
        native = next((r for r in native_roots if within(entry, r)), None)
        if native is not None:
            winner = state.projection[native]
            state.decide(
                entry,
                Rule.NATIVE_SPAN_LAST_REGULAR,
                chain,
                Outcome.PROJECT if winner in chain else Outcome.FALLBACK,
                winner,
                f"inside native root `{native}` projected whole to {winner}",
            )
        else:
            root = next(r for r in merge_roots if within(entry, r))
            state.decide(
                entry,
                Rule.CONFLICTED_ROOT_MERGE,
                chain,
                Outcome.MERGE,
                chain[-1],
                f"inside merge root `{root}`",
            )


def _entry_decision(entry: str, owner_chain: tuple[str, list[str]], via: str) -> Decision:
    owner, chain = owner_chain
    rule = Rule.NAMESPACE_TAKEOVER if len(chain) > 1 else Rule.NAMESPACE_ENTRY
    detail = f"earlier claimants on fallback: {', '.join(chain[:-1])}" if len(chain) > 1 else ""
    if via:
        detail = f"{detail}; {via}" if detail else via
    return Decision(entry, rule, tuple(chain), Outcome.PROJECT, owner, detail)


def _resolve_native_span(
    state: _State, by_label: dict[str, _Wheel], tl: str, root: str, claims: list[_Claim]
) -> None:
    """engine-contract.md §3.2.2: a conflicted root holding native code is never copied.

    It is projected whole to its last regular claimant; every other claimant touching it stays
    on fallback, unless it is a duplicate-metadata loser (then suppressed: covered).
    """
    chain = [c.label for c in claims]
    regulars = [label for label in chain if root in by_label[label].regular_roots]
    # A conflicted root is by definition some claimant's regular root, so this only fires on
    # facts that contradict themselves (hand-built records); kept because the rule names it.
    if not regulars:
        raise PlanError(
            f"native conflicted root `{root}` (claimed by {', '.join(chain)}) has no regular "
            "claimant: expected a wheel shipping it with `__init__.py` to project whole, got "
            "none. No collision policy downgrades this."
        )
    winner = regulars[-1]
    state.projection[root] = winner
    touching, suppressed, fallback = [], [], []
    for c in claims:
        w = by_label[c.label]
        if root in w.regular_roots or root in w.ns_dirs or contains_any(root, c.entries):
            touching.append(c.label)
            if c.label == winner:
                continue
            if c.label in state.dup_metadata_losers:
                suppressed.append(c.label)
            else:
                state.skip(c.label, tl)
                fallback.append(c.label)
    state.decide(
        root,
        Rule.NATIVE_SPAN_LAST_REGULAR,
        touching,
        Outcome.PROJECT,
        winner,
        losers_detail(fallback, suppressed),
    )


def _resolve_entry_owners(
    state: _State, tl: str, claims: list[_Claim], exclude: set[str]
) -> dict[str, tuple[str, list[str]]]:
    """Each namespace entry goes to the last distinct wheel shipping it (engine-contract.md §3.3).

    A takeover records a "namespace entry" collision and routes the prior owner to fallback.
    Entries inside a conflicted root belong to its merge or native projection.
    Returns entry -> (owner, distinct claimant chain).
    """
    owners: dict[str, tuple[str, list[str]]] = {}
    for c in claims:
        for entry in c.entries:
            if within_any(entry, exclude):
                continue
            prior = owners.get(entry)
            if prior is None:
                owners[entry] = (c.label, [c.label])
            elif prior[0] != c.label:
                state.collide("namespace entry", entry, prior[0], c.label)
                state.skip(prior[0], tl)
                owners[entry] = (c.label, [*prior[1], c.label])
    return owners


def _dedupe_prefix_conflicts(
    state: _State, tl: str, owners: dict[str, tuple[str, list[str]]]
) -> None:
    """Drop an entry lying under another owned entry (one wheel's file is another's directory).

    The shallower symlink covers the region; a different deeper owner is recorded and routed to
    fallback. Done in the conflicted case too (the reference skips it there), so no two
    projections ever nest.
    """
    for entry in sorted(owners):
        for parent in ancestors(entry)[1:]:
            if parent in owners:
                owner, chain = owners.pop(entry)
                shallow_owner = owners[parent][0]
                if owner != shallow_owner:
                    state.collide("namespace entry", entry, shallow_owner, owner)
                    state.skip(owner, tl)
                    state.decide(
                        entry,
                        Rule.NAMESPACE_PREFIX,
                        chain,
                        Outcome.FALLBACK,
                        shallow_owner,
                        f"nests under entry `{parent}` of {shallow_owner}; {owner} on fallback",
                    )
                else:
                    state.decide(
                        entry,
                        Rule.NAMESPACE_PREFIX,
                        chain,
                        Outcome.PROJECT,
                        owner,
                        f"covered by its own shallower entry `{parent}`",
                    )
                break


def _collapse_entries(
    entry_projection: dict[str, str], claims: list[_Claim], exclude: set[str]
) -> dict[str, str]:
    """engine-contract.md §3.4: the shallowest namespace directories a single wheel owns.

    Owners are counted over every with-entries claimant's raw skeleton, so a loser on fallback
    still blocks a bind above its files; a candidate must be a strict ancestor of a surviving
    entry and must not contain a conflicted root. Returns collapsed directory -> owner.
    """
    if not entry_projection:
        return {}
    kept_ancestors = {a for entry in entry_projection for a in ancestors(entry)}
    dir_owners: dict[str, set[str]] = {}
    for c in claims:
        for d in c.ns_dirs:
            dir_owners.setdefault(d, set()).add(c.label)
    candidates = [
        d
        for d, labels in dir_owners.items()
        if len(labels) == 1 and d in kept_ancestors and not contains_any(d, exclude)
    ]
    return {d: next(iter(dir_owners[d])) for d in shallowest(candidates)}


def _fold_merge_groups(state: _State) -> None:
    """engine-contract.md §3.7: one merge per shallowest conflicted root, contributors in
    wheel order."""
    for root in shallowest(state.conflicted_roots):
        contributors = [
            w.label
            for w in state.wheels
            if w.label in state.ns_claimants and (root in w.ns_dirs or root in w.regular_roots)
        ]
        if len(contributors) >= 2:
            state.merges.append(MergeGroup(root, tuple(contributors)))
            state.decide(
                root,
                Rule.CONFLICTED_ROOT_MERGE,
                contributors,
                Outcome.MERGE,
                contributors[-1],
                "a regular package spans namespace wheels: physical merge, later wins",
            )
