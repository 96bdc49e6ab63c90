"""Premises and expectations: the case's reasoned declarations, judged (checks.md §7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from packaging.utils import canonicalize_name

from harness.cases.case import Case
from harness.judge.findings import Finding
from harness.judge.wording import (
    matches_wheel,
    owned_by,
    owner_text,
    runtime_text,
)
from harness.model import Plan, WheelFacts
from harness.observe.observation import Observation
from harness.observe.ownership import Owner


def check_premises(case: Case, wheels: Sequence[WheelFacts]) -> list[Finding]:
    findings = []
    facts_by_label = {w.label: w for w in wheels}
    for premise in case.premises:
        matching = [w for w in wheels if matches_wheel(w.label, premise.wheel, facts_by_label)]
        if not matching:
            findings.append(
                Finding(
                    "premise", premise.wheel, f"no wheel of the case is named {premise.wheel!r}"
                )
            )
            continue
        for w in matching:
            ok, seen = premise.holds(w)
            if not ok:
                findings.append(
                    Finding(
                        "premise",
                        premise.describe(),
                        f"the wheel lost the shape this case exercises ({premise.why}); it has: {seen}",
                        wheels=(w.label,),
                    )
                )
    return findings


def check_expectations(
    obs: Observation, case: Case, wheels: Sequence[WheelFacts], plan: Plan | None = None
) -> list[Finding]:
    """The case's own `[[expect.*]]` entries (already narrowed to the engine they speak about,
    `Case.for_engine`). Only `expect.collision` reads the plan: a recorded collision is
    a fact about the engine's own report, so an engine without a plan records none."""
    by_label = {w.label: w for w in wheels}
    return [
        *_module_findings(obs, case, by_label),
        *_import_findings(obs, case),
        *_expected_file_findings(obs, case, by_label),
        *_console_script_findings(obs, case, by_label),
        *_metadata_findings(obs, case),
        *_collision_findings(case, plan),
        *_fallback_findings(obs, case, by_label),
        *_budget_findings(obs, case),
    ]


def _module_findings(
    obs: Observation, case: Case, by_label: Mapping[str, WheelFacts]
) -> list[Finding]:
    """`expect.module`: absent, or bound to the named wheel (a portion of it, for a namespace)."""
    findings = []
    for m in case.expect.modules:
        rt = obs.imported.get(m.name) or obs.runtime.get(m.name)
        problem = _module_problem(obs, m, rt, by_label)
        if problem:
            findings.append(
                Finding("expect-module", m.name, problem, runtime=runtime_text(rt, obs))
            )
    return findings


def _module_problem(obs, m, rt, by_label: Mapping[str, WheelFacts]) -> str | None:
    if m.absent:
        if rt is not None and rt.status == "found":
            return f"expected absent ({m.explanation}), but runtime finds it"
        return None
    if rt is None or rt.status != "found":
        return f"expected from {m.owner} ({m.explanation}), but runtime cannot load it"
    if rt.kind == "namespace":
        labels = {label for p in rt.locations if (o := obs.owner_of(p)) for label in o.labels}
        if not any(matches_wheel(label, m.owner or "", by_label) for label in labels):
            return f"expected a portion from {m.owner} ({m.explanation})"
        return None
    owner = obs.owner_of(rt.origin) if rt.origin else None
    if not owned_by(owner, m.owner or "", by_label):
        return f"expected from {m.owner} ({m.explanation})"
    return None


def _import_findings(obs: Observation, case: Case) -> list[Finding]:
    """The case's `imports`: each must really import."""
    return [
        Finding("import", name, "a real import of this module fails", runtime=runtime_text(rt, obs))
        for name in case.imports
        if (rt := obs.imported.get(name)) is None or rt.status != "found"
    ]


def _expected_file_findings(
    obs: Observation, case: Case, by_label: Mapping[str, WheelFacts]
) -> list[Finding]:
    """`expect.file` (under site-packages) and `expect.prefix_file` (under the venv prefix)."""
    findings = []
    for f in case.expect.files:
        real = obs.file_realpaths[f.path]
        owner = obs.owner_of(real)
        kind = obs.file_kinds.get(f.path)
        findings += _file_findings("expect-file", "site-packages", f, kind, owner, real, by_label)
    for f in case.expect.prefix_files:
        label = obs.prefix_owners.get(f.path)
        owner = Owner(tuple(label.split(" + ")), f.path) if label else None
        kind = obs.prefix_kinds.get(f.path)
        findings += _file_findings(
            "expect-prefix-file", "the venv prefix", f, kind, owner, f.path, by_label
        )
    return findings


