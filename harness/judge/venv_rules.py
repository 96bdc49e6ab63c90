"""A1-A4: what the venv itself must show, whatever built it (checks.md §5.1-§5.4)."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from harness.cases.case import Case
from harness.judge.findings import Finding
from harness.judge.wording import (
    owner_text,
    runtime_text,
    under,
    with_note,
)
from harness.model import Plan, WheelFacts
from harness.observe.observation import ConcreteModule, Observation, RuntimeModule

# --------------------------------------------------------------------------- the checks


def check_a1(obs: Observation) -> list[Finding]:
    """A1: every module the concrete tree shows resolves at runtime to the same real file."""
    findings: list[Finding] = []
    failed: list[str] = []
    suppressed: dict[str, int] = defaultdict(int)
    for name in sorted(obs.concrete):
        ancestor = next((f for f in failed if name.startswith(f + ".")), None)
        concrete = obs.concrete[name]
        rt = obs.runtime.get(name)
        problem = _a1_problem(concrete, rt)
        if problem is None:
            continue
        if ancestor is not None:
            suppressed[ancestor] += 1
            continue
        failed.append(name)
        owner_c = obs.owner_of(concrete.realpath)
        owner_r = obs.owner_of(rt.origin) if rt and rt.origin else None
        wheels = tuple(sorted({label for o in (owner_c, owner_r) if o for label in o.labels}))
        findings.append(
            Finding(
                rule="A1",
                subject=name,
                message=problem,
                concrete=f"{concrete.kind} {owner_text(owner_c, concrete.realpath)} (seen as {concrete.path})",
                runtime=runtime_text(rt, obs),
                wheels=wheels,
            )
        )
    return [
        f
        if not suppressed.get(f.subject)
        else with_note(f, f"; {suppressed[f.subject]} submodule(s) below it disagree too")
        for f in findings
    ]


def _a1_problem(concrete: ConcreteModule, rt: RuntimeModule | None) -> str | None:
    if rt is None or rt.status != "found":
        return "the concrete tree shows it, but runtime cannot resolve it"
    if concrete.kind == "namespace":
        if rt.kind != "namespace":
            return "the concrete tree shows a namespace directory, but runtime binds another module"
        if concrete.realpath not in rt.locations:
            return "the concrete namespace directory is not among runtime's search locations"
        return None
    if rt.kind == "namespace":
        return "the concrete tree shows a module, but runtime binds a namespace package"
    if rt.origin != concrete.realpath:
        return "the concrete tree and runtime resolve to different files"
    return None


def check_a2(
    obs: Observation,
    flat: Observation | None,
    shipped: Mapping[str, Iterable[str]],
    case: Case | None,
    explain: Plan | None = None,
) -> list[Finding]:
    """A2: every module some wheel ships is importable, unless a flat install cannot import it
    either, or the case declares the loss (`absent = true`, or a declared flat difference).

    Without a case, every loss against the flat install is a finding. The engine's plan
    (`explain`), when it has one, only adds its own account of the loss to the message.
    """
    findings = []
    missing_roots: list[str] = []
    for name in sorted(set().union(*shipped.values()) if shipped else ()):
        rt = obs.runtime.get(name)
        if rt is not None and rt.status == "found":
            continue
        if flat is not None and (
            flat.runtime.get(name) is None or flat.runtime[name].status != "found"
        ):
            continue  # a flat install cannot import it either: not the engine's loss
        if case is not None and (
            under(name, [m.name for m in case.expect.modules if m.absent])
            or case.expect.declared_flat_difference(name)
        ):
            continue
        if under(name, missing_roots):
            continue
        missing_roots.append(name)
        wheels = tuple(sorted(label for label, names in shipped.items() if name in names))
        message = (
            "a wheel ships this module and a flat install imports it, but runtime cannot resolve it"
        )
        account = _plan_account(name, wheels, explain)
        findings.append(
            Finding(
                rule="A2",
                subject=name,
                message=message + (f"; the engine's plan says: {account}" if account else ""),
                runtime=runtime_text(rt, obs),
                wheels=wheels,
            )
        )
    return findings


def _plan_account(name: str, shippers: Sequence[str], plan: Plan | None) -> str:
    """What an engine's own plan says about a lost module: explanation, never excuse."""
    if plan is None:
        return ""
    top = name.split(".")[0]
    said = [c.describe() for c in plan.collisions if c.name.split("/")[0] == top]
    said += [
        f"{d.rule}: `{d.path}` {d.outcome} to {d.winner}"
        for d in plan.decisions
        if d.winner is not None
        and under(name, [d.path.replace("/", ".")])
        and set(d.claimants) - {d.winner} & set(shippers)
    ]
    return "; ".join(dict.fromkeys(said))


