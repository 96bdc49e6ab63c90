"""What every plan-invariant check reads: the plan's outputs as look-ups, and the checker's own
helpers (checks.md §6).

The checker shares no helper with the planner it judges, so a planner bug in one of them cannot
hide itself by moving the expectation too: the path and distribution helpers and the venv-owned
names below are restated from the contract (engine-contract.md §2.6, §3.8). What the checker
does import from the engine is what it checks: the planner and the policy (determinism, policy
neutrality) and the rule vocabulary decisions must use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from harness.model import Plan, WheelFacts

Planner = Callable[[Sequence[WheelFacts], str], Plan]
Enforcer = Callable[[Plan, str], list[str]]

_NATIVE_RULES = ("native-span-last-regular", "native-last-regular")

# The prefix roots the venv owns: virtualenv's, and the harness state directory.
VENV_OWNED_PREFIX_ROOTS = ("bin", "lib", "pyvenv.cfg", "CACHEDIR.TAG", ".harness")


def venv_owned_script(name: str) -> bool:
    """`bin/python`, `bin/python3`, `bin/python3.N`: the venv's own interpreter links."""
    if name in ("python", "python3"):
        return True
    head, dot, minor = name.partition(".")
    return head == "python3" and bool(dot) and minor.isdigit()


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


__all__ = [
    "VENV_OWNED_PREFIX_ROOTS",
    "Enforcer",
    "Planner",
    "ancestors",
    "distribution_key",
    "venv_owned_script",
]
