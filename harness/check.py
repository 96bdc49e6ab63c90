"""Hold what a venv shows on disk against what its interpreter really does (checks.md §5).

The checker judges from facts only: an `Observation` of the venv (the concrete view, the
runtime probe, sys.path, metadata, and file ownership by RECORD content, see
`harness.observe`), the flat oracle's observation, the wheels' facts and the case's
declarations. It never takes the engine's word: an engine's plan, when there is one, may add
its explanation to a finding's text (`explain`), never excuse one; what an engine *said* while
building (its warnings) is judged only for whether it reported what it did (A8). Each finding
names the module or path, the concrete and the runtime side, the rule (A1–A8, premise,
expect-*), and the wheels involved; the runner adds the case, the interpreter and the engine.
The plan invariants are checked elsewhere (`harness.engine.invariants`), for the harness's own
planner only.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from harness.cases import Case
from harness.model import Plan, WheelFacts
from harness.ownership import Owner

RULES = {
    "A1": "concrete/runtime agreement",
    "A2": "no silent loss",
    "A3": "one metadata copy",
    "A4": "sys.path hygiene",
    "A5": "flat differential",
    "A6": "console scripts resolve",
    "A7": "no stale bytecode",
    "A8": "merge conflicts reported",
    "plan": "plan invariant",
    "premise": "premise guard",
    "import": "real import",
    "expect-module": "expected module",
    "expect-file": "expected file",
    "expect-prefix-file": "expected prefix file",
    "expect-console-script": "expected console script",
    "expect-metadata": "expected metadata",
    "expect-collision": "expected collision",
    "expect-fallback": "expected fallback",
    "expect-flat": "declared flat difference",
    "expect-budget": "link budget",
}


@dataclass(frozen=True)
class Finding:
    """One disagreement, with everything needed to act on it."""

    rule: str
    subject: str  # the module, path or distribution the finding is about
    message: str
    concrete: str | None = None
    runtime: str | None = None
    wheels: tuple[str, ...] = ()
    case: str = ""
    interpreter: str = ""
    engine: str = ""

    def render(self) -> str:
        where = " ".join(x for x in (self.case, self.interpreter, self.engine) if x)
        head = f"[{self.rule} {RULES.get(self.rule, '')}] " + (f"{where}: " if where else "")
        lines = [f"{head}{self.subject}: {self.message}"]
        if self.concrete is not None:
            lines.append(f"    concrete: {self.concrete}")
        if self.runtime is not None:
            lines.append(f"    runtime:  {self.runtime}")
        if self.wheels:
            lines.append(f"    wheels:   {', '.join(self.wheels)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RuntimeModule:
    """One module as the venv's interpreter resolved (or imported) it."""

    name: str
    status: str  # found, not-found, error
    kind: str | None = None  # module, extension, package, namespace, builtin, frozen
    origin: str | None = None  # realpath of the origin file
    locations: tuple[str, ...] = ()  # realpaths of the search locations
    error: str | None = None  # "Type: message"


@dataclass(frozen=True)
class ConcreteModule:
    """One module as a static tool sees it by walking site-packages."""

    name: str
    kind: str  # package, namespace, module, extension
    path: str  # as seen, relative to site-packages
    realpath: str


@dataclass(frozen=True)
class Distribution:
    name: str  # normalized
    version: str
    path: str  # realpath of the dist-info


@dataclass(frozen=True)
class ScriptRun:
    """One `bin/<name>` console script resolved through its own code, the call left out."""

    name: str
    status: str  # resolved, error, unparsed (not Python / no final call), missing
    object: str | None = None  # what it would call, `module.qualname`
    object_file: str | None = None  # realpath of the code that object runs
    module: str | None = None  # the claimed entry point's module
    module_file: str | None = None  # realpath of that module as the script imported it
    error: str | None = None  # "Type: message"


@dataclass(frozen=True)
class CachedBytecode:
    """A `__pycache__/X.*.pyc` in a real directory of site-packages and the `X.py` beside it."""

    path: str  # site-packages relative
    source: str  # site-packages relative `.py` it is the cache of
    pyc_owners: tuple[str, ...]  # wheels shipping these bytes at this path (empty: none)
    source_owners: tuple[str, ...]  # wheels shipping the source's bytes (empty: none)
    header: str  # fresh, stale or unknown: the .pyc header against the source on disk


@dataclass(frozen=True)
class SharedPath:
    """A site-packages path two wheels ship differently, physically present in a real
    directory of the venv: a conflict some merge resolved, which the engine must report."""

    path: str  # site-packages relative
    wheels: tuple[str, ...]  # wheel order
    kind: str  # distinct (different bytes) or file_to_directory (a file in one, a dir in another)