def check_a3(obs: Observation, wheels: Sequence[WheelFacts]) -> list[Finding]:
    """A3: exactly one visible metadata copy per distribution, belonging to the imported code.

    Every distribution given counts once, whatever the engine did with it: two versions or two
    builds of one distribution must still leave exactly one copy (engine-contract.md §4).
    """
    findings = []
    by_name: dict[str, list[WheelFacts]] = defaultdict(list)
    for w in wheels:
        by_name[w.name].append(w)
    facts_by_label = {w.label: w for w in wheels}
    for name in sorted(by_name):
        copies = [d for d in obs.distributions if d.name == name]
        if len(copies) != 1:
            findings.append(
                Finding(
                    rule="A3",
                    subject=name,
                    message=f"importlib.metadata finds {len(copies)} copies of this distribution, expected exactly 1",
                    runtime="; ".join(f"{d.version} at {d.path}" for d in copies) or "(none)",
                    wheels=tuple(w.label for w in by_name[name]),
                )
            )
            continue
        visible = copies[0]
        # Whose build the visible copy is: its WHEEL file's bytes carry the build's tags, so
        # two builds of one version (manylinux and musllinux) are told apart by content.
        described = obs.owner_of(os.path.join(visible.path, "WHEEL")) if visible.path else None
        builds = {
            label
            for label in (described.labels if described else ())
            if label in facts_by_label and facts_by_label[label].name == name
        }
        roots = {r for w in by_name[name] for r in (*w.regular_top_levels, *w.regular_roots)}
        for module in sorted(r.removesuffix(".py").replace("/", ".") for r in roots):
            rt = obs.runtime.get(module)
            if rt is None or rt.origin is None:
                continue
            owner = obs.owner_of(rt.origin)
            codes = [facts_by_label[label] for label in (owner.labels if owner else ())]
            codes = [c for c in codes if c.name == name]
            if codes and all(c.version != visible.version for c in codes):
                findings.append(
                    Finding(
                        rule="A3",
                        subject=name,
                        message=f"visible metadata says {visible.version} but `{module}` is imported from {codes[0].version}",
                        runtime=rt.origin,
                        wheels=tuple(c.label for c in codes),
                    )
                )
            elif codes and builds and not builds & {c.label for c in codes}:
                findings.append(
                    Finding(
                        rule="A3",
                        subject=name,
                        message=f"the visible metadata is the copy of {', '.join(sorted(builds))}, "
                        f"but `{module}` is imported from {', '.join(c.label for c in codes)}: "
                        "another build of the same version",
                        runtime=rt.origin,
                        wheels=tuple(dict.fromkeys([*builds, *(c.label for c in codes)])),
                    )
                )
    return findings


def check_a4(obs: Observation, order: Sequence[str] = ()) -> list[Finding]:
    """A4: the venv's site-packages precedes every fallback entry, fallbacks follow wheel
    order (`order`: labels, the wheels' own order), and no real path appears twice."""
    findings = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(obs.sys_path):
        if entry in seen:
            findings.append(
                Finding(
                    "A4",
                    entry,
                    f"sys.path holds this real path twice (entries {seen[entry]} and {i})",
                )
            )
        seen.setdefault(entry, i)
    site = seen.get(obs.site_packages)
    for root, labels in sorted(obs.fallback_roots.items()):
        pos = seen.get(root)
        if pos is not None and (site is None or pos < site):
            findings.append(
                Finding(
                    "A4",
                    root,
                    f"fallback entry at position {pos} precedes the venv site-packages ({site})",
                    wheels=tuple(labels),
                )
            )
    findings += _fallback_order(obs, seen, order)
    return findings


def _fallback_order(
    obs: Observation, seen: Mapping[str, int], order: Sequence[str]
) -> list[Finding]:
    """Fallback entries on sys.path in wheel order: a later wheel's fallback before an earlier
    wheel's would let it win every name both ship, the reverse of "later wins"."""
    rank = {label: i for i, label in enumerate(order)}
    on_path = sorted(
        (seen[root], min(rank[label] for label in ranked), root, labels)
        for root, labels in obs.fallback_roots.items()
        if root in seen and (ranked := [label for label in labels if label in rank])
    )
    findings = []
    latest: tuple[int, str, tuple[str, ...]] | None = None  # highest wheel rank seen so far
    for pos, wheel, root, labels in on_path:
        if latest is not None and wheel < latest[0]:
            findings.append(
                Finding(
                    "A4",
                    root,
                    f"fallback of {', '.join(labels)} (sys.path entry {pos}) comes after the "
                    f"fallback of {', '.join(latest[2])}, a later wheel (entry {seen[latest[1]]}): "
                    "fallbacks must follow wheel order",
                    wheels=(*labels, *latest[2]),
                )
            )
        if latest is None or wheel > latest[0]:
            latest = (wheel, root, labels)
    return findings
