"""Fault variants: the merge engine with one real-world bug planted, run as `fault:NAME`.

Each fault is one paragraph of engine history (the upstream bug it reproduces in rules_py's
engine, or the shape of another engine such as pex) and one small, explicit deviation from the
`merge` engine. The corpus must fail under every fault: `harness faults` runs them all and
prints which case catches which fault with which rule, and a case may list the faults it
detects (`detects = ["fault:console-first-wins"]`). What a user runs against their own engine is
the corpus, so the corpus, not the engine's unit tests, is what must catch the bugs engines make.

A deviation is one of (see `Fault`):

- `swaps`: one named function of the planner (`harness.engine.plan`) is replaced, for the
  duration of one planning call, by a wrapper around the original, in every planner module that
  binds it. The planner's own code is untouched: the bug is the replacement, written out here;
- `facts`: the planner is shown different wheel facts (what the engine fails to see);
- `plan`: the planner's result is transformed before it is written;
- `venv`: the written venv is changed afterwards (what a buggy materializer or merge would have
  left on disk), answering whether it changed anything;
- `report`: what the engine says while building is filtered.

A fault that changes nothing for a wheel set (same layout as `merge`, nothing changed on disk
or in the report) is *not exercised* there: the runner reports it as such rather than as a
pass, since its venv would be `merge`'s. Faults are judged like every other engine, from the
venv alone (A1-A8 and the case's expectations); the plan invariants are not run on them, so a
fault counts as detected only where the corpus itself catches it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.engine import plan as planner
from harness.engine.assemble import Assembly, write_planned
from harness.engine.materialize import Venv
from harness.engine.policy import enforce_policy
from harness.engine.rules import Rule
from harness.errors import HarnessError, PlanError
from harness.facts import is_metadata, split_dist_info
from harness.model import (
    FAULT_PREFIX,
    Decision,
    Fallback,
    Interpreter,
    MergeGroup,
    Outcome,
    Plan,
    PreparedWheel,
    WheelFacts,
    is_fault,
)

PlanStep = Callable[[Plan, Sequence[WheelFacts]], Plan]
VenvStep = Callable[[Plan, Mapping[str, PreparedWheel], Venv, Interpreter], bool]
ReportStep = Callable[[Sequence[str], Venv], list[str]]
Touches = Callable[[Plan, Sequence[WheelFacts]], bool]


@dataclass(frozen=True)
class Fault:
    """One planted bug: its story, how it deviates from `merge`, and the deviation itself."""

    name: str
    paragraph: str  # the bug, where it comes from, what goes wrong at runtime
    deviation: str  # one line: how it is planted here
    swaps: Mapping[str, Callable[[Callable], Callable]] = field(default_factory=dict)
    facts: Callable[[WheelFacts], WheelFacts] | None = None
    plan: PlanStep | None = None
    venv: VenvStep | None = None
    report: ReportStep | None = None
    touches: Touches | None = None  # can `venv`/`report` change anything here (cheap guess)

    @property
    def engine(self) -> str:
        return FAULT_PREFIX + self.name


@dataclass(frozen=True)
class FaultBuild:
    """What building a fault gave: the venv (None when not built) and whether the fault
    changed anything against `merge` for this wheel set."""

    assembly: Assembly | None
    exercised: bool
    why: str = ""


# --------------------------------------------------------------------------- planner swaps

_SWAP_LOCK = threading.Lock()


@contextlib.contextmanager
def _swapped(swaps: Mapping[str, Callable[[Callable], Callable]]) -> Iterator[None]:
    """Replace planner functions by name for one planning call, then put the originals back.

    The planner is several modules (`harness.engine.plan` and its `STEP_MODULES`); a function is
    replaced in each module that binds it, so every caller sees the wrapper.
    """
    if not swaps:
        yield
        return
    modules = (planner, *planner.STEP_MODULES)
    with _SWAP_LOCK:
        patched: list[tuple[object, str, Callable]] = []
        try:
            for name, wrap in swaps.items():
                original = getattr(planner, name)  # AttributeError: the planner renamed it
                replacement = wrap(original)
                for module in modules:
                    if getattr(module, name, None) is original:
                        patched.append((module, name, original))
                        setattr(module, name, replacement)
            yield
        finally:
            for module, name, original in reversed(patched):
                setattr(module, name, original)


def _graft_wins_native(original: Callable) -> Callable:
    def resolve_directory_collision(state, tl, claims):
        if state.engine == "merge" and any(c.is_native for c in claims):
            chain = [c.label for c in claims]
            # the bug: the last claimant wins, a namespace-only graft included
            planner._project_winner(state, tl, chain, chain[-1], Rule.NATIVE_LAST_REGULAR)
            return
        original(state, tl, claims)

    return resolve_directory_collision


def _metadata_chains(state) -> dict[str, list[str]]:
    chains: dict[str, list[str]] = {}
    for w in state.wheels:
        for key in planner._metadata_keys(w):
            chains.setdefault(key, []).append(w.label)
    return {key: list(dict.fromkeys(labels)) for key, labels in chains.items()}


def _many_accepted(original: Callable) -> Callable:
    def resolve_metadata(state, fully_covered):
        # the bug: two or more copies left on fallback are not an error; the rule is shown
        # only the first of them, so it lets that one "own discovery" and the others stay too
        pretend = set(fully_covered)
        for labels in _metadata_chains(state).values():
            pretend.update([label for label in labels if label not in fully_covered][1:])
        return original(state, pretend)

    return resolve_metadata


def _counts_claimants(original: Callable) -> Callable:
    def resolve_metadata(state, fully_covered):
        # the bug: every claimant of a distribution counts as a copy, covered or not
        shared = {
            label
            for labels in _metadata_chains(state).values()
            if len(labels) > 1
            for label in labels
        }
        return original(state, set(fully_covered) - shared)

    return resolve_metadata


def _no_suppression(original: Callable) -> Callable:
    def duplicate_metadata_losers(wheels):
        return set()  # the bug: no duplicate-metadata loser is ever suppressed

    return duplicate_metadata_losers


def _collapse_shared(original: Callable) -> Callable:
    def collapse_entries(entry_projection, claims, exclude):
        # the bug: a namespace directory collapses to one link even when several wheels own
        # files below it (the last one wins it whole)
        if not entry_projection:
            return {}
        kept = {a for entry in entry_projection for a in planner.ancestors(entry)}
        owners: dict[str, list[str]] = {}
        for c in claims:
            for d in c.ns_dirs:
                owners.setdefault(d, []).append(c.label)
        candidates = [d for d in owners if d in kept and not planner.contains_any(d, exclude)]
        return {d: owners[d][-1] for d in planner.shallowest(candidates)}

    return collapse_entries


def _no_supersede(original: Callable) -> Callable:
    def supersede(ordered, state):
        return set()  # the bug: an earlier version of a distribution stays in

    return supersede


def _key_by_directory(original: Callable) -> Callable:
    def distribution_key(metadata_dir):
        return metadata_dir  # the bug: metadata deduplicated by dist-info directory name

    return distribution_key


# --------------------------------------------------------------------------- plan steps


def _active(base: Plan, wheels: Sequence[WheelFacts]) -> list[WheelFacts]:
    seen: dict[str, WheelFacts] = {}
    for f in wheels:
        seen.setdefault(f.label, f)
    return [f for f in seen.values() if f.label not in set(base.superseded)]


def _sorted_decisions(decisions) -> tuple[Decision, ...]:
    rank = {group: i for i, group in enumerate(planner.DECISION_GROUPS)}
    return tuple(
        sorted(
            decisions,
            key=lambda d: (rank[planner.RULE_GROUPS[d.rule]], d.path, d.rule, d.claimants),
        )
    )


def _first_wins_whole_tree(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """pex's symlinked venv: each top-level is one whole link, the first claimant's; a wheel
    any of whose top-levels is taken goes whole, code and dist-info, to a fallback entry."""
    taken: dict[str, str] = {}
    projections: dict[str, str] = {}
    fallbacks: list[Fallback] = []
    decisions = [
        d for d in base.decisions if planner.RULE_GROUPS[d.rule] in ("console scripts", "data")
    ]
    covered = []
    for f in _active(base, wheels):
        clash = [tl for tl in f.top_levels if tl in taken]
        if clash or not f.layout_known:
            fallbacks.append(Fallback(f.label, addsitedir=not f.layout_known))
            why = ", ".join(f"`{tl}` (taken by {taken[tl]})" for tl in clash) or "layout unknown"
            decisions.append(
                Decision(
                    f.label,
                    Rule.PTH_FALLBACK,
                    (f.label,),
                    Outcome.FALLBACK,
                    f.label,
                    f"fault: whole wheel to fallback: {why}",
                )
            )
            continue
        covered.append(f.label)
        for tl in f.top_levels:
            taken[tl] = projections[tl] = f.label
            decisions.append(
                Decision(
                    tl,
                    Rule.SINGLE_CLAIMANT,
                    (f.label,),
                    Outcome.PROJECT,
                    f.label,
                    "fault: first claimant, whole",
                )
            )
    owners: dict[str, str] = {}
    for label in [*covered, *(fb.label for fb in fallbacks)]:
        f = next(w for w in wheels if w.label == label)
        for m in f.metadata_top_levels or ((f.dist_info,) if f.dist_info else ()):
            owners.setdefault(split_dist_info(m)[0], label)
    return replace(
        base,
        projections=tuple(sorted(projections.items())),
        merges=(),
        fallbacks=tuple(fallbacks),
        metadata_owners=tuple(sorted(owners.items())),
        collisions=tuple(c for c in base.collisions if c.kind in ("console script", "data file")),
        decisions=_sorted_decisions(decisions),
        fully_covered=tuple(covered),
    )


def _zero_hidden(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """0 copies on fallback, and still nothing projected."""
    return replace(
        base, projections=tuple((p, o) for p, o in base.projections if not is_metadata(p))
    )


def _one_doubled(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """1 copy on fallback, and the winner's dist-info projected as well."""
    by_label = {f.label: f for f in wheels}
    projections = dict(base.projections)
    for d in base.decisions:
        if d.rule != "metadata-fallback-owner":
            continue
        key = split_dist_info(d.path)[0]
        winner = by_label[d.claimants[-1]]
        for m in winner.metadata_top_levels:
            if split_dist_info(m)[0] == key:
                projections.setdefault(m, winner.label)
    return replace(base, projections=tuple(sorted(projections.items())))


