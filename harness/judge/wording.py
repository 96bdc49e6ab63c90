"""How findings name modules, owners and wheels: shared by every rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.utils import canonicalize_name

from harness.judge.findings import Finding
from harness.model import WheelFacts
from harness.observe.observation import Observation, RuntimeModule
from harness.observe.ownership import Owner


def under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def owner_text(owner: Owner | None, path: str | None) -> str:
    if path is None:
        return "(none)"
    if owner is None:
        return f"{path} (no wheel ships these bytes)"
    return f"{owner.path or '.'} from {owner.label} ({path})"


def matches_wheel(label: str, wanted: str, facts_by_label: Mapping[str, WheelFacts]) -> bool:
    """A case names a wheel by label or by distribution name."""
    if label == wanted:
        return True
    facts = facts_by_label.get(label)
    return facts is not None and facts.name == canonicalize_name(wanted)


def owned_by(owner: Owner | None, wanted: str, facts_by_label: Mapping[str, WheelFacts]) -> bool:
    return owner is not None and any(
        matches_wheel(label, wanted, facts_by_label) for label in owner.labels
    )


def with_note(finding: Finding, note: str) -> Finding:
    return Finding(**{**finding.__dict__, "message": finding.message + note})


def runtime_text(rt: RuntimeModule | None, obs: Observation) -> str:
    if rt is None:
        return "(not probed)"
    if rt.status != "found":
        return f"{rt.status}" + (f" ({rt.error})" if rt.error else "")
    if rt.kind == "namespace":
        return "namespace over " + ", ".join(owner_text(obs.owner_of(p), p) for p in rt.locations)
    return f"{rt.kind} {owner_text(obs.owner_of(rt.origin) if rt.origin else None, rt.origin)}"
