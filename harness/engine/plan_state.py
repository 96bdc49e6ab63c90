"""The planner's working vocabulary: path helpers, per-wheel views and the run's accumulator.

Every step of the planner (`harness.engine.plan` and its `plan_*` modules) reads wheels through
`_Wheel` and `_Claim` and writes through one `_State`: projections, skips and covers
(engine-contract.md §3), merges, collisions and decisions. Pure: strings and sets only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from harness.engine.rules import Rule
from harness.facts import is_metadata, split_dist_info
from harness.model import Collision, Decision, MergeGroup, Outcome, WheelFacts
from harness.names import canonicalize_name

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


def _distinct(labels: Iterable[str]) -> list[str]:
    """De-duplicate preserving first-seen order: the distinct claimant chain (last wins)."""
    return list(dict.fromkeys(labels))


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


def losers_detail(fallback: Sequence[str], suppressed: Sequence[str]) -> str:
    """ "on fallback: A; suppressed as duplicate-metadata losers: B" (either part may be empty)."""
    parts = []
    if fallback:
        parts.append("on fallback: " + ", ".join(fallback))
    if suppressed:
        parts.append("suppressed as duplicate-metadata losers: " + ", ".join(suppressed))
    return "; ".join(parts)


__all__ = [
    "ancestors",
    "contains_any",
    "distribution_key",
    "losers_detail",
    "shallowest",
    "within",
    "within_any",
]