def _console_first_wins(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    first: dict[str, tuple[str, str, str]] = {}
    for f in _active(base, wheels):
        for cs in f.console_scripts:
            first.setdefault(cs.name, (f.label, cs.module, cs.attr))
    scripts = tuple(sorted((name, *first[name]) for name, *_ in base.console_scripts))
    decisions = [
        replace(
            d,
            winner=first[d.path][0],
            detail=f"{first[d.path][1]}:{first[d.path][2]} (fault: first wins)",
        )
        if d.rule == "console-script-last-wins"
        else d
        for d in base.decisions
    ]
    return replace(base, console_scripts=scripts, decisions=tuple(decisions))


def _fallbacks_reversed(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    return replace(base, fallbacks=tuple(reversed(base.fallbacks)))


def _partly_covered_dropped(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    """A wheel that owns some projection or merge is taken as covered: its fallback line goes."""
    partly = {o for p, o in base.projections if not is_metadata(p)}
    partly |= {label for group in base.merges for label in group.contributors}
    return replace(base, fallbacks=tuple(f for f in base.fallbacks if f.label not in partly))


def _addsitedir_known(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    return replace(
        base, fallbacks=tuple(Fallback(f.label, addsitedir=True) for f in base.fallbacks)
    )


def _merge_reversed(base: Plan, wheels: Sequence[WheelFacts]) -> Plan:
    return replace(
        base, merges=tuple(MergeGroup(g.root, tuple(reversed(g.contributors))) for g in base.merges)
    )


# --------------------------------------------------------------------------- venv steps


def _cache_tag(interp: Interpreter) -> str:
    return f"cpython-{interp.version[0]}{interp.version[1]}"


def _keep_stale_bytecode(
    plan: Plan, prepared: Mapping[str, PreparedWheel], venv: Venv, interp: Interpreter
) -> bool:
    """The merge never deletes the bytecode of a source a later contributor overwrote: every
    contributor's `__pycache__` file (shipped in its RECORD, or compiled for this interpreter)
    that the merge left out is put back where the overlay would have left it."""
    site = Path(os.path.realpath(venv.site_packages))
    tag = _cache_tag(interp)
    changed = False
    for group in plan.merges:
        into = site / group.root
        restored: dict[Path, Path] = {}
        for label in group.contributors:
            wheel = prepared[label]
            shipped = set(wheel.facts.site_paths)
            root = wheel.tree.site_packages / group.root
            for pyc in sorted(root.rglob("__pycache__/*.pyc")):
                rel = pyc.relative_to(wheel.tree.site_packages).as_posix()
                if rel in shipped or f".{tag}." in pyc.name:
                    restored[into / pyc.relative_to(root)] = pyc  # a later one overlays it
        for dest, source in sorted(restored.items()):
            if os.path.lexists(dest) or not dest.parent.is_dir() or dest.parent.is_symlink():
                continue
            shutil.copy2(source, dest)
            changed = True
    return changed


def _bytecode_may_go_stale(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return bool(plan.merges)


def _data_in_site_packages(
    plan: Plan, prepared: Mapping[str, PreparedWheel], venv: Venv, interp: Interpreter
) -> bool:
    """`.data/data` files linked under site-packages instead of the venv prefix."""
    prefix = Path(os.path.realpath(venv.path))
    site = Path(os.path.realpath(venv.site_packages))
    changed = False
    for path, _label in plan.data_projections:
        link = prefix / path
        moved = site / path
        if not link.is_symlink() or os.path.lexists(moved):
            continue
        target = Path(os.path.realpath(link))
        link.unlink()
        moved.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(target, moved.parent), moved)
        changed = True
    return changed


def _has_data(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return bool(plan.data_projections)


def naive_wrapper(name: str, module: str, attr: str) -> str:
    """A console-script wrapper that takes a dotted attribute path as one attribute name."""
    return (
        "#!/bin/sh\n"
        '\'\'\'exec\' "$(dirname -- "$0")/python" "$0" "$@"\n'
        "' '''\n"
        f"# console script {name} -> {module}:{attr}, written by harness (fault)\n"
        "import importlib\n"
        "import sys\n"
        "\n"
        f"sys.argv[0] = {name!r}\n"
        f"target = getattr(importlib.import_module({module!r}), {attr!r})\n"
        "sys.exit(target())\n"
    )


def _dotted_unresolved(
    plan: Plan, prepared: Mapping[str, PreparedWheel], venv: Venv, interp: Interpreter
) -> bool:
    changed = False
    for name, _label, module, attr in plan.console_scripts:
        if "." in attr:
            (Path(venv.path) / "bin" / name).write_text(naive_wrapper(name, module, attr))
            changed = True
    return changed


def _has_dotted_script(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return any("." in attr for _name, _label, _module, attr in plan.console_scripts)


def _drop_conflict_reports(warnings: Sequence[str], venv: Venv) -> list[str]:
    conflicts = {c.describe(venv.site_packages) for c in venv.merge_conflicts}
    return [w for w in warnings if w not in conflicts]


def _has_merges(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return bool(plan.merges)


# --------------------------------------------------------------------------- the registry

FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault(
            "first-wins-whole-tree",
            "pex's symlinked `--venv` layout (external-engines.md): every top-level is one whole "
            "symlink to its first claimant, and a distribution any of whose top-levels is already "
            "taken goes whole, code and dist-info, to a fallback entry; nothing is merged and no "
            "collision is recorded. A later wheel's regular package never reaches the concrete "
            "tree, the namespace graft of the first claimant hides the regular package bound at "
            "runtime (the seed bug), and modules of merged-in-flat packages vanish.",
            "plan: rebuilt from the wheels' top-levels, first claimant wins whole",
            plan=_first_wins_whole_tree,
        ),
        Fault(
            "graft-wins-native",
            "Before rules_py #1205 settled it, a directory collision holding native code projected "
            "its last claimant whole even when that claimant is a namespace-only graft (protobuf's "
            "`google/`) and an earlier wheel ships the regular package (google 1.9.3's "
            "`google/__init__.py`): the concrete tree shows the graft while runtime binds the "
            "regular package from the fallback, the seed bug (invariant 13).",
            "swap plan._resolve_directory_collision: native branch projects the last claimant",
            swaps={"_resolve_directory_collision": _graft_wins_native},
        ),
        Fault(
            "native-merged",
            "An engine that does not recognise native code (`.so`, `.pyd`, `.so.1`) merges a "
            "directory holding it physically, copying the extension out of its wheel: "
            "origin-relative lookups (`$ORIGIN` rpaths, `__file__`-relative data) then see the "
            "merged directory instead of the wheel's own files, and a regular package meant to "
            "win whole (google 1.9.3 over protobuf's graft, a native root spanning namespace "
            "wheels) is overlaid with the others' files (rules_py #1205, invariant 12).",
            "facts: the planner is shown no native roots",
            facts=lambda f: replace(f, native_roots=()),
        ),
        Fault(
            "metadata-zero-hidden",
            "The 0/1/many metadata rule applied wrong at 0: no copy of a distribution is left on "
            "fallback, yet the winner's dist-info is not projected either, so "
            "`importlib.metadata` finds no copy at all (entry points, `version()` and plugin "
            "discovery fail).",
            "plan: dist-info projections removed",
            plan=_zero_hidden,
        ),
        Fault(
            "metadata-one-doubled",
            "The 0/1/many rule applied wrong at 1: one copy stays on fallback and the winner's "
            "dist-info is projected as well, so `importlib.metadata` scans two copies, which is "
            "what rules_py #1191 fixed (a wheel on fallback also had its dist-info projected).",
            "plan: the winner's dist-info projected where one copy is on fallback",
            plan=_one_doubled,
        ),
        Fault(
            "metadata-many-accepted",
            "The 0/1/many rule applied wrong at many: two or more copies of one distribution left "
            "on whole-wheel fallback are accepted instead of refused, so several dist-info copies "
            "stay visible and `importlib.metadata` may describe code that is not the one imported "
            "(rules_py PR #1215's multi-fallback case).",
            "swap plan._resolve_metadata: only the first fallback copy is counted",
            swaps={"_resolve_metadata": _many_accepted},
        ),
        Fault(
            "metadata-counts-claimants",
            "The 0/1/many rule counted before the collision outcome: every claimant of a "
            "distribution's metadata is a copy, even one the native branch suppressed, so two "
            "builds of one distribution (pydantic_core from two lock universes, rules_py PR "
            "#1215) or a file top-level shipped twice hard-fail instead of leaving one copy.",
            "swap plan._resolve_metadata: claimants of a shared distribution count as fallback copies",
            swaps={"_resolve_metadata": _counts_claimants},
        ),
        Fault(
            "dup-metadata-not-suppressed",
            "rules_py #1205/#1283: in a native collision the loser of the metadata chain must be "
            "suppressed (covered, not on fallback); without that, the earlier build of a "
            "distribution stays on whole-wheel fallback next to the winner, and its dist-info, "
            "not the winner's, is the copy discovery finds.",
            "swap plan._duplicate_metadata_losers: no loser is ever suppressed",
            swaps={"_duplicate_metadata_losers": _no_suppression},
        ),
        Fault(
            "two-versions-both-visible",
            "rules_py deduplicates metadata by dist-info directory name, so two versions of one "
            "distribution (`protobuf-5.29.5.dist-info`, `protobuf-6.33.5.dist-info`) both stay "
            "visible and the code becomes a mix of both versions; our contract supersedes the "
            "earlier version entirely.",
            "swap plan._supersede (nothing superseded) and plan.distribution_key (directory name)",
            swaps={"_supersede": _no_supersede, "distribution_key": _key_by_directory},
        ),
        Fault(
            "console-first-wins",
            "rules_py #1154: the 2.x assembler picked the first claimant of a console script "
            'name, reversing 1.11\'s "last command wins"; `bin/<name>` then runs the entry point '
            "of the earlier wheel while a flat install (and the contract) runs the later one's.",
            "plan: each console script goes to its first claimant",
            plan=_console_first_wins,
        ),
        Fault(
            "namespace-collapse-shared",
            "rules_py #1405 collapses namespace entries to the shallowest single-owner directory; "
            "counting owners wrong links a directory several wheels share to one of them whole "
            "(`nvidia/cu13`, `google/cloud`), so every other wheel's files below it vanish from "
            "the concrete tree and, without a fallback line, from runtime.",
            "swap plan._collapse_entries: a shared namespace directory collapses to its last owner",
            swaps={"_collapse_entries": _collapse_shared},
        ),
        Fault(
            "fallback-reversed",
            "rules_py #815: the engine `.pth` lines must keep wheel order; written in reverse, an "
            "earlier fallback wheel shadows a later one for every name both ship, reversing "
            '"later wins" exactly where the engine did not project.',
            "plan: fallback lines in reverse wheel order",
            plan=_fallbacks_reversed,
        ),
        Fault(
            "partly-covered-dropped",
            "rules_py #1285/#1383: a wheel covered on one top-level but routed to fallback on "
            "another (or a regular collision loser an `extend_path` winner grafts from) must keep "
            "its fallback line; dropping it because some of it is projected loses the rest.",
            "plan: wheels owning any projection or merge lose their fallback line",
            plan=_partly_covered_dropped,
        ),
        Fault(
            "addsitedir-known",
            "rules_py #1138: known-layout fallbacks written as `site.addsitedir` lines run the "
            "wheel's root `.pth` files a second time (they are already projected into "
            "site-packages), so their path lines add entries twice and their import lines run "
            "twice; only unknown layouts may use `addsitedir`.",
            "plan: every fallback is an addsitedir line",
            plan=_addsitedir_known,
        ),
        Fault(
            "merge-reversed",
            "The merge overlays contributors in reverse wheel order (rules_py's "
            "`site_merge_order_test` guards it): the earlier wheel's file wins every shared path "
            "of a physically merged directory, unlike a flat install.",
            "plan: merge contributors reversed",
            plan=_merge_reversed,
        ),
        Fault(
            "stale-bytecode-kept",
            "rules_py #1410: when a later wheel overlays `mod.py` with other bytes, the "
            "`__pycache__/mod.*.pyc` an earlier wheel brought into the merged directory must go; "
            "kept, it is bytecode of a source that is no longer there (and an unchecked-hash or "
            "matching-timestamp pyc is loaded as is).",
            "venv: every contributor's bytecode the merge removed is put back",
            venv=_keep_stale_bytecode,
            touches=_bytecode_may_go_stale,
        ),
        Fault(
            "conflicts-unreported",
            "rules_py #1205's merge reports every shared path two contributors ship differently; "
            "an engine that overlays silently hides from its user that one wheel's file replaced "
            "another's (reference invariant 15).",
            "report: merge-conflict messages dropped",
            report=_drop_conflict_reports,
            touches=_has_merges,
        ),
        Fault(
            "data-in-site-packages",
            "rules_py #1366: PEP 427 `.data/data` files belong under the venv prefix "
            "(`sys.prefix/share/jupyter/...`); linked under site-packages instead, nothing that "
            "looks under the prefix finds them.",
            "venv: data projections moved under site-packages",
            venv=_data_in_site_packages,
            touches=_has_data,
        ),
        Fault(
            "console-dotted-unresolved",
            "A console-script wrapper that takes the attribute path of `pkg.mod:obj.attr` as one "
            "name (`getattr(module, 'obj.attr')`) cannot start a tool whose entry point is an "
            "attribute of an object (`invoke = invoke.main:program.run`); rules_py's "
            "`venv-bin-scripts-423` test guards it.",
            "venv: wrappers of dotted entry points rewritten with one getattr",
            venv=_dotted_unresolved,
            touches=_has_dotted_script,
        ),
    )
}


# --------------------------------------------------------------------------- running


def fault_named(engine: str) -> Fault:
    """The fault behind `fault:NAME` (or `NAME`); a HarnessError naming the known ones."""
    name = engine.removeprefix(FAULT_PREFIX)
    try:
        return FAULTS[name]
    except KeyError:
        raise HarnessError(
            f"unknown fault {name!r}; known: {', '.join(FAULTS)} (run as fault:NAME)"
        ) from None


def fault_plan(engine: str, wheels: Sequence[WheelFacts]) -> Plan:
    """The plan of `fault:NAME` for `wheels` (PlanError where its planner refuses)."""
    fault = fault_named(engine)
    shown = [fault.facts(f) for f in wheels] if fault.facts else list(wheels)
    with _swapped(fault.swaps):
        result = planner.plan(shown, "merge")
    if fault.plan is not None:
        result = fault.plan(result, list(wheels))
    return replace(result, engine=fault.engine)


def _layout(p: Plan) -> tuple:
    return (
        p.projections,
        p.merges,
        p.fallbacks,
        p.console_scripts,
        p.data_projections,
        p.superseded,
    )


def build(
    engine: str,
    prepared: Sequence[PreparedWheel],
    interpreter: Interpreter,
    out: Path,
    *,
    policy: str = "warning",
    replace_out: bool = False,
    always: bool = False,
) -> FaultBuild:
    """Plan and write `fault:NAME`'s venv at `out`, unless it would be `merge`'s own (with
    `always`, write it anyway: `exercised` still says whether it differs).

    Raises PlanError when the fault's planner refuses and `merge`'s does not (a refusal is
    the fault's visible outcome); when both refuse alike, the fault is not exercised.
    """
    fault = fault_named(engine)
    wheels = [p.facts for p in prepared]
    try:
        base: Plan | None = planner.plan(wheels, "merge")
    except PlanError:
        base = None
    try:
        the_plan = fault_plan(engine, wheels)
    except PlanError:
        if base is None:
            return FaultBuild(None, False, "merge's planner refuses this wheel set as well")
        raise
    differs = base is None or _layout(the_plan) != _layout(base)
    may_touch = fault.touches is not None and fault.touches(the_plan, wheels)
    if not differs and not may_touch and not always:
        return FaultBuild(None, False, "the fault changes nothing in this wheel set's venv")
    warnings = list(enforce_policy(the_plan, policy))
    venv, said = write_planned(the_plan, prepared, interpreter, Path(out), policy, replace_out)
    warnings += said
    changed = False
    if fault.venv is not None:
        changed = fault.venv(the_plan, {p.label: p for p in prepared}, venv, interpreter)
    if fault.report is not None:
        said = fault.report(warnings, venv)
        changed = changed or said != warnings
        warnings = said
    assembly = Assembly(plan=the_plan, venv=venv, warnings=tuple(warnings))
    if not differs and not changed:
        return FaultBuild(assembly, False, "the fault changed nothing in this wheel set's venv")
    return FaultBuild(assembly, True)


__all__ = [
    "FAULTS",
    "FAULT_PREFIX",
    "Fault",
    "FaultBuild",
    "build",
    "fault_named",
    "fault_plan",
    "is_fault",
    "naive_wrapper",
]