@dataclass(frozen=True)
class Observation:
    """A venv reduced to plain values: what is on disk and what runtime does."""

    site_packages: str  # realpath
    concrete: Mapping[str, ConcreteModule]
    runtime: Mapping[str, RuntimeModule]  # resolve mode
    imported: Mapping[str, RuntimeModule]  # import mode, for the names a case marks
    sys_path: tuple[str, ...]  # realpaths of existing entries, in order
    distributions: tuple[Distribution, ...]
    # who owns each path the checks ask about, by RECORD content (harness.ownership), decided
    # while observing so that judging reads no file: every concrete and runtime path, each
    # dist-info's WHEEL, each script's reached code, each expected file's realpath
    owners: Mapping[str, Owner | None]
    fallback_roots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # entry -> labels
    symlink_counts: Mapping[str, int] = field(default_factory=dict)  # dir -> symlinks under it
    file_kinds: Mapping[str, str | None] = field(default_factory=dict)  # dir/file/symlink/None
    prefix_kinds: Mapping[str, str | None] = field(default_factory=dict)  # under the venv prefix
    prefix_owners: Mapping[str, str | None] = field(default_factory=dict)  # label of its data tree
    scripts: Mapping[str, bool] = field(default_factory=dict)  # bin/<name> exists, executable
    script_owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # whose entry point
    script_runs: Mapping[str, ScriptRun] = field(default_factory=dict)  # every script in bin/
    bytecode: tuple[CachedBytecode, ...] = ()  # in real directories of site-packages
    shared_paths: tuple[SharedPath, ...] = ()  # conflicts a merge resolved on disk
    file_realpaths: Mapping[str, str] = field(default_factory=dict)  # expected file -> realpath

    def owner_of(self, real: str | None) -> Owner | None:
        """The owner observing recorded for `real`; a path it did not record is a bug in
        observing (judging never reads the disk to make up for it)."""
        if real is None:
            return None
        try:
            return self.owners[real]
        except KeyError:
            raise LookupError(
                f"judging asked who owns {real}, which observing did not record"
            ) from None


# --------------------------------------------------------------------------- module names


def shipped_modules(facts: WheelFacts, extension_suffixes: Sequence[str]) -> set[str]:
    """Every dotted module or package name a wheel's files make importable in a flat install."""
    names: set[str] = set()
    suffixes = sorted(extension_suffixes, key=len, reverse=True)
    for path in facts.site_paths:
        parts = path.split("/")
        if parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        leaf = parts[-1]
        if leaf.endswith(".py"):
            stem = leaf[:-3]
        else:
            suffix = next((s for s in suffixes if leaf.endswith(s)), None)
            if suffix is None:
                continue
            stem = leaf[: -len(suffix)]
        dirs = parts[:-1]
        if not all(p.isidentifier() for p in dirs) or not stem.isidentifier():
            continue
        dotted = [*dirs, stem] if stem != "__init__" else dirs
        for depth in range(1, len(dotted) + 1):
            names.add(".".join(dotted[:depth]))
    return names


def _under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _owner_text(owner: Owner | None, path: str | None) -> str:
    if path is None:
        return "(none)"
    if owner is None:
        return f"{path} (no wheel ships these bytes)"
    return f"{owner.path or '.'} from {owner.label} ({path})"


def _matches_wheel(label: str, wanted: str, facts_by_label: Mapping[str, WheelFacts]) -> bool:
    """A case names a wheel by label or by distribution name."""
    if label == wanted:
        return True
    facts = facts_by_label.get(label)
    return facts is not None and facts.name == canonicalize_name(wanted)


def _owned_by(owner: Owner | None, wanted: str, facts_by_label: Mapping[str, WheelFacts]) -> bool:
    return owner is not None and any(
        _matches_wheel(label, wanted, facts_by_label) for label in owner.labels
    )


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
                concrete=f"{concrete.kind} {_owner_text(owner_c, concrete.realpath)} (seen as {concrete.path})",
                runtime=_runtime_text(rt, obs),
                wheels=wheels,
            )
        )
    return [
        f
        if not suppressed.get(f.subject)
        else _with_note(f, f"; {suppressed[f.subject]} submodule(s) below it disagree too")
        for f in findings
    ]


def _with_note(finding: Finding, note: str) -> Finding:
    return Finding(**{**finding.__dict__, "message": finding.message + note})