def _console_script_findings(
    obs: Observation, case: Case, by_label: Mapping[str, WheelFacts]
) -> list[Finding]:
    """`expect.console_script`: bin/<name> exists, is executable, runs the named wheel's."""
    findings = []
    for cs in case.expect.console_scripts:
        runs = obs.script_owners.get(cs.name, ())
        if not obs.scripts.get(cs.name):
            message = f"bin/{cs.name} is missing or not executable ({cs.explanation})"
        elif not any(matches_wheel(label, cs.owner, by_label) for label in runs):
            message = (
                f"expected bin/{cs.name} to run the entry point of {cs.owner} ({cs.explanation}); "
                f"it runs the entry point of {', '.join(runs) or 'no wheel given'}"
            )
        else:
            continue
        findings.append(Finding("expect-console-script", cs.name, message))
    return findings


def _metadata_findings(obs: Observation, case: Case) -> list[Finding]:
    """`expect.metadata`: exactly one visible copy, of the version named."""
    findings = []
    for md in case.expect.metadata:
        copies = [d for d in obs.distributions if d.name == canonicalize_name(md.name)]
        if len(copies) != 1 or (md.version and copies[0].version != md.version):
            version = " of version " + md.version if md.version else ""
            findings.append(
                Finding(
                    "expect-metadata",
                    md.name,
                    f"expected one copy{version} ({md.explanation})",
                    runtime="; ".join(f"{d.version} at {d.path}" for d in copies) or "(none)",
                )
            )
    return findings


def _collision_findings(case: Case, plan: Plan | None) -> list[Finding]:
    """`expect.collision`: the engine's own plan records it (no plan records none)."""
    recorded = {(c.kind, c.name) for c in plan.collisions} if plan else set()
    return [
        Finding(
            "expect-collision",
            c.name,
            f"expected a recorded {c.kind} collision ({c.explanation}); "
            f"recorded: {sorted(recorded) or 'none'}",
        )
        for c in case.expect.collisions
        if (c.kind, c.name) not in recorded
    ]


def _fallback_findings(
    obs: Observation, case: Case, by_label: Mapping[str, WheelFacts]
) -> list[Finding]:
    """`expect.fallback`: the wheel's own entry is on sys.path."""
    on_path = {
        label
        for root, labels in obs.fallback_roots.items()
        if root in obs.sys_path
        for label in labels
    }
    return [
        Finding(
            "expect-fallback",
            fb.wheel,
            f"expected on the .pth fallback and on sys.path ({fb.explanation})",
        )
        for fb in case.expect.fallbacks
        if not any(matches_wheel(label, fb.wheel, by_label) for label in on_path)
    ]


def _budget_findings(obs: Observation, case: Case) -> list[Finding]:
    """`expect.budget`: no more symlinks under a directory than the case allows."""
    findings = []
    for budget in case.expect.budgets:
        count = obs.symlink_counts.get(budget.under, 0)
        if count > budget.max_symlinks:
            findings.append(
                Finding(
                    "expect-budget",
                    budget.under,
                    f"{count} symlinks, budget {budget.max_symlinks} ({budget.explanation})",
                )
            )
    return findings


def _file_findings(rule, where, f, kind, owner, real, facts_by_label) -> list[Finding]:
    """One `[[expect.file]]` / `[[expect.prefix_file]]` against what is on disk."""
    if f.absent:
        if kind is None:
            return []
        return [Finding(rule, f.path, f"expected absent ({f.explanation}), found a {kind}")]
    if kind is None:
        return [
            Finding(rule, f.path, f"expected in {where} ({f.explanation}), but it is not there")
        ]
    found = []
    if f.kind and f.kind != kind:
        found.append(
            Finding(rule, f.path, f"expected a {f.kind} ({f.explanation}), found a {kind}")
        )
    if f.owner and not owned_by(owner, f.owner, facts_by_label):
        found.append(
            Finding(
                rule,
                f.path,
                f"expected from {f.owner} ({f.explanation})",
                concrete=owner_text(owner, real),
            )
        )
    return found


def static_blind_spots(obs: Observation, names: Iterable[str]) -> list[str]:
    """Modules runtime finds that a static tool walking site-packages cannot see (info, not a finding)."""
    return sorted(
        n
        for n in names
        if n not in obs.concrete and (rt := obs.runtime.get(n)) and rt.status == "found"
    )
