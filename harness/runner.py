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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness import check
from harness.cases import Case
from harness.errors import HarnessError
from harness.expectations import CaseSpec, parse_spec
from harness.model import Interpreter, Plan, PreparedWheel

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Result:
    """The outcome of one case × interpreter × engine."""

    case: str
    interpreter: str  # "3.11.7"
    engine: str
    status: str  # pass, fail, skip, error, detected, undetected
    findings: tuple[check.Finding, ...] = ()
    seconds: float = 0.0
    expected_to_fail: bool = False  # a `detects` variant: findings are the point
    blind_spots: tuple[str, ...] = ()  # modules runtime finds but static tools cannot see
    warnings: tuple[str, ...] = ()
    venv: str | None = None  # where the venv was kept, with --keep
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "skip", "detected")


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


def engines_for(spec: CaseSpec, engine: str) -> tuple[str, ...]:
    """The engine under test, then each variant the case must be shown to detect."""
    return (engine, *(e for e in spec.detects if e != engine))


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
            futures = {
                pool.submit(_run_unit_at, str(unit.case.path), replace(unit, case=None)): i
                for i, unit in enumerate(units)
            }
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                if on_result:
                    on_result(results[i])
    return [r for i in sorted(results) for r in results[i]]


def _run_unit_at(case_path: str, unit: Unit) -> list[Result]:
    """Process-pool entry: a Case holds a read-only view that cannot be pickled, so the
    worker reads the case file again."""
    from harness.cases import load_case

    return run_unit(replace(unit, case=load_case(case_path)))