def _runtime_text(rt: RuntimeModule | None, obs: Observation) -> str:
    if rt is None:
        return "(not probed)"
    if rt.status != "found":
        return f"{rt.status}" + (f" ({rt.error})" if rt.error else "")
    if rt.kind == "namespace":
        return "namespace over " + ", ".join(_owner_text(obs.owner_of(p), p) for p in rt.locations)
    return f"{rt.kind} {_owner_text(obs.owner_of(rt.origin) if rt.origin else None, rt.origin)}"


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
            _under(name, [m.name for m in case.expect.modules if m.absent])
            or case.expect.declared_flat_difference(name)
        ):
            continue
        if _under(name, missing_roots):
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
                runtime=_runtime_text(rt, obs),
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
        and _under(name, [d.path.replace("/", ".")])
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
        if case.expect.declared_flat_difference(name) or _under(
            name, [f.subject for f in findings]
        ):
            continue
        findings.append(
            Finding(
                rule="A5",
                subject=name,
                message="differs from the flat install and the case does not declare it",
                concrete=f"flat: {_runtime_text(theirs, flat)}",
                runtime=f"this engine: {_runtime_text(mine, obs)}",
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
                    runtime=f"{run.object} in {_owner_text(owner, reached)}",
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


def check_premises(case: Case, wheels: Sequence[WheelFacts]) -> list[Finding]:
    findings = []
    facts_by_label = {w.label: w for w in wheels}
    for premise in case.premises:
        matching = [w for w in wheels if _matches_wheel(w.label, premise.wheel, facts_by_label)]
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
    findings = []
    facts_by_label = {w.label: w for w in wheels}
    for m in case.expect.modules:
        rt = obs.imported.get(m.name) or obs.runtime.get(m.name)
        if m.absent:
            if rt is not None and rt.status == "found":
                findings.append(
                    Finding(
                        "expect-module",
                        m.name,
                        f"expected absent ({m.explanation}), but runtime finds it",
                        runtime=_runtime_text(rt, obs),
                    )
                )
            continue
        owner = obs.owner_of(rt.origin) if rt and rt.origin else None
        if rt is None or rt.status != "found":
            findings.append(
                Finding(
                    "expect-module",
                    m.name,
                    f"expected from {m.owner} ({m.explanation}), but runtime cannot load it",
                    runtime=_runtime_text(rt, obs),
                )
            )
        elif rt.kind == "namespace":
            labels = {label for p in rt.locations if (o := obs.owner_of(p)) for label in o.labels}
            if not any(_matches_wheel(label, m.owner or "", facts_by_label) for label in labels):
                findings.append(
                    Finding(
                        "expect-module",
                        m.name,
                        f"expected a portion from {m.owner} ({m.explanation})",
                        runtime=_runtime_text(rt, obs),
                    )
                )
        elif not _owned_by(owner, m.owner or "", facts_by_label):
            findings.append(
                Finding(
                    "expect-module",
                    m.name,
                    f"expected from {m.owner} ({m.explanation})",
                    runtime=_runtime_text(rt, obs),
                )
            )

    for name in case.imports:
        rt = obs.imported.get(name)
        if rt is None or rt.status != "found":
            findings.append(
                Finding(
                    "import",
                    name,
                    "a real import of this module fails",
                    runtime=_runtime_text(rt, obs),
                )
            )

    for f in case.expect.files:
        real = obs.file_realpaths[f.path]
        owner = obs.owner_of(real)
        kind = obs.file_kinds.get(f.path)
        findings += _file_findings(
            "expect-file", "site-packages", f, kind, owner, real, facts_by_label
        )
    for f in case.expect.prefix_files:
        label = obs.prefix_owners.get(f.path)
        owner = Owner(tuple(label.split(" + ")), f.path) if label else None
        kind = obs.prefix_kinds.get(f.path)
        findings += _file_findings(
            "expect-prefix-file", "the venv prefix", f, kind, owner, f.path, facts_by_label
        )

    for cs in case.expect.console_scripts:
        runs = obs.script_owners.get(cs.name, ())
        if not obs.scripts.get(cs.name):
            findings.append(
                Finding(
                    "expect-console-script",
                    cs.name,
                    f"bin/{cs.name} is missing or not executable ({cs.explanation})",
                )
            )
        elif not any(_matches_wheel(label, cs.owner, facts_by_label) for label in runs):
            findings.append(
                Finding(
                    "expect-console-script",
                    cs.name,
                    f"expected bin/{cs.name} to run the entry point of {cs.owner} ({cs.explanation}); "
                    f"it runs the entry point of {', '.join(runs) or 'no wheel given'}",
                )
            )

    for md in case.expect.metadata:
        copies = [d for d in obs.distributions if d.name == canonicalize_name(md.name)]
        if len(copies) != 1 or (md.version and copies[0].version != md.version):
            findings.append(
                Finding(
                    "expect-metadata",
                    md.name,
                    f"expected one copy{' of version ' + md.version if md.version else ''} ({md.explanation})",
                    runtime="; ".join(f"{d.version} at {d.path}" for d in copies) or "(none)",
                )
            )

    recorded = {(c.kind, c.name) for c in plan.collisions} if plan else set()
    for c in case.expect.collisions:
        if (c.kind, c.name) not in recorded:
            findings.append(
                Finding(
                    "expect-collision",
                    c.name,
                    f"expected a recorded {c.kind} collision ({c.explanation}); recorded: {sorted(recorded) or 'none'}",
                )
            )

    on_path = {
        label
        for root, labels in obs.fallback_roots.items()
        if root in obs.sys_path
        for label in labels
    }
    for fb in case.expect.fallbacks:
        if not any(_matches_wheel(label, fb.wheel, facts_by_label) for label in on_path):
            findings.append(
                Finding(
                    "expect-fallback",
                    fb.wheel,
                    f"expected on the .pth fallback and on sys.path ({fb.explanation})",
                )
            )

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
    if f.owner and not _owned_by(owner, f.owner, facts_by_label):
        found.append(
            Finding(
                rule,
                f.path,
                f"expected from {f.owner} ({f.explanation})",
                concrete=_owner_text(owner, real),
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
