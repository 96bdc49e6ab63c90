"""Who wins (checks.md §6.5, §6.8, §6.10) and the `pth` baseline's own set (§6.6).

Console scripts, file top-levels, namespace entries and data paths go to their last distinct
claimant and every namespace entry stays reachable by traversal; exactly one dist-info per
distribution is visible and `metadata_owners` names it.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.engine.invariants_context import (
    VENV_OWNED_PREFIX_ROOTS,
    _Context,
    _dist_keys,
    ancestors,
    distribution_key,
    venv_owned_script,
)
from harness.facts import is_metadata
from harness.model import WheelFacts


def _check_pth(ctx: _Context) -> list[str]:
    """The pth baseline: nothing projected, every wheel exactly one fallback line in order."""
    tag = "[fallback-completeness]"
    plan = ctx.plan
    out = []
    if plan.projections or plan.merges or plan.data_projections:
        out.append(f"{tag} the pth engine projected or merged something")
    expected = [(f.label, not f.layout_known) for f in ctx.ordered]
    got = [(f.label, f.addsitedir) for f in plan.fallbacks]
    if got != expected:
        out.append(f"{tag} pth fallbacks {got} are not every wheel in order {expected}")
    if plan.fully_covered or plan.superseded:
        out.append(f"{tag} the pth engine marks wheels fully covered or superseded")
    out += _check_console_scripts(ctx, ctx.ordered)
    owners = dict(plan.metadata_owners)
    first: dict[str, str] = {}
    for f in ctx.ordered:
        for key in sorted(_dist_keys(f)):
            first.setdefault(key, f.label)
    if owners != first:
        out.append(
            f"[one-metadata-copy] pth metadata owners {owners} are not the first copy on "
            f"sys.path {first}"
        )
    return out


def _check_console_scripts(ctx: _Context, wheels: Sequence[WheelFacts]) -> list[str]:
    """Every console script goes to its last claimant's entry point, but for the names the venv
    owns (`bin/python*`), which none may replace."""
    expected: dict[str, tuple[str, str, str, str]] = {}
    for f in wheels:
        for s in f.console_scripts:
            if not venv_owned_script(s.name):
                expected[s.name] = (s.name, f.label, s.module, s.attr)
    want = tuple(sorted(expected.values()))
    if ctx.plan.console_scripts != want:
        return [
            f"[last-distinct-wins] console scripts {ctx.plan.console_scripts} are not the last "
            f"claimant's entry points {want}"
        ]
    return []


def _check_last_distinct_wins(ctx: _Context) -> list[str]:
    """Item 5 for file top-levels, exact namespace entries, console scripts and data paths
    (metadata winners are checked with the metadata copies); plus concrete visibility (item 10)
    of every namespace entry."""
    tag = "[last-distinct-wins]"
    out = _check_console_scripts(ctx, ctx.active)

    claimants: dict[str, list[WheelFacts]] = {}
    for f in ctx.active:
        for tl in f.top_levels:
            if not is_metadata(tl):
                claimants.setdefault(tl, []).append(f)
    for tl, claims in claimants.items():
        if all(tl not in f.top_level_dirs for f in claims) and len(claims) > 1:
            last = claims[-1].label
            if ctx.projection.get(tl) != last:
                out.append(
                    f"{tag} file top-level `{tl}` is projected to {ctx.projection.get(tl)}, "
                    f"expected its last claimant {last}"
                )

    natives = ctx.native_winner_roots()
    for tl, claims in claimants.items():
        if len(claims) < 2 or not all(tl in f.namespace_top_levels for f in claims):
            continue
        entry_chains: dict[str, list[str]] = {}
        for f in claims:
            for entry in f.namespace_entries:
                if entry.split("/", 1)[0] == tl:
                    entry_chains.setdefault(entry, []).append(f.label)
        for entry, chain in entry_chains.items():
            if ctx.merge_root_of(entry):
                continue
            at = ctx.nearest_projection(entry)
            if at is None:
                out.append(
                    f"[concrete-visibility] namespace entry `{entry}` of {', '.join(chain)} is "
                    "not reachable by traversal of site-packages"
                )
                continue
            if at in natives:
                continue
            collapsed = "namespace-collapse" in ctx.decision_rules.get(at, set())
            if (at == entry or collapsed) and ctx.projection[at] != chain[-1]:
                out.append(
                    f"{tag} namespace entry `{entry}` resolves to {ctx.projection[at]} through "
                    f"`{at}`, expected its last claimant {chain[-1]}"
                )

    data_chains: dict[str, list[str]] = {}
    for f in ctx.active:
        for path in f.data_files:
            data_chains.setdefault(path, []).append(f.label)
    for path, chain in data_chains.items():
        if path.split("/", 1)[0] in VENV_OWNED_PREFIX_ROOTS:
            continue
        if any(a in data_chains for a in ancestors(path)):
            continue  # nests under another claimed data path: dropped (reported as a collision)
        at = path if path in ctx.data else None
        if at is None:
            at = next((a for a in reversed(ancestors(path)) if a in ctx.data), None)
        if at is None:
            out.append(f"{tag} data path `{path}` of {', '.join(chain)} is not projected")
        elif ctx.data[at] != chain[-1]:
            out.append(
                f"{tag} data path `{path}` resolves to {ctx.data[at]} through `{at}`, expected "
                f"its last claimant {chain[-1]}"
            )
    return out


def _check_one_metadata_copy(ctx: _Context) -> list[str]:
    """Item 8: exactly one visible dist-info per distribution, and metadata_owners names it."""
    tag = "[one-metadata-copy]"
    out = []
    chains: dict[str, list[str]] = {}
    for f in ctx.active:
        for key in sorted(_dist_keys(f)):
            chains.setdefault(key, []).append(f.label)
    visible: dict[str, list[str]] = {key: [] for key in chains}
    projected_keys = set()
    for path, label in ctx.projection.items():
        if is_metadata(path):
            projected_keys.add(distribution_key(path))
            visible.setdefault(distribution_key(path), []).append(label)
    for label in ctx.fallbacks:
        f = ctx.by_label.get(label)
        if f is not None:
            for key in _dist_keys(f):
                visible.setdefault(key, []).append(label)
    owners = dict(ctx.plan.metadata_owners)
    if set(owners) != set(chains):
        out.append(
            f"{tag} metadata owners cover {sorted(owners)}, expected every distribution "
            f"{sorted(chains)}"
        )
    for key, copies in sorted(visible.items()):
        if len(copies) != 1:
            out.append(
                f"{tag} distribution `{key}` has {len(copies)} visible copies "
                f"({', '.join(copies) or 'none'}), expected exactly 1"
            )
            continue
        if owners.get(key) != copies[0]:
            out.append(
                f"{tag} distribution `{key}` is visible through {copies[0]} but metadata "
                f"owners name {owners.get(key)}"
            )
        if key in projected_keys and key in chains:
            last = chains[key][-1]
            if copies[0] != last:
                out.append(
                    f"[last-distinct-wins] distribution `{key}` projects the dist-info of "
                    f"{copies[0]}, expected its last claimant {last}"
                )
    return out
