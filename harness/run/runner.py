"""Run cases × interpreters × engines, in parallel processes, and collect findings.

One unit of work is a (case, interpreter) pair: its wheels are prepared once, a `flat` venv is
built once as the oracle, then every engine asked for (the engine under test plus each variant
the case `detects`) gets its own venv, probe and checks. Units run in a process pool; install
trees are shared through the cache; each venv lives in a temporary directory removed
afterwards unless `keep` names a directory to keep them in.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness import judge
from harness.cases.case import Case
from harness.errors import HarnessError
from harness.judge import strict_layout
from harness.model import ENGINES, Interpreter, Plan, PreparedWheel, is_fault

if TYPE_CHECKING:
    from harness.run.pipeline import Reference

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Result:
    """The outcome of one case × interpreter × engine."""

    case: str
    interpreter: str  # "3.11.7"
    engine: str
    status: str  # pass, fail, skip, error, detected, undetected, refused, unexercised
    findings: tuple[judge.Finding, ...] = ()
    seconds: float = 0.0
    expected_to_fail: bool = False  # a `detects` variant: findings are the point
    blind_spots: tuple[str, ...] = ()  # modules runtime finds but static tools cannot see
    warnings: tuple[str, ...] = ()
    venv: str | None = None  # where the venv was kept, with --keep
    detail: str = ""
    refusal_accepted: bool = False  # status refused: the case declares the refusal
    flat_differences: int = 0  # names whose runtime verdict differs from flat, declared or not

    @property
    def ok(self) -> bool:
        if self.status == "refused":
            return self.refusal_accepted and not self.expected_to_fail
        return self.status in ("pass", "skip", "detected", "unexercised")


@dataclass(frozen=True)
class Unit:
    case: Case
    interpreter: Interpreter
    engines: tuple[str, ...]
    keep: str | None = None
    slow_ok: bool = False


@dataclass
class Progress:
    """A live progress line on a terminal; nothing when stderr is not one."""

    total: int
    done: int = 0
    failed: int = 0
    stream: object = field(default_factory=lambda: sys.stderr)

    def update(self, results: Sequence[Result]) -> None:
        self.done += 1
        self.failed += sum(not r.ok for r in results)
        if getattr(self.stream, "isatty", lambda: False)():
            last = results[0] if results else None
            label = f"{last.case} {last.interpreter}" if last else ""
            self.stream.write(
                f"\r[{self.done}/{self.total}] {self.failed} failing  {label[:60]:<60}"
            )  # type: ignore[attr-defined]
            self.stream.flush()  # type: ignore[attr-defined]
            if self.done == self.total:
                self.stream.write("\n")  # type: ignore[attr-defined]


def engines_for(case: Case, engine: str | Sequence[str]) -> tuple[str, ...]:
    """The engines under test, then each variant the case must be shown to detect."""
    engines = (engine,) if isinstance(engine, str) else tuple(engine)
    return (*engines, *(e for e in case.detects if e not in engines))


def shard(items: Sequence, spec: str | None) -> list:
    """Deterministic `K/N` split (1-based K): item i goes to shard i mod N."""
    if not spec:
        return list(items)
    try:
        k, n = (int(x) for x in spec.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError as exc:
        raise HarnessError(f"--shard must be K/N with 1 <= K <= N, got {spec!r}") from exc
    return [item for i, item in enumerate(items) if i % n == k - 1]


def run_units(
    units: Sequence[Unit],
    jobs: int = 1,
    on_result: Callable[[Sequence[Result]], None] | None = None,
) -> list[Result]:
    """Run units in `jobs` processes (1: in this process); results in a stable order."""
    results: dict[int, list[Result]] = {}
    if jobs <= 1 or len(units) <= 1:
        for i, unit in enumerate(units):
            results[i] = run_unit(unit)
            if on_result:
                on_result(results[i])
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_unit, unit): i for i, unit in enumerate(units)}
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                if on_result:
                    on_result(results[i])
    return [r for i in sorted(results) for r in results[i]]


def run_unit(unit: Unit) -> list[Result]:
    """One case on one interpreter: the flat oracle, then every engine; never raises."""
    case, interp = unit.case, unit.interpreter
    version = ".".join(map(str, interp.version))
    start = time.monotonic()
    if not case.supports(interp.version):
        why = f"the case supports Python {case.python}"
        return [
            Result(case.name, version, e, "skip", expected_to_fail=e in case.detects, detail=why)
            for e in unit.engines
        ]
    if case.slow and not unit.slow_ok:
        why = "slow case: set HARNESS_SLOW=1"
        return [
            Result(case.name, version, e, "skip", expected_to_fail=e in case.detects, detail=why)
            for e in unit.engines
        ]
    if unit.keep:
        # built in place: venv symlinks are relative, so a venv cannot be moved without its trees
        workdir = Path(unit.keep) / f"{case.name}-{interp.short_version}"
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix=f"harness-{case.name}-{interp.short_version}-"))
    try:
        results = _run_unit_in(unit, workdir)
    except HarnessError as exc:
        results = [
            Result(
                case.name, version, e, "error", seconds=time.monotonic() - start, detail=str(exc)
            )
            for e in unit.engines
        ]
    finally:
        if not unit.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return results if unit.keep else [_unnamed_workdir(r, workdir) for r in results]


def _unnamed_workdir(result: Result, workdir: Path) -> Result:
    """Name the removed temporary directory `<workdir>`, not by its random name, in reported
    text: a report names no deleted path, and two runs of a case give the same report."""
    prefixes = sorted({str(workdir), os.path.realpath(workdir)}, key=len, reverse=True)

    def fix(text: str | None) -> str | None:
        for prefix in prefixes:
            text = text.replace(prefix, "<workdir>") if text else text
        return text

    findings = tuple(
        replace(f, message=fix(f.message), concrete=fix(f.concrete), runtime=fix(f.runtime))
        for f in result.findings
    )
    warnings = tuple(fix(w) or "" for w in result.warnings)
    return replace(result, findings=findings, warnings=warnings, detail=fix(result.detail) or "")


def _run_unit_in(unit: Unit, workdir: Path) -> list[Result]:
    """Observe the flat oracle, then build, observe and judge each engine's venv.

    Every engine, the harness's own and an adapter's alike, is observed and judged from facts
    only (`harness.run.pipeline`); the harness's planner additionally has its plan
    invariants checked, and its plan lends findings its explanation.
    """
    from harness import supply
    from harness.run.pipeline import reference

    case, interp = unit.case, unit.interpreter
    version = ".".join(map(str, interp.version))
    prepared = supply.prepare([*case.support, *case.wheels], interp)
    ref = reference(prepared, interp, workdir / "oracle", case)
    premise_findings = judge.check_premises(case, ref.facts.wheels)
    support = {p.label for p in prepared[: len(case.support)]}
    results = []
    for engine in unit.engines:
        t0 = time.monotonic()
        expected_to_fail = engine in case.detects
        try:
            built = build_engine(engine, case.name, prepared, interp, workdir, support)
        except HarnessError as exc:  # this engine could not build; the others still run
            results.append(
                Result(
                    case.name,
                    version,
                    engine,
                    "error",
                    seconds=time.monotonic() - t0,
                    expected_to_fail=expected_to_fail,
                    detail=str(exc),
                )
            )
            continue
        if built.refusal is not None:
            results.append(
                _refused(case.name, version, engine, built.refusal, case, t0, expected_to_fail)
            )
            continue
        if not built.exercised:  # a fault variant whose venv would be merge's own
            status = "undetected" if expected_to_fail else "unexercised"
            results.append(
                Result(
                    case.name,
                    version,
                    engine,
                    status,
                    seconds=time.monotonic() - t0,
                    expected_to_fail=expected_to_fail,
                    detail=f"not exercised: {built.unexercised_because}",
                )
            )
            continue
        results.append(
            _judged(built, engine, ref, case, version, premise_findings, t0, bool(unit.keep))
        )
    return results


def _judged(
    built: Built,
    engine: str,
    ref: Reference,
    case: Case,
    version: str,
    premise_findings: Sequence[judge.Finding],
    t0: float,
    keep: bool,
) -> Result:
    """One built venv observed and judged against the reference; the harness's own engines
    also have their plan invariants checked."""
    from harness.run.pipeline import observe_and_judge

    strict = strict_layout(engine)
    # A8 judges the merge engine's duty to report the conflicts it resolved
    # (engine-contract.md §5.5): merge and its bug models; flat reports like pip, not so
    reports = built.warnings if built.own and strict else None
    obs, judged = observe_and_judge(
        built.venv,
        ref,
        case.for_engine(engine),
        python=built.python,
        explain=built.plan,
        reports=reports,
        strict_layout=strict,
    )
    findings = list(premise_findings)
    if built.plan is not None and engine in ENGINES:
        findings += _plan_findings(ref.facts.wheels, built.plan)
    findings += judged
    result = _result(case.name, version, engine, findings, t0, engine in case.detects)
    return replace(
        result,
        blind_spots=tuple(judge.static_blind_spots(obs, sorted(ref.names))),
        flat_differences=len(judge.differences_from_flat(obs, ref.flat, ref.names)),
        warnings=tuple(built.warnings),
        venv=str(built.venv) if keep else None,
    )


@dataclass(frozen=True)
class Built:
    """A venv some engine built (or its refusal), and what it said while building."""

    venv: Path | None
    python: Path | None = None
    plan: Plan | None = None  # the harness's own engines: their plan, for explanations
    warnings: tuple[str, ...] = ()
    refusal: str | None = None
    own: bool = False  # a harness engine: its warnings are its whole report (A8 reads them)
    unexercised_because: str = ""  # a fault that changes nothing here: why (nothing was built)

    @property
    def exercised(self) -> bool:
        return not self.unexercised_because


def build_engine(
    engine: str,
    case: str | None,
    prepared: Sequence[PreparedWheel],
    interp: Interpreter,
    workdir: Path,
    support: Collection[str] = (),
) -> Built:
    """Build one venv with a harness engine (in process), a fault variant of it (in process,
    `harness.engine.faults`) or an adapter (a subprocess)."""
    out = workdir / _dir_name(engine)
    if is_fault(engine):
        from harness.engine import faults
        from harness.errors import PlanError

        try:
            got = faults.build(engine, prepared, interp, out, policy="warning")
        except PlanError as exc:
            return Built(None, refusal=f"the planner refused: {exc}", own=True)
        if not got.exercised:
            return Built(None, own=True, unexercised_because=got.why)
        asm = got.assembly
        return Built(asm.venv.path, asm.venv.python, asm.plan, tuple(asm.warnings), own=True)
    if engine in ENGINES:
        from harness.engine.assemble import assemble
        from harness.errors import PlanError

        try:
            asm = assemble(prepared, interp, out, engine=engine, policy="warning")
        except PlanError as exc:
            return Built(None, refusal=f"the planner refused: {exc}")
        return Built(asm.venv.path, asm.venv.python, asm.plan, tuple(asm.warnings), own=True)
    from harness import adapters

    request = adapters.make_request(
        engine, case, interp, prepared, support, out, workdir / f"{_dir_name(engine)}-store"
    )
    outcome = adapters.build(engine, request)
    if outcome.status == "refused":
        return Built(None, refusal=outcome.message or "refused (no message)")
    warnings = list(outcome.warnings)
    wanted = tuple(p.label for p in prepared)
    if outcome.applied_order and tuple(outcome.applied_order) != wanted:
        warnings.append(
            f"{engine} installed the wheels in its own order: {', '.join(outcome.applied_order)}"
        )
    return Built(outcome.venv, outcome.python, None, tuple(warnings))


def _dir_name(engine: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in engine)[-60:]


def _refused(
    case: str,
    version: str,
    engine: str,
    message: str,
    declared: Case,
    t0: float,
    expected_to_fail: bool,
) -> Result:
    """A refusal is reported as such: accepted when the case declares it, else a failure."""
    accepted = declared.accepted_refusal(engine)
    detail = f"refused: {message.strip().splitlines()[0] if message.strip() else message}"
    findings: tuple[judge.Finding, ...] = ()
    if accepted is None:
        findings = (
            judge.Finding(
                "refused",
                "wheel set",
                f"the engine refused a wheel set the case does not expect it to refuse: {message}",
                case=case,
                interpreter=version,
                engine=engine,
            ),
        )
    else:
        detail += f" (accepted: {accepted.explanation})"
    status = "refused"
    if expected_to_fail:
        # A variant the case must catch: a refusal the case does not accept is caught (its
        # `refused` finding says so); one it accepts is not.
        status = "detected" if accepted is None else "undetected"
    return Result(
        case,
        version,
        engine,
        status,
        findings,
        time.monotonic() - t0,
        expected_to_fail,
        detail=detail,
        refusal_accepted=accepted is not None,
    )


def _plan_findings(facts, plan: Plan) -> list[judge.Finding]:
    from harness.engine.invariants import check_plan_invariants

    return [
        judge.Finding("plan", "plan", violation) for violation in check_plan_invariants(facts, plan)
    ]


def _result(
    case: str, version: str, engine: str, findings, t0: float, expected_to_fail: bool
) -> Result:
    findings = tuple(replace(f, case=case, interpreter=version, engine=engine) for f in findings)
    if expected_to_fail:
        status = "detected" if findings else "undetected"
    else:
        status = "fail" if findings else "pass"
    detail = (
        "" if status != "undetected" else f"the case passes under {engine}, which it must detect"
    )
    return Result(
        case,
        version,
        engine,
        status,
        findings,
        time.monotonic() - t0,
        expected_to_fail,
        detail=detail,
    )
