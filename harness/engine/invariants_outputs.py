"""Invariants about the plan's outputs themselves (checks.md §6.3, §6.4, §6.23-§6.26).

Shape (sorted, unique, the de-duplicated wheels), no nested outputs, nothing the venv owns,
owners that ship what they own, exactly the earlier versions superseded, and a known decision
for every output.
"""

from __future__ import annotations

from harness.engine.invariants_context import (
    VENV_OWNED_PREFIX_ROOTS,
    _Context,
    _prefixes,
    ancestors,
    venv_owned_script,
)
from harness.engine.rules import Rule
from harness.model import WheelFacts

_RULES = {rule.value: rule for rule in Rule}


def _check_shape(ctx: _Context) -> list[str]:
    tag = "[shape]"
    plan = ctx.plan
    out = []
    labels = tuple(f.label for f in ctx.ordered)
    if plan.wheels != labels:
        out.append(f"{tag} plan wheels {plan.wheels} are not the de-duplicated input {labels}")
    for name, seq in (
        ("projections", [p for p, _ in plan.projections]),
        ("data projections", [p for p, _ in plan.data_projections]),
        ("merges", [m.root for m in plan.merges]),
        ("metadata owners", [k for k, _ in plan.metadata_owners]),
        ("console scripts", [s[0] for s in plan.console_scripts]),
    ):
        if list(seq) != sorted(set(seq)):
            out.append(f"{tag} {name} are not sorted and unique")
    if plan.engine == "flat":
        if (
            plan.projections
            or plan.merges
            or plan.fallbacks
            or plan.data_projections
            or plan.console_scripts
        ):
            out.append(f"{tag} the flat oracle plan projects or falls back on something")
        if {d.path for d in plan.decisions if d.rule == "flat-install"} != set(labels):
            out.append(f"{tag} the flat plan does not say flat-install for every wheel")
    return out


def _check_no_nested_outputs(ctx: _Context) -> list[str]:
    """Item 3: no projected path, merge root or data path equals or lies under another."""
    tag = "[no-nested-outputs]"
    out = []
    outputs: dict[str, str] = {}
    for path in ctx.projection:
        outputs[path] = "projection"
    for root in ctx.merge_roots:
        if root in outputs:
            out.append(f"{tag} `{root}` is both a projection and a merge root")
        outputs[root] = "merge root"
    for path, kind in outputs.items():
        for a in ancestors(path):
            if a in outputs:
                out.append(f"{tag} {kind} `{path}` lies under {outputs[a]} `{a}`")
                break
    for path in ctx.data:
        for a in ancestors(path):
            if a in ctx.data:
                out.append(f"{tag} data path `{path}` lies under data path `{a}`")
                break
    return out


def _check_reserved_prefix(ctx: _Context) -> list[str]:
    """Item 4: nothing the venv owns is written: no data projection under `bin`, `lib`,
    `pyvenv.cfg`, `CACHEDIR.TAG` or `.harness`, no console script replacing `bin/python*`."""
    out = [
        f"[reserved-prefix] data path `{path}` is projected into the venv-owned "
        f"`{path.split('/', 1)[0]}`"
        for path in ctx.data
        if path.split("/", 1)[0] in VENV_OWNED_PREFIX_ROOTS
    ]
    out += [
        f"[reserved-prefix] console script `{s[0]}` of {s[1]} would replace the venv's own "
        f"bin/{s[0]}"
        for s in ctx.plan.console_scripts
        if venv_owned_script(s[0])
    ]
    return out


def _check_owners_ship_paths(ctx: _Context) -> list[str]:
    """Every projection, merge and data link points at something its owner actually ships."""
    tag = "[owners-ship-paths]"
    out = []
    active = {f.label: f for f in ctx.active}
    site_cache: dict[str, set[str]] = {}
    data_cache: dict[str, set[str]] = {}

    def site(label: str) -> set[str]:
        if label not in site_cache:
            f = active[label]
            site_cache[label] = _prefixes(f.site_paths) | set(f.top_levels)
        return site_cache[label]

    for path, label in ctx.projection.items():
        if label not in active:
            out.append(f"{tag} `{path}` is projected to {label}, not an active wheel")
        elif path not in site(label):
            out.append(f"{tag} `{path}` is projected to {label}, which does not ship it")
    for root, contributors in ctx.merge_roots.items():
        if len(contributors) < 2 or len(set(contributors)) != len(contributors):
            out.append(f"{tag} merge `{root}` needs two or more distinct contributors")
        order = [f.label for f in ctx.active if f.label in contributors]
        if list(contributors) != order:
            out.append(f"{tag} merge `{root}` contributors are not in wheel order")
        for label in contributors:
            if label not in active:
                out.append(f"{tag} merge `{root}` has contributor {label}, not an active wheel")
            elif not any(p.startswith(root + "/") for p in active[label].site_paths):
                out.append(f"{tag} merge `{root}` contributor {label} has no directory there")
    for path, label in ctx.data.items():
        if label not in active:
            out.append(f"{tag} data `{path}` is projected to {label}, not an active wheel")
            continue
        if label not in data_cache:
            data_cache[label] = _prefixes(active[label].data_files)
        if path not in data_cache[label]:
            out.append(f"{tag} data `{path}` is projected to {label}, which does not ship it")
    return out


def _check_supersede(ctx: _Context) -> list[str]:
    """Two versions of one distribution: exactly the earlier versions are superseded."""
    tag = "[supersede]"
    by_name: dict[str, list[WheelFacts]] = {}
    for f in ctx.ordered:
        if f.name:
            by_name.setdefault(f.name, []).append(f)
    expected = {
        f.label for copies in by_name.values() for f in copies if f.version != copies[-1].version
    }
    order = tuple(f.label for f in ctx.ordered if f.label in expected)
    out = []
    if ctx.plan.superseded != order:
        out.append(f"{tag} superseded wheels {ctx.plan.superseded}, expected {order}")
    recorded = {c.first for c in ctx.plan.collisions if c.kind == "distribution"}
    for label in sorted(expected - recorded):
        out.append(f"{tag} {label} is an earlier version but no `distribution` collision says so")
    used = (
        set(ctx.projection.values())
        | set(ctx.data.values())
        | set(ctx.fallbacks)
        | {label for c in ctx.merge_roots.values() for label in c}
        | {s[1] for s in ctx.plan.console_scripts}
        | {label for _, label in ctx.plan.metadata_owners}
    )
    for label in sorted(set(ctx.plan.superseded) & used):
        out.append(f"{tag} superseded wheel {label} is still projected, merged or on fallback")
    return out


def _check_decisions_cover_outputs(ctx: _Context) -> list[str]:
    """Every output of the plan has a decision explaining it."""
    tag = "[decisions]"
    out = []
    for d in ctx.plan.decisions:
        if d.rule not in _RULES:
            out.append(f"{tag} decision for `{d.path}` uses unknown rule {d.rule}")
        elif d.outcome not in _RULES[d.rule].outcomes:
            out.append(
                f"{tag} decision for `{d.path}` says {d.outcome}, which rule {d.rule} never "
                f"gives (it gives {', '.join(_RULES[d.rule].outcomes)})"
            )
    wanted = [
        *((p, "projection") for p in ctx.projection),
        *((r, "merge") for r in ctx.merge_roots),
        *((label, "fallback") for label in ctx.fallbacks),
        *((p, "data projection") for p in ctx.data),
        *((s[0], "console script") for s in ctx.plan.console_scripts),
    ]
    for path, what in wanted:
        if path not in ctx.decision_rules:
            out.append(f"{tag} {what} `{path}` has no decision")
    return out
