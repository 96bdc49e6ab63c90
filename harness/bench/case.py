"""One case on one interpreter: assembly of every variant, startup of every venv, and the
sys.path each leaves, gathered into a CaseRecord from which the tables are drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.bench.assembly import Variant, assembly_variants, measure_assembly
from harness.bench.processes import clean_env
from harness.bench.startup import (
    Statement,
    importable_names,
    split_working,
    startup_statement,
    syspath_quality,
    time_startup,
)
from harness.bench.stats import Stats
from harness.bench.users import RunAs, hand_over_all
from harness.model import Interpreter, PreparedWheel

if TYPE_CHECKING:
    from harness.cases.case import Case

FLAT = "flat (oracle, the limit)"


@dataclass(frozen=True)
class CaseRecord:
    """Every per-case number, JSON-ready (`results.case_record_json`), from which the tables
    are drawn."""

    case: str
    python: str
    assembly: Mapping[str, Mapping[str, object]]  # variant → {timed, stats, phases}
    startup: Mapping[str, Stats]  # variant → stats (flat included)
    statement: str
    syspath: Mapping[str, Mapping[str, int]]  # variant → quality
    expected_roots: Mapping[str, int]  # variant → 1 + wheels on fallback
    wheels: int
    failed: Mapping[str, str] = field(default_factory=dict)  # venv → why it was not timed


@dataclass(frozen=True)
class CaseVenvs:
    """The venvs a case's startup and sys.path are measured in: label → interpreter, and the
    site-packages roots each should show (1 + the wheels the plan leaves on fallback)."""

    pythons: dict[str, Path]
    expected_roots: dict[str, int]
    trees: tuple[Path, ...] = ()  # the install trees the merge venv links into

    @property
    def flat_python(self) -> Path:
        return self.pythons[FLAT]


@dataclass(frozen=True)
class RuntimeNumbers:
    """The startup and sys.path part of a CaseRecord (all empty when neither was measured)."""

    statement: str = ""
    startup: Mapping[str, Stats] = field(default_factory=dict)
    syspath: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    expected_roots: Mapping[str, int] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)


def bench_case(
    case: Case,
    interp: Interpreter,
    workdir: Path,
    *,
    runs: int,
    startup_runs: int,
    startup_warmup: int,
    only: frozenset[str],
    with_pip: bool = True,
    user: RunAs | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> CaseRecord:
    """Assembly, startup and sys.path numbers for one case on one interpreter; with `user`,
    the venvs are handed to that user and the startup and sys.path runs execute as it."""
    from harness import supply
    from harness.observe.runtime import probe_environment

    name = case.name
    pins = [*case.support, *case.wheels]
    prepared = supply.prepare(pins, interp)  # untimed: fetch, verify, unpack (warm caches)
    support_labels = {label for label, _ in supply.choose(case.support, interp)}
    version = ".".join(map(str, interp.version))
    uv_cache = workdir / "uv-cache"
    variants = assembly_variants(name, prepared, interp, uv_cache, with_pip=with_pip)

    assembly: dict[str, dict[str, object]] = {}
    if "assembly" in only:
        log(f"{name} {version}: assembly, {len(variants)} variants × {runs} runs")
        assembly = measure_assembly(variants, workdir / "assembly", runs)

    runtime = RuntimeNumbers()
    if only & {"startup", "syspath"}:
        venvs = build_venvs(prepared, interp, variants, workdir / "venvs")
        env = clean_env(probe_environment(dict(case.env)))
        tested = [p for p in prepared if p.label not in support_labels]
        modules = list(case.imports) or sorted(
            {n for p in tested for n in importable_names(p.facts)}
        )
        runtime = measure_runtime(
            venvs,
            modules,
            env,
            only=only,
            runs=startup_runs,
            warmup=startup_warmup,
            user=user,
            log=lambda message: log(f"{name} {version}: {message}"),
        )
    return CaseRecord(
        case=name,
        python=version,
        assembly=assembly,
        startup=runtime.startup,
        statement=runtime.statement,
        syspath=runtime.syspath,
        expected_roots=runtime.expected_roots,
        wheels=len(prepared),
        failed=runtime.failed,
    )


def build_venvs(
    prepared: Sequence[PreparedWheel],
    interp: Interpreter,
    variants: Sequence[Variant],
    venvs: Path,
) -> CaseVenvs:
    """The flat oracle, our merge venv, and one venv per uv and pip variant, kept under
    `venvs` for the startup and sys.path runs (untimed: the assembly measure times them)."""
    from harness.engine.assemble import assemble

    flat = assemble(prepared, interp, venvs / "flat", engine="flat", policy="ignore")
    merged = assemble(prepared, interp, venvs / "merge", engine="merge", policy="ignore")
    pythons = {FLAT: flat.venv.python, "merge": merged.venv.python}
    expected = {FLAT: 1, "merge": 1 + len(merged.plan.fallbacks)}
    for v in variants:
        if v.name.startswith(("uv", "pip")):
            dest = venvs / v.name.replace(" ", "_").replace("/", "_")
            v.build(dest)
            pythons[v.name] = dest / "bin" / "python"
            expected[v.name] = 1
    return CaseVenvs(pythons, expected, tuple(p.tree.root for p in prepared))


def measure_runtime(
    venvs: CaseVenvs,
    modules: Sequence[str],
    env: Mapping[str, str],
    *,
    only: frozenset[str],
    runs: int,
    warmup: int,
    user: RunAs | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> RuntimeNumbers:
    """Startup and sys.path in every venv: the statement is chosen in the flat venv, a venv
    where it fails is not timed, and with `user` every venv is handed to that user first."""
    if user is not None:
        hand_over_all(venvs.pythons, user, venvs.trees)
    chosen = startup_statement(modules, venvs.flat_python, env, user)
    statement = chosen.code
    working, failed = split_working(venvs.pythons, statement, env, user)
    startup: dict[str, Stats] = {}
    if "startup" in only:
        log(f"startup of `{statement}`, {len(working)} venvs")
        startup = time_startup(working, statement, env, user, runs=runs, warmup=warmup)
    syspath: dict[str, dict[str, int]] = {}
    if "syspath" in only:
        syspath = {
            label: syspath_quality(py, chosen if label in working else Statement(()), env, user)
            for label, py in venvs.pythons.items()
        }
    return RuntimeNumbers(statement, startup, syspath, venvs.expected_roots, failed)
