"""Coverage and layout shape (checks.md §6.6, §6.7, §6.9, §6.12, §6.13).

Every wheel exactly one of fallback, fully covered or superseded; nothing lost off the fallback;
native code never copied into a merge and projected from a regular package; no namespace graft
projected over a regular package; a shared namespace stays a real directory.
"""

from __future__ import annotations

from harness.engine.invariants_context import _Context, _dist_keys
from harness.facts import is_metadata, is_native
from harness.model import WheelFacts


def _check_fallback_completeness(ctx: _Context) -> list[str]:
    """Item 6: every wheel is exactly one of fallback, fully covered, superseded."""
    tag = "[fallback-completeness]"
    plan = ctx.plan
    out = []
    labels = [f.label for f in ctx.ordered]
    fallback_labels = [f.label for f in plan.fallbacks]
    if len(fallback_labels) != len(set(fallback_labels)):
        out.append(f"{tag} a wheel appears more than once on fallback: {fallback_labels}")
    if fallback_labels != [label for label in labels if label in set(fallback_labels)]:
        out.append(f"{tag} fallbacks {fallback_labels} are not in wheel order")
    if list(plan.fully_covered) != [label for label in labels if label in plan.fully_covered]:
        out.append(f"{tag} fully covered wheels {plan.fully_covered} are not in wheel order")
    groups = (set(fallback_labels), set(plan.fully_covered), set(plan.superseded))
    for label in labels:
        count = sum(label in g for g in groups)
        if count != 1:
            out.append(
                f"{tag} {label} is in {count} of fallback/fully covered/superseded, expected 1"
            )
    for f in ctx.ordered:
        if f.label in ctx.fallbacks and ctx.fallbacks[f.label] == f.layout_known:
            line = "addsitedir" if ctx.fallbacks[f.label] else "plain"
            out.append(f"{tag} {f.label} (layout known: {f.layout_known}) gets a {line} line")
        if not f.layout_known and f.label in plan.fully_covered:
            out.append(f"{tag} {f.label} has an unknown layout but is marked fully covered")
    return out


def _check_no_silent_loss(ctx: _Context) -> list[str]:
    """Item 7: a wheel left off the fallback must have every file projected or merged.

    A file is represented by a projection at or above it owned by the wheel, or a merge at or
    above it the wheel contributes to. A duplicate-metadata loser (a later wheel is a copy of the
    same distribution) may be suppressed instead: the rule trusts the later copy to carry it.
    """
    tag = "[no-silent-loss]"
    out = []
    by_label = {f.label: f for f in ctx.active}
    later_keys: set[str] = set()
    dup_losers: set[str] = set()
    for f in reversed(ctx.active):
        keys = _dist_keys(f)
        if keys & later_keys:
            dup_losers.add(f.label)
        later_keys |= keys
    for label in ctx.plan.fully_covered:
        f = by_label.get(label)
        if f is None or label in dup_losers:
            continue
        for path in f.site_paths:
            if is_metadata(path.split("/", 1)[0]):
                continue
            root = ctx.merge_root_of(path)
            if root is not None and label in ctx.merge_roots[root]:
                continue
            at = ctx.nearest_projection(path)
            owner = ctx.projection.get(at) if at else None
            if owner == label:
                continue
            out.append(
                f"{tag} fully covered wheel {label} loses `{path}`: it is neither projected nor "
                f"merged from it (resolves to {owner}) and the wheel is off the fallback"
            )
            break  # one sentence per wheel is enough
    return out


def _check_native_origin(ctx: _Context) -> list[str]:
    """Item 12: native code is never copied into a merge; a native winner is a regular package."""
    tag = "[native-origin]"
    out = []
    for root, contributors in sorted(ctx.merge_roots.items()):
        for label in contributors:
            f = ctx.by_label.get(label)
            native = [
                p for p in (f.site_paths if f else ()) if p.startswith(root + "/") and is_native(p)
            ]
            if native:
                out.append(
                    f"{tag} native file `{native[0]}` of {label} would be copied into merge "
                    f"`{root}`"
                )
    for root in sorted(ctx.native_winner_roots()):
        owner = ctx.by_label.get(ctx.projection[root])
        regular = owner is not None and (
            root in owner.regular_roots or root in owner.regular_top_levels
        )
        if not regular:
            out.append(
                f"{tag} native root `{root}` is projected to {ctx.projection[root]}, which does "
                "not ship it as a regular package"
            )
    return out


def _check_regular_beats_graft(ctx: _Context) -> list[str]:
    """Item 13: no namespace-only claimant is projected where another wheel is regular."""
    tag = "[regular-beats-graft]"
    regular_at: dict[str, list[str]] = {}
    for f in ctx.active:
        for p in (*f.regular_roots, *(t for t in f.regular_top_levels if t in f.top_level_dirs)):
            regular_at.setdefault(p, []).append(f.label)
    out = []
    for path, label in ctx.projection.items():
        owner = ctx.by_label.get(label)
        if owner is None or path not in regular_at:
            continue
        if path in owner.namespace_top_levels or path in owner.namespace_dirs:
            out.append(
                f"{tag} `{path}` is projected to the namespace portion of {label} although "
                f"{', '.join(regular_at[path])} ship it as a regular package"
            )
    return out


def _check_namespace_purity(ctx: _Context) -> list[str]:
    """Item 9: a namespace shared by several wheels stays a real directory in the venv."""
    tag = "[namespace-purity]"
    out = []
    ns_claims: dict[str, list[WheelFacts]] = {}
    all_claims: dict[str, int] = {}
    for f in ctx.active:
        for tl in f.top_levels:
            if is_metadata(tl):
                continue
            all_claims[tl] = all_claims.get(tl, 0) + 1
            if tl in f.namespace_top_levels:
                ns_claims.setdefault(tl, []).append(f)
    for tl, claims in ns_claims.items():
        if len(claims) >= 2 and len(claims) == all_claims[tl]:
            if tl in ctx.projection:
                out.append(f"{tag} shared namespace `{tl}` is projected as one wheel's symlink")
            if tl in ctx.merge_roots:
                out.append(f"{tag} shared namespace `{tl}` is turned into a merged directory")
    # A namespace directory several wheels (with entries there) contribute to is never bound
    # to one wheel's portion of it. (Another wheel's regular package or file at that path may
    # be: a native span winner, or the shallower side of a file-vs-directory entry clash.)
    dir_owners: dict[str, set[str]] = {}
    for f in ctx.active:
        with_entries = {e.split("/", 1)[0] for e in f.namespace_entries}
        for d in f.namespace_dirs:
            if d.split("/", 1)[0] in with_entries:
                dir_owners.setdefault(d, set()).add(f.label)
    for path, label in ctx.projection.items():
        owners = dir_owners.get(path, set())
        owner = ctx.by_label.get(label)
        if len(owners) >= 2 and owner is not None and path in owner.namespace_dirs:
            out.append(
                f"{tag} namespace directory `{path}` shared by {', '.join(sorted(owners))} is "
                f"bound to {label} alone"
            )
    return out
