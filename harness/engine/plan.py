"""The planner: which wheel owns which site-packages path, and why (engine-contract.md §3).

`plan(wheels, engine)` is a pure function of the ordered `WheelFacts`: no file system, no
policy. It returns a frozen `Plan` whose every projection, merge, fallback, console script,
data path and metadata owner carries a `Decision` naming the rule that made it (a
`harness.engine.rules.Rule`) and its `Outcome`, so a report can say *why* `google/` points where
it points. The collision policy is applied afterwards by `enforce_policy`
(`harness.engine.policy`), which never changes the plan (engine-contract.md §6.1).

Precedence everywhere is "last distinct claimant wins" in wheel order (engine-contract.md §1.1).
The steps follow engine-contract.md §3: supersede earlier versions of a distribution (§4.3),
bucket claims per top-level, resolve each top-level (§3.1-§3.6), fold conflicted roots into
merges (§3.7), console scripts (§3.8), data files (§3.9), fully covered wheels (§3.10), then the
0/1/many metadata rule (§4.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from harness.engine.policy import enforce_policy
from harness.engine.rules import DECISION_GROUPS, RULE_GROUPS, Rule
from harness.errors import HarnessError, PlanError
from harness.facts import is_metadata, split_dist_info
from harness.model import (
    ENGINES,
    Collision,
    Decision,
    Fallback,
    MergeGroup,
    Outcome,
    Plan,
    WheelFacts,
)
from harness.names import canonicalize_name

# Prefix roots the venv owns: a wheel's `.data/data` file there would overwrite the venv itself.
RESERVED_DATA_ROOTS = ("bin", "lib", "pyvenv.cfg")

_GROUP_RANK = {group: rank for rank, group in enumerate(DECISION_GROUPS)}


# --------------------------------------------------------------------------- path helpers


def within(path: str, root: str) -> bool:
    """`path` equals `root` or lies below it (segment-wise, `a/bc` is not under `a/b`)."""
    return path == root or path.startswith(root + "/")


def within_any(path: str, roots: Iterable[str]) -> bool:
    return any(within(path, root) for root in roots)


def contains_any(root: str, paths: Iterable[str]) -> bool:
    return any(within(path, root) for path in paths)


def ancestors(path: str) -> list[str]:
    """Proper ancestor directories of `path`, shallowest first."""
    segments = path.split("/")
    return ["/".join(segments[:i]) for i in range(1, len(segments))]


def shallowest(roots: Iterable[str]) -> list[str]:
    """The minimal cover of `roots`: every root not nested below another (sorted)."""
    kept: list[str] = []
    kept_set: set[str] = set()
    for root in sorted(set(roots)):  # an ancestor sorts before its descendants
        if root in kept_set or any(a in kept_set for a in ancestors(root)):
            continue
        kept.append(root)
        kept_set.add(root)
    return kept


def distribution_key(metadata_dir: str) -> str:
    """Normalized distribution name of a `*.dist-info` / `*.egg-info` top-level."""
    if metadata_dir.endswith(".dist-info"):
        return split_dist_info(metadata_dir)[0]
    stem = metadata_dir[: -len(".egg-info")]
    return canonicalize_name(stem.split("-", 1)[0])


# --------------------------------------------------------------------------- per-wheel view


@dataclass(frozen=True)
class _Claim:
    """One wheel's claim on one top-level (engine-contract.md §1.4, upstream's `tl_claims`)."""

    label: str
    is_ns: bool
    is_dir: bool
    is_native: bool
    entries: tuple[str, ...]  # this wheel's namespace entries under the top-level
    ns_dirs: frozenset[str]  # this wheel's namespace dirs under the top-level


@dataclass
class _Wheel:
    """Set views of one wheel's facts, computed once (the planner's inner loops are N x N)."""

    facts: WheelFacts
    ns_dirs: frozenset[str]
    regular_roots: frozenset[str]
    native_roots: frozenset[str]
    metadata: tuple[str, ...]  # metadata top-levels
    claims: dict[str, _Claim]  # non-metadata top-level -> claim

    @property
    def label(self) -> str:
        return self.facts.label

    @classmethod
    def of(cls, facts: WheelFacts) -> _Wheel:
        ns_tls = set(facts.namespace_top_levels)
        dirs = set(facts.top_level_dirs)
        native = frozenset(facts.native_roots)
        entries_by_tl: dict[str, list[str]] = {}
        for entry in facts.namespace_entries:
            entries_by_tl.setdefault(entry.split("/", 1)[0], []).append(entry)
        ns_dirs_by_tl: dict[str, set[str]] = {}
        for d in facts.namespace_dirs:
            ns_dirs_by_tl.setdefault(d.split("/", 1)[0], set()).add(d)
        claims = {
            tl: _Claim(
                label=facts.label,
                is_ns=tl in ns_tls,
                is_dir=tl in dirs,
                is_native=tl in native,
                entries=tuple(sorted(entries_by_tl.get(tl, ()))),
                ns_dirs=frozenset(ns_dirs_by_tl.get(tl, ())),
            )
            for tl in facts.top_levels
            if not is_metadata(tl)
        }
        return cls(
            facts=facts,
            ns_dirs=frozenset(facts.namespace_dirs),
            regular_roots=frozenset(facts.regular_roots),
            native_roots=native,
            metadata=facts.metadata_top_levels,
            claims=claims,
        )


# --------------------------------------------------------------------------- state


@dataclass
class _State:
    """The accumulator of one planning run (engine-contract.md §3: skip and cover)."""

    engine: str
    wheels: list[_Wheel]
    dup_metadata_losers: set[str]
    projection: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, set[str]] = field(default_factory=dict)
    covered: dict[str, set[str]] = field(default_factory=dict)
    merges: list[MergeGroup] = field(default_factory=list)
    conflicted_roots: set[str] = field(default_factory=set)
    ns_claimants: set[str] = field(default_factory=set)
    collisions: list[Collision] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def skip(self, label: str, tl: str) -> None:
        """Route this wheel to the `.pth` fallback because of `tl`."""
        self.skipped.setdefault(label, set()).add(tl)

    def cover(self, label: str, tl: str) -> None:
        """Record `tl` of this wheel as handled by projection, merge or suppression."""
        self.covered.setdefault(label, set()).add(tl)

    def cover_if_clean(self, label: str, tl: str) -> None:
        if tl not in self.skipped.get(label, ()):
            self.cover(label, tl)

    def collide(self, kind: str, name: str, first: str, second: str, message: str = "") -> None:
        message = message or f"{kind} `{name}` is provided by both {first} and {second}"
        self.collisions.append(Collision(kind, name, first, second, message))

    def collide_chain(self, kind: str, name: str, chain: Sequence[str]) -> None:
        """One collision per takeover along a distinct-claimant chain (A→B, B→C, ...)."""
        for prior, later in pairwise(chain):
            self.collide(kind, name, prior, later)

    def decide(
        self,
        path: str,
        rule: Rule,
        claimants: Iterable[str],
        outcome: Outcome,
        winner: str | None = None,
        detail: str = "",
    ) -> None:
        self.decisions.append(Decision(path, rule, tuple(claimants), outcome, winner, detail))


def _distinct(labels: Iterable[str]) -> list[str]:
    """De-duplicate preserving first-seen order: the distinct claimant chain (last wins)."""
    return list(dict.fromkeys(labels))


# --------------------------------------------------------------------------- entry point


def plan(wheels: Sequence[WheelFacts], engine: str = "merge") -> Plan:
    """Plan one venv from `wheels` in provider order with the chosen engine variant.

    Raises `PlanError` for the hard errors no policy downgrades (engine-contract.md §4.4): a native
    conflicted root without a regular claimant, two or more copies of one distribution's
    metadata left on fallback, a malformed data path. `HarnessError` for an unknown engine.
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