def run_unit(unit: Unit) -> list[Result]:
    """One case on one interpreter: the flat oracle, then every engine; never raises."""
    case, interp = unit.case, unit.interpreter
    version = ".".join(map(str, interp.version))
    start = time.monotonic()
    try:
        spec = parse_spec(case.path, case.raw)
    except HarnessError as exc:
        return [Result(case.name, version, e, "error", detail=str(exc)) for e in unit.engines]
    if not spec.supports(interp.version):
        why = f"the case supports Python {spec.python}"
        return [
            Result(case.name, version, e, "skip", expected_to_fail=e in spec.detects, detail=why)
            for e in unit.engines
        ]
    if case.raw.get("slow") and not unit.slow_ok:
        why = "slow case: set HARNESS_SLOW=1"
        return [
            Result(case.name, version, e, "skip", expected_to_fail=e in spec.detects, detail=why)
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
        results = _run_unit_in(unit, spec, workdir)
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


def _run_unit_in(unit: Unit, spec: CaseSpec, workdir: Path) -> list[Result]:
    from harness import supply
    from harness.engine.assemble import assemble
    from harness.errors import PlanError

    case, interp = unit.case, unit.interpreter
    version = ".".join(map(str, interp.version))
    prepared = supply.prepare([*case.support, *case.wheels], interp)
    facts = [p.facts for p in prepared]
    premise_findings = check.check_premises(spec, facts)
    suffixes = extension_suffixes(interp)
    shipped = {p.label: check.shipped_modules(p.facts, suffixes) for p in prepared}

    names = set().union(*shipped.values()) | {m.name for m in spec.modules} | set(spec.imports)
    flat = assemble(prepared, interp, workdir / "flat", engine="flat", policy="ignore")
    results = []
    for engine in unit.engines:
        t0 = time.monotonic()
        expected_to_fail = engine in spec.detects
        try:
            assembly = assemble(prepared, interp, workdir / engine, engine=engine, policy="warning")
        except PlanError as exc:
            finding = check.Finding("plan", "plan", f"the planner refused: {exc}")
            results.append(_result(case.name, version, engine, [finding], t0, expected_to_fail))
            continue
        obs, flat_obs, blind = observe_pair(assembly, flat, prepared, names, spec, suffixes)
        findings = list(premise_findings)
        findings += _plan_findings(facts, assembly.plan)
        findings += check.check_a1(obs)
        findings += check.check_a2(obs, flat_obs, shipped, assembly.plan, spec)
        findings += check.check_a3(obs, facts, assembly.plan)
        findings += check.check_a4(obs)
        findings += check.check_a5(
            obs, flat_obs, names | set(obs.concrete) | set(flat_obs.concrete), spec
        )
        findings += check.check_expectations(obs, spec, assembly.plan, facts)
        result = _result(case.name, version, engine, findings, t0, expected_to_fail)
        results.append(
            replace(
                result,
                blind_spots=tuple(blind),
                warnings=tuple(assembly.warnings),
                venv=str(Path(unit.keep) / f"{case.name}-{interp.short_version}" / engine)
                if unit.keep
                else None,
            )
        )
    return results


def _plan_findings(facts, plan: Plan) -> list[check.Finding]:
    from harness.engine.invariants import check_plan_invariants

    return [
        check.Finding("plan", "plan", violation) for violation in check_plan_invariants(facts, plan)
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


# --------------------------------------------------------------------------- observation


_SUFFIXES: dict[str, tuple[str, ...]] = {}


def extension_suffixes(interp: Interpreter) -> tuple[str, ...]:
    """The target's extension-module suffixes, asked once per interpreter."""
    if interp.executable not in _SUFFIXES:
        from harness.runtime import run_probe

        report = run_probe(Path(interp.executable), distributions=False)
        _SUFFIXES[interp.executable] = tuple(report.interpreter.extension_suffixes)
    return _SUFFIXES[interp.executable]


def observe_pair(
    assembly,
    flat,
    prepared: Sequence[PreparedWheel],
    names: set[str],
    spec: CaseSpec,
    suffixes: Sequence[str],
):
    """Probe the engine's venv and the flat oracle for the same names."""
    from harness.concrete import concrete_view

    trees = {p.label: str(p.tree.site_packages) for p in prepared}
    views = {
        key: concrete_view(asm.venv.site_packages, extension_suffixes=suffixes)
        for key, asm in (("engine", assembly), ("flat", flat))
    }
    all_names = names | set(views["engine"].names) | set(views["flat"].names)
    obs, flat_obs = (
        observe(asm.venv, asm.plan, trees, views[key], all_names, spec)
        for key, asm in (("engine", assembly), ("flat", flat))
    )
    return obs, flat_obs, check.static_blind_spots(obs, sorted(names))


def observe(
    venv, plan: Plan, trees: Mapping[str, str], view, names: Iterable[str], spec: CaseSpec
) -> check.Observation:
    """Probe one written venv and reduce it, with its concrete view, to an Observation.

    `trees` maps each wheel label to its install tree's site-packages; `venv` is an
    `engine.materialize.Venv` (python, site_packages, owners).
    """
    from harness.runtime import run_probe

    report = run_probe(
        Path(venv.python),
        resolve=sorted(set(names)),
        imports=list(spec.imports),
        env=dict(spec.env),
        resolve_after_import=bool(spec.imports),
    )
    site = os.path.realpath(venv.site_packages)
    real_trees = {os.path.realpath(root): label for label, root in trees.items()}
    owner_of = make_owner_of(site, real_trees, dict(venv.owners or {}))
    fallback_labels = {f.label for f in plan.fallbacks}
    return check.Observation(
        site_packages=site,
        concrete={
            m.name: check.ConcreteModule(m.name, m.kind, m.path, m.realpath) for m in view.modules
        },
        runtime={m.name: _runtime_module(m) for m in report.modules if m.mode == "resolve"},
        imported={m.name: _runtime_module(m) for m in report.modules if m.mode == "import"},
        sys_path=tuple(e.realpath for e in report.sys_path if e.exists),
        distributions=tuple(
            check.Distribution(d.normalized_name, d.version, d.realpath or d.path or "")
            for d in report.distributions
        ),
        owner_of=owner_of,
        # by label, not by tree: two labels may share one tree (one wheel listed twice)
        fallback_roots={
            os.path.realpath(root): label
            for label, root in trees.items()
            if label in fallback_labels
        },
        symlink_counts={
            b.under: _count_symlinks(Path(venv.site_packages) / b.under) for b in spec.budgets
        },
        file_kinds={f.path: _kind(os.path.join(venv.site_packages, f.path)) for f in spec.files},
        prefix_kinds={f.path: _kind(os.path.join(venv.path, f.path)) for f in spec.prefix_files},
        prefix_owners={f.path: _data_owner(venv.path, f.path, trees) for f in spec.prefix_files},
        scripts={
            cs.name: os.access(os.path.join(venv.path, "bin", cs.name), os.X_OK)
            for cs in spec.console_scripts
        },
    )


def make_owner_of(
    site: str, trees: dict[str, str], owners: dict[str, str]
) -> Callable[[str], check.Owner | None]:
    """Map a real path to (wheel label, path in that wheel's site-packages)."""
    roots = sorted(trees, key=len, reverse=True)

    def owner_of(real: str) -> check.Owner | None:
        if not real:
            return None
        for root in roots:
            if real == root or real.startswith(root + os.sep):
                return trees[root], os.path.relpath(real, root)
        if real.startswith(site + os.sep):
            rel = os.path.relpath(real, site)
            label = owners.get(rel)
            if label is None and os.path.isdir(real):
                label = owners.get(os.path.join(rel, "METADATA"))
            return (label, rel) if label else None
        return None

    return owner_of


def _runtime_module(m) -> check.RuntimeModule:
    error = f"{m.error.type}: {m.error.message}" if getattr(m, "error", None) else None
    return check.RuntimeModule(
        name=m.name,
        status=m.status,
        kind=m.kind,
        origin=m.origin_realpath,
        locations=tuple(m.search_locations_realpaths or ()),
        error=error,
    )


def _data_owner(venv: Path, rel: str, trees: Mapping[str, str]) -> str | None:
    """The wheel whose install tree's `data/` holds the real file behind a prefix path (flat
    installs copy data files, so those have no owner here)."""
    real = os.path.realpath(os.path.join(venv, rel))
    for label, site in trees.items():
        data = os.path.realpath(os.path.join(os.path.dirname(site), "data"))
        if real == data or real.startswith(data + os.sep):
            return label
    return None


def _kind(path: str) -> str | None:
    if os.path.islink(path):
        return "symlink"
    if os.path.isdir(path):
        return "dir"
    if os.path.exists(path):
        return "file"
    return None


def _count_symlinks(root: Path) -> int:
    if root.is_symlink():
        return 1
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if os.path.islink(os.path.join(dirpath, name)):
                count += 1
    return count
