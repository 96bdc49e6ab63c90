"""A5-A8: the venv against the flat oracle and against what its engine reported
(checks.md §5.5-§5.8)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from harness.cases.case import Case
from harness.judge.findings import Finding
from harness.judge.wording import (
    owner_text,
    runtime_text,
    under,
)
from harness.observe.observation import Observation, RuntimeModule


def signature(rt: RuntimeModule | None, obs: Observation) -> tuple:
    """What a module *is*, independent of where the venv lives: status, kind and owner."""
    if rt is None or rt.status != "found":
        return ("absent",)
    if rt.kind == "namespace":
        return ("namespace",)
    owner = obs.owner_of(rt.origin) if rt.origin else None
    return (rt.kind, owner)


def same_module(mine: tuple, theirs: tuple) -> bool:
    """Two signatures name the same module: equal, or the same kind and path whose owners
    share a wheel (identical bytes that two wheels ship at one path are one module, whichever
    wheel a store's layout happens to credit them to)."""
    if mine == theirs:
        return True
    if len(mine) != 2 or len(theirs) != 2 or mine[0] != theirs[0]:
        return False
    a, b = mine[1], theirs[1]
    return (
        a is not None and b is not None and a.path == b.path and bool(set(a.labels) & set(b.labels))
    )


def differences_from_flat(obs: Observation, flat: Observation, names: Iterable[str]) -> list[str]:
    """Every name whose status, kind or owner differs from the flat install's (sorted)."""
    return [
        name
        for name in sorted(set(names))
        if not same_module(
            signature(obs.runtime.get(name), obs), signature(flat.runtime.get(name), flat)
        )
    ]


def check_a5(
    obs: Observation, flat: Observation, names: Iterable[str], case: Case
) -> list[Finding]:
    """A5: every difference from the flat oracle is declared by the case, and every declaration holds."""
    findings = []
    differing = differences_from_flat(obs, flat, names)
    for name in differing:
        mine, theirs = obs.runtime.get(name), flat.runtime.get(name)
        if case.expect.declared_flat_difference(name) or under(name, [f.subject for f in findings]):
            continue
        findings.append(
            Finding(
                rule="A5",
                subject=name,
                message="differs from the flat install and the case does not declare it",
                concrete=f"flat: {runtime_text(theirs, flat)}",
                runtime=f"this engine: {runtime_text(mine, obs)}",
            )
        )
    for declared in case.expect.flat_differences:
        if not any(declared.covers(n) for n in differing):
            findings.append(
                Finding(
                    rule="expect-flat",
                    subject=declared.module,
                    message="declared as a difference from flat, but this engine agrees with flat",
                )
            )
    return findings


def check_a6(obs: Observation, flat: Observation | None) -> list[Finding]:
    """A6: every console script in bin/ resolves its entry point (module imported, dotted
    attribute walked, nothing called), and the code it reaches is the claimed wheel's.

    A script that cannot resolve is excused only when the flat install's script of the same
    name cannot either (a dependency the case does not ship). The claimed wheel is the one
    whose entry point the script's text runs (`observe.script_owners`); ownership of the
    entry point module's file (else the resolved object's) is by RECORD content.
    """
    findings = []
    for name, run in sorted(obs.script_runs.items()):
        if run.status in ("unparsed", "missing"):
            continue
        claimed = obs.script_owners.get(name, ())
        if run.status != "resolved":
            theirs = flat.script_runs.get(name) if flat is not None else None
            if theirs is not None and theirs.status != "resolved":
                continue  # a flat install's script cannot resolve either
            findings.append(
                Finding(
                    "A6",
                    f"bin/{name}",
                    "the console script cannot resolve its entry point"
                    + (" (the flat install's can)" if theirs is not None else ""),
                    runtime=run.error or run.status,
                    wheels=tuple(claimed),
                )
            )
            continue
        reached = run.module_file or run.object_file
        owner = obs.owner_of(reached) if reached else None
        if claimed and owner is not None and not set(owner.labels) & set(claimed):
            findings.append(
                Finding(
                    "A6",
                    f"bin/{name}",
                    f"the script runs the entry point of {', '.join(claimed)}, but its code "
                    f"resolves to {owner.label}'s",
                    runtime=f"{run.object} in {owner_text(owner, reached)}",
                    wheels=tuple(dict.fromkeys([*claimed, *owner.labels])),
                )
            )
    return findings


def check_a7(obs: Observation, flat: Observation | None = None) -> list[Finding]:
    """A7: no bytecode in a real directory of site-packages is the cache of a source it was
    not compiled from: a `.pyc` one wheel ships beside an `X.py` whose bytes only another wheel
    ships, or a `.pyc` no wheel ships whose header no longer matches the source on disk.

    Removing such bytecode is the merge engine's own rule (engine-contract.md §5.4), so its engine
    and bug models are judged strictly (`flat` None). Any other engine is judged against the
    flat install (`flat`): pip writes the bytecode a wheel ships and leaves it beside a source a
    later wheel overwrites, so what flat holds too is not that engine's doing."""
    shared = set(flat.bytecode) if flat is not None else set()
    findings = []
    for b in obs.bytecode:
        if b in shared:
            continue
        if b.pyc_owners and b.source_owners and not set(b.pyc_owners) & set(b.source_owners):
            findings.append(
                Finding(
                    "A7",
                    b.path,
                    f"bytecode shipped by {', '.join(b.pyc_owners)} sits beside {b.source}, whose "
                    f"bytes are {', '.join(b.source_owners)}'s: it was compiled from another source",
                    wheels=(*b.pyc_owners, *b.source_owners),
                )
            )
        elif not b.pyc_owners and b.header == "stale":
            findings.append(
                Finding(
                    "A7",
                    b.path,
                    f"bytecode no wheel ships is stale against {b.source} (its header records "
                    "another source)",
                    wheels=b.source_owners,
                )
            )
    return findings


def check_a8(obs: Observation, reports: Sequence[str] | None) -> list[Finding]:
    """A8: every shared-file conflict a merge resolved on disk is reported by the engine.

    `reports` is what the engine said while building (its warnings); None when the engine
    is not one whose reports the harness receives (a third-party adapter): nothing to judge.
    """
    if reports is None:
        return []
    findings = []
    for shared in obs.shared_paths:
        named = re.compile(rf"(?<![\w./-]){re.escape(shared.path)}(?![\w./-])")
        if not any(named.search(r) for r in reports):
            findings.append(
                Finding(
                    "A8",
                    shared.path,
                    f"{', '.join(shared.wheels)} ship this path differently "
                    f"({shared.kind.replace('_', ' ')}) and the venv holds one version in a real "
                    "directory, but the engine reported no conflict naming it",
                    wheels=shared.wheels,
                )
            )
    return findings