def _validate_data_files(facts: WheelFacts) -> None:
    for path in facts.data_files:
        segments = path.split("/")
        if path.startswith("/") or any(s in ("", ".", "..") for s in segments):
            raise PlanError(
                f"wheel {facts.label} declares a malformed data file path {path!r}: expected a "
                "prefix-relative path whose segments are not empty, `.` or `..`. No collision "
                "policy downgrades this; the wheel's RECORD is wrong."
            )


def _sort_decisions(decisions: Iterable[Decision]) -> tuple[Decision, ...]:
    def key(d: Decision) -> tuple[int, str, str, tuple[str, ...], str, str]:
        rank = _GROUP_RANK[RULE_GROUPS[d.rule]]
        return (rank, d.path, d.rule, d.claimants, d.winner or "", d.detail)

    return tuple(sorted(decisions, key=key))


# --------------------------------------------------------------------------- flat and pth


def _plan_flat(ordered: list[WheelFacts]) -> Plan:
    """The oracle: every wheel installed in order into one site-packages, as pip does.

    Nothing is projected. This plan only explains the order: the venv itself is built by
    `harness.oracle.install_flat` from the wheel files, never from a plan, so the engine's own
    code cannot move the oracle.
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
    """The naive baseline: every wheel a `.pth` line, nothing projected into site-packages.

    Console scripts are still written (last claimant wins) so scripts can be compared; the
    metadata owner reported per distribution is the first copy on `sys.path`, which is what
    `importlib.metadata.distribution(name)` returns (other copies stay visible too).
    """
    labels = [f.label for f in ordered]
    state = _State(engine="pth", wheels=[_Wheel.of(f) for f in ordered], dup_metadata_losers=set())
    by_label = {w.label: w for w in state.wheels}
    fallbacks = []
    for f in ordered:
        fallbacks.append(Fallback(f.label, addsitedir=not f.layout_known))
        line = "addsitedir line (layout unknown)" if not f.layout_known else "plain path line"
        state.decide(f.label, Rule.PTH_FALLBACK, (f.label,), Outcome.FALLBACK, f.label, line)
    owners: dict[str, list[str]] = {}
    for w in state.wheels:
        for key in _metadata_keys(w):
            owners.setdefault(key, []).append(w.label)
    metadata_owners = []
    for key, copies in owners.items():
        copies = _distinct(copies)
        metadata_owners.append((key, copies[0]))
        detail = (
            f"distribution {key}: {len(copies)} cop{'y' if len(copies) == 1 else 'ies'} on sys.path"
        )
        state.decide(
            _dist_info_of(by_label, copies[0], key),
            Rule.METADATA_FIRST_ON_PATH,
            copies,
            Outcome.FALLBACK,
            copies[0],
            detail,
        )
    scripts = _resolve_console_scripts(state, set())
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

    fallbacks: list[Fallback] = []
    for w in state.wheels:
        if w.label in fully_covered:
            continue
        fallbacks.append(Fallback(w.label, addsitedir=not w.facts.layout_known))
        if w.facts.layout_known:
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
                w.label,
                Rule.FALLBACK_PLAIN,
                (w.label,),
                Outcome.FALLBACK,
                w.label,
                "; ".join(reasons),
            )
        else:
            state.decide(
                w.label,
                Rule.FALLBACK_ADDSITEDIR,
                (w.label,),
                Outcome.FALLBACK,
                w.label,
                "layout unknown (no RECORD top-levels): addsitedir so its root .pth files run",
            )

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


def _supersede(ordered: list[WheelFacts], state: _State) -> set[str]:
    """Two versions of one distribution: the earlier version is dropped entirely.

    Keyed by normalized name (engine-contract.md §4.3, beyond upstream): the last wheel of a
    distribution fixes its version; every earlier wheel with another version records a
    `distribution` collision and is superseded (nothing projected, not on fallback), so the
    visible metadata always matches the code. Same-version copies are left to the metadata rule.
    """
    by_name: dict[str, list[WheelFacts]] = {}
    for f in ordered:
        if f.name:
            by_name.setdefault(f.name, []).append(f)
    superseded: set[str] = set()
    for name, copies in by_name.items():
        winner = copies[-1]
        losers = [f for f in copies if f.version != winner.version]
        for loser in losers:
            superseded.add(loser.label)
            state.collide(
                "distribution",
                name,
                loser.label,
                winner.label,
                f"distribution `{name}` is given in two versions: {loser.label} ({loser.version}) "
                f"and {winner.label} ({winner.version}); the earlier {loser.label} is superseded",
            )
            state.decide(
                loser.dist_info or name,
                Rule.DISTRIBUTION_SUPERSEDED,
                [f.label for f in copies],
                Outcome.SUPERSEDED,
                winner.label,
                f"{name} {loser.version} superseded by {winner.version}: "
                "none of its files or metadata are visible",
            )
    return superseded


def _metadata_keys(w: _Wheel) -> list[str]:
    """Distributions whose metadata this wheel makes visible (unknown layout: its dist-info)."""
    if w.metadata:
        return _distinct(distribution_key(m) for m in w.metadata)
    if not w.facts.layout_known and w.facts.dist_info:
        return [distribution_key(w.facts.dist_info)]
    return []


def _dist_info_of(by_label: dict[str, _Wheel], label: str, key: str) -> str:
    """The dist-info through which `label` shows distribution `key` (a dict lookup: a scan of
    every wheel here made metadata resolution O(N²), 4.6 s of 5.1 s for 5 000 wheels)."""
    w = by_label.get(label)
    if w is None:
        return key
    for m in w.metadata:
        if distribution_key(m) == key:
            return m
    return w.facts.dist_info or key


def _duplicate_metadata_losers(wheels: list[_Wheel]) -> set[str]:
    """Every distinct claimant of a distribution's metadata except the last
    (engine-contract.md §4.2)."""
    claimants: dict[str, list[str]] = {}
    for w in wheels:
        for key in _metadata_keys(w):
            claimants.setdefault(key, []).append(w.label)
    return {label for chain in claimants.values() for label in _distinct(chain)[:-1]}


# --------------------------------------------------------------------------- top-levels


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
    parts = []
    if fallback:
        parts.append("on fallback: " + ", ".join(fallback))
    if suppressed:
        parts.append("suppressed as duplicate-metadata losers: " + ", ".join(suppressed))
    state.decide(tl, rule, chain, Outcome.PROJECT, winner, "; ".join(parts))


def _resolve_all_namespace(
    state: _State, by_label: dict[str, _Wheel], tl: str, claims: list[_Claim]
) -> None:
    """engine-contract.md §3.2-§3.4: a PEP 420 top-level shared by several wheels."""
    chain = [c.label for c in claims]
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
    _decide_excluded_entries(state, with_entries, conflicted, native_roots)


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
    parts = []
    if fallback:
        parts.append("on fallback: " + ", ".join(fallback))
    if suppressed:
        parts.append("suppressed as duplicate-metadata losers: " + ", ".join(suppressed))
    state.decide(
        root, Rule.NATIVE_SPAN_LAST_REGULAR, touching, Outcome.PROJECT, winner, "; ".join(parts)
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


# --------------------------------------------------------------------------- console scripts


def _resolve_console_scripts(
    state: _State, superseded: set[str]
) -> tuple[tuple[str, str, str, str], ...]:
    """engine-contract.md §3.8: per name, the last distinct claimant's entry point wins."""
    claimants: dict[str, dict[str, tuple[str, str]]] = {}
    for w in state.wheels:
        if w.label in superseded:
            continue
        for script in w.facts.console_scripts:
            claimants.setdefault(script.name, {})[w.label] = (script.module, script.attr)
    resolved = []
    for name, by_label in claimants.items():
        chain = list(by_label)
        state.collide_chain("console script", name, chain)
        winner = chain[-1]
        module, attr = by_label[winner]
        resolved.append((name, winner, module, attr))
        state.decide(
            name, Rule.CONSOLE_SCRIPT_LAST_WINS, chain, Outcome.PROJECT, winner, f"{module}:{attr}"
        )
    return tuple(sorted(resolved))


