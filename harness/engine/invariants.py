"""Plan-level invariants (checks.md §6) checked on any plan, for any engine variant.

`check_plan_invariants(wheels, plan)` returns every violation as a sentence tagged with the
invariant it breaks (`[no-nested-outputs] ...`); an empty list means the plan is sound. Each
check recomputes its expectation from the wheel facts (not from the planner's internals), so a
planner bug shows up here rather than in a venv. The runner calls this on every case, so every
check is linear in the number of paths (set look-ups over ancestor chains).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from harness.engine.plan import enforce_policy
from harness.engine.plan import plan as make_plan
from harness.engine.rules import Rule
from harness.errors import HarnessError, PolicyError
from harness.facts import is_metadata, is_native
from harness.model import POLICIES, Plan, WheelFacts

Planner = Callable[[Sequence[WheelFacts], str], Plan]
Enforcer = Callable[[Plan, str], list[str]]

_NATIVE_RULES = ("native-span-last-regular", "native-last-regular")
_RULES = {rule.value: rule for rule in Rule}

# The prefix roots the venv owns (engine-contract.md §2.6), restated from the
# contract: the checker shares no helper with the planner it judges, so a planner bug in one of
# them cannot hide itself by moving the expectation too. What it does import from the planner
# is what it checks: the planner itself and the policy (determinism, policy neutrality) and the
# rule vocabulary its decisions must use.
VENV_OWNED_PREFIX_ROOTS = ("bin", "lib", "pyvenv.cfg")


def ancestors(path: str) -> list[str]:
    """Proper ancestor directories of a POSIX relative path, shallowest first."""
    segments = path.split("/")
    return ["/".join(segments[:i]) for i in range(1, len(segments))]


def distribution_key(metadata_dir: str) -> str:
    """The normalized distribution name a `*.dist-info` / `*.egg-info` directory speaks for.

    `Foo_Bar-1.0.dist-info` -> `foo-bar` (name and version split at the last `-`, the wheel
    spec's escaping keeps `-` out of both); `Foo-1.0-py3.11.egg-info` -> `foo` (the first `-`).
    """
    if metadata_dir.endswith(".dist-info"):
        stem = metadata_dir[: -len(".dist-info")]
        name = stem.rpartition("-")[0] or stem
    else:
        name = metadata_dir[: -len(".egg-info")].split("-", 1)[0]
    return canonicalize_name(name)


def check_plan_invariants(
    wheels: Sequence[WheelFacts],
    plan: Plan,
    *,
    planner: Planner = make_plan,
    enforce: Enforcer = enforce_policy,
) -> list[str]:
    """Every checks.md §6 invariant checkable on a plan; violations as sentences.

    `planner` and `enforce` default to this package's functions; they are parameters so the
    determinism and policy-neutrality checks can be shown to fail on a faulty implementation.
    """
    ctx = _Context.build(wheels, plan)
    violations: list[str] = []
    violations += _check_determinism(wheels, plan, planner)
    violations += _check_policy_neutrality(plan, enforce)
    violations += _check_shape(ctx)
    if plan.engine in ("merge", "whole-tree"):
        violations += _check_no_nested_outputs(ctx)
        violations += _check_reserved_prefix(ctx)
        violations += _check_owners_ship_paths(ctx)
        violations += _check_supersede(ctx)
        violations += _check_last_distinct_wins(ctx)
        violations += _check_fallback_completeness(ctx)
        violations += _check_no_silent_loss(ctx)
        violations += _check_native_origin(ctx)
        if plan.engine == "merge":  # whole-tree reproduces the graft bug on purpose
            violations += _check_regular_beats_graft(ctx)
        violations += _check_namespace_purity(ctx)
        violations += _check_one_metadata_copy(ctx)
        violations += _check_decisions_cover_outputs(ctx)
    elif plan.engine == "pth":
        violations += _check_pth(ctx)
    return violations


# --------------------------------------------------------------------------- context


@dataclass
class _Context:
    plan: Plan
    ordered: list[WheelFacts]  # de-duplicated wheel order
    active: list[WheelFacts]  # not superseded
    by_label: dict[str, WheelFacts]
    projection: dict[str, str]
    merge_roots: dict[str, tuple[str, ...]]
    data: dict[str, str]
    fallbacks: dict[str, bool]  # label -> addsitedir
    decision_rules: dict[str, set[str]]  # path -> rules deciding it

    @classmethod
    def build(cls, wheels: Sequence[WheelFacts], plan: Plan) -> _Context:
        seen: dict[str, WheelFacts] = {}
        for facts in wheels:
            seen.setdefault(facts.label, facts)
        ordered = list(seen.values())
        superseded = set(plan.superseded)
        rules: dict[str, set[str]] = {}
        for d in plan.decisions:
            rules.setdefault(d.path, set()).add(d.rule)
        return cls(
            plan=plan,
            ordered=ordered,
            active=[f for f in ordered if f.label not in superseded],
            by_label=seen,
            projection=dict(plan.projections),
            merge_roots={m.root: m.contributors for m in plan.merges},
            data=dict(plan.data_projections),
            fallbacks={f.label: f.addsitedir for f in plan.fallbacks},
            decision_rules=rules,
        )

    def nearest_projection(self, path: str) -> str | None:
        """The projected path equal to `path` or the deepest projected ancestor of it."""
        if path in self.projection:
            return path
        for a in reversed(ancestors(path)):
            if a in self.projection:
                return a
        return None

    def merge_root_of(self, path: str) -> str | None:
        for a in [*ancestors(path), path]:
            if a in self.merge_roots:
                return a
        return None

    def native_winner_roots(self) -> set[str]:
        return {
            p for p in self.projection if self.decision_rules.get(p, set()) & set(_NATIVE_RULES)
        }


def _prefixes(paths: Sequence[str]) -> set[str]:
    """Every path and every directory prefix of it."""
    out: set[str] = set()
    for p in paths:
        out.add(p)
        out.update(ancestors(p))
    return out


def _dist_keys(facts: WheelFacts) -> set[str]:
    keys = {distribution_key(m) for m in facts.metadata_top_levels}
    if not facts.layout_known and facts.dist_info:
        keys.add(distribution_key(facts.dist_info))
    return keys


# --------------------------------------------------------------------------- 1, 2


def _check_determinism(wheels: Sequence[WheelFacts], plan: Plan, planner: Planner) -> list[str]:
    """Item 1 (+ item 5's second half): same input, same plan; a repeated wheel changes nothing."""
    tag = "[determinism]"
    try:
        first = planner(list(wheels), plan.engine)
        second = planner(list(wheels), plan.engine)
        repeated = planner([*wheels, *wheels[:1]], plan.engine) if wheels else first
    except HarnessError as exc:
        return [f"{tag} re-planning the same wheels with engine {plan.engine} failed: {exc}"]
    out = []
    if first != second or first.to_json() != second.to_json():
        out.append(f"{tag} planning the same wheels twice gave different plans")
    if first != plan:
        out.append(f"{tag} the plan differs from a fresh plan of the same wheels")
    if repeated != first:
        out.append(f"{tag} listing the first wheel a second time changed the plan")
    return out


def _check_policy_neutrality(plan: Plan, enforce: Enforcer) -> list[str]:
    """Item 2: warning/ignore never fail; error fails iff collisions exist, on the first one."""
    tag = "[policy-neutrality]"
    out = []
    snapshot = plan.to_json()
    results: dict[str, list[str] | PolicyError] = {}
    for policy in POLICIES:
        try:
            results[policy] = enforce(plan, policy)
        except PolicyError as exc:
            results[policy] = exc
    if plan.to_json() != snapshot:
        out.append(f"{tag} applying a policy changed the plan")
    for policy in ("warning", "ignore"):
        if isinstance(results[policy], PolicyError):
            out.append(f"{tag} policy {policy} raised: {results[policy]}")
    warning, ignore, error = results["warning"], results["ignore"], results["error"]
    if isinstance(ignore, list) and ignore:
        out.append(f"{tag} policy ignore returned {len(ignore)} messages, expected none")
    if isinstance(warning, list):
        described = [c.describe() for c in plan.collisions]
        if len(warning) != len(described) or any(
            d not in m for d, m in zip(described, warning, strict=False)
        ):
            out.append(
                f"{tag} policy warning returned {len(warning)} messages for "
                f"{len(described)} recorded collisions"
            )
    if plan.collisions:
        if not isinstance(error, PolicyError):
            out.append(f"{tag} policy error did not fail on {len(plan.collisions)} collisions")
        elif plan.collisions[0].describe() not in str(error):
            out.append(f"{tag} policy error did not report the first recorded collision")
    elif isinstance(error, PolicyError):
        out.append(f"{tag} policy error failed on a plan without collisions")
    return out


# --------------------------------------------------------------------------- shape


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


# --------------------------------------------------------------------------- 3, 4


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
    """Item 4: no data projection under `bin`, `lib` or `pyvenv.cfg`."""
    return [
        f"[reserved-prefix] data path `{path}` is projected into the venv-owned "
        f"`{path.split('/', 1)[0]}`"
        for path in ctx.data
        if path.split("/", 1)[0] in VENV_OWNED_PREFIX_ROOTS
    ]


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


# --------------------------------------------------------------------------- 5


def _check_console_scripts(ctx: _Context, wheels: Sequence[WheelFacts]) -> list[str]:
    expected: dict[str, tuple[str, str, str, str]] = {}
    for f in wheels:
        for s in f.console_scripts:
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


# --------------------------------------------------------------------------- 6, 7


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


# --------------------------------------------------------------------------- 12, 13, 9


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


# --------------------------------------------------------------------------- 8


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


__all__ = ["check_plan_invariants"]