# --------------------------------------------------------------------------- data files


def _resolve_data_files(state: _State) -> tuple[tuple[str, str], ...]:
    """engine-contract.md §3.9: `.data/data` files under the prefix, per file, last claimant wins.

    Reserved roots are refused; a path nesting under another kept path is dropped; then the
    result collapses to the shallowest single-owner directories (root files stay files).
    """
    claimants: dict[str, list[str]] = {}
    for w in state.wheels:
        for path in w.facts.data_files:
            claimants.setdefault(path, []).append(w.label)
    owner: dict[str, str] = {}
    chains: dict[str, list[str]] = {}
    for path, labels in claimants.items():
        chain = _distinct(labels)
        root = path.split("/", 1)[0]
        if root in RESERVED_DATA_ROOTS:
            names = ", ".join(chain)
            state.collide(
                "data file",
                path,
                names,
                "the virtual environment",
                f"data file `{path}` from {names} is not projected: the virtual environment "
                f"owns `{root}` in the prefix.",
            )
            state.decide(
                path, Rule.DATA_RESERVED, chain, Outcome.REFUSE, None, f"the venv owns `{root}`"
            )
            continue
        state.collide_chain("data file", path, chain)
        owner[path] = chain[-1]
        chains[path] = chain

    kept: dict[str, str] = {}
    for path in sorted(owner):
        shadow = next((a for a in ancestors(path) if a in kept), None)
        if shadow is None:
            kept[path] = owner[path]
            continue
        state.collide(
            "data file",
            path,
            owner[path],
            kept[shadow],
            f"data file `{path}` from {owner[path]} is not projected: it nests under data file "
            f"`{shadow}` from {kept[shadow]}, which the prefix binds first.",
        )
        state.decide(
            path,
            Rule.DATA_NESTED,
            chains[path],
            Outcome.REFUSE,
            None,
            f"nests under data file `{shadow}` from {kept[shadow]}",
        )

    dir_owners: dict[str, set[str]] = {}
    for path, label in kept.items():
        for a in ancestors(path):
            dir_owners.setdefault(a, set()).add(label)
    roots = shallowest(d for d, labels in dir_owners.items() if len(labels) == 1)
    root_set = set(roots)
    via_root = {p: next((a for a in ancestors(p) if a in root_set), None) for p in kept}
    inside_root: dict[str | None, list[str]] = {}
    for p, root in via_root.items():
        inside_root.setdefault(root, []).append(p)
    projection = {p: o for p, o in kept.items() if via_root[p] is None}
    for root in roots:
        label = next(iter(dir_owners[root]))
        projection[root] = label
        inside = inside_root.get(root, [])
        state.decide(
            root,
            Rule.DATA_COLLAPSE,
            [label],
            Outcome.PROJECT,
            label,
            f"single-owner directory binds {len(inside)} file{'s' if len(inside) != 1 else ''}",
        )
    for path, label in kept.items():
        via = via_root[path]
        chain = chains[path]
        detail = f"earlier claimants lose: {', '.join(chain[:-1])}" if len(chain) > 1 else ""
        if via:
            detail = f"{detail}; through {via}" if detail else f"through {via}"
        state.decide(path, Rule.DATA_LAST_WINS, chain, Outcome.PROJECT, label, detail)
    return tuple(sorted(projection.items()))


# --------------------------------------------------------------------------- coverage, metadata


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


def _resolve_metadata(state: _State, fully_covered: set[str]) -> dict[str, str]:
    """The 0/1/many rule (engine-contract.md §4.1): exactly one visible dist-info per distribution.

    Count the copies left on whole-wheel fallback after the collision outcome: 0 → project the
    winner's dist-info; 1 → project nothing, that copy owns discovery; 2 or more → PlanError
    naming every copy, whatever the policy.
    """
    claimants: dict[str, list[str]] = {}
    for w in state.wheels:
        for key in _metadata_keys(w):
            claimants.setdefault(key, []).append(w.label)
    by_label = {w.label: w for w in state.wheels}
    owners: dict[str, str] = {}
    for key, labels in claimants.items():
        chain = _distinct(labels)
        on_fallback = [label for label in chain if label not in fully_covered]
        if len(on_fallback) >= 2:
            raise PlanError(
                f"distribution `{key}` would have {len(on_fallback)} visible metadata copies: "
                f"{', '.join(on_fallback)} all remain on whole-wheel fallback (expected at most "
                "one copy on fallback so exactly one dist-info is visible). No collision policy "
                "downgrades this; drop the duplicate wheels or make their copies collide only "
                "where one can be suppressed."
            )
        winner = chain[-1]
        state.collide_chain(
            "distribution metadata entry", _dist_info_of(by_label, winner, key), chain
        )
        if not on_fallback:
            entries = [m for m in by_label[winner].metadata if distribution_key(m) == key]
            for entry in entries:
                state.projection[entry] = winner
            owners[key] = winner
            detail = f"distribution {key}: no copy left on fallback, project the winner's"
            if len(chain) > 1:
                detail += f"; suppressed copies: {', '.join(chain[:-1])}"
            state.decide(entries[0], Rule.METADATA_PROJECT, chain, Outcome.PROJECT, winner, detail)
        else:
            owner = on_fallback[0]
            owners[key] = owner
            state.decide(
                _dist_info_of(by_label, owner, key),
                Rule.METADATA_FALLBACK_OWNER,
                chain,
                Outcome.FALLBACK,
                owner,
                f"distribution {key}: the sole copy on fallback owns discovery; nothing projected",
            )
    return owners


__all__ = [
    "DECISION_GROUPS",
    "RESERVED_DATA_ROOTS",
    "RULE_GROUPS",
    "Rule",
    "ancestors",
    "distribution_key",
    "enforce_policy",
    "plan",
    "shallowest",
    "within",
]
