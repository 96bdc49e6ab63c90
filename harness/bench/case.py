"""One case on one interpreter: assembly of every variant, startup of every venv, and the
sys.path each leaves, gathered into a CaseRecord from which the tables are drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.bench.assembly import assembly_variants, time_assembly
from harness.bench.processes import clean_env, command_error, interleaved, run_command
from harness.bench.startup import Statement, importable_names, startup_statement, syspath_quality
from harness.bench.stats import Stats
from harness.bench.users import RunAs, hand_over_all
from harness.model import Interpreter

FLAT = "flat (oracle, the limit)"


@dataclass(frozen=True)
class CaseRecord:
    """Every per-case number, JSON-ready (`to_json_dict`), from which the tables are drawn."""

    case: str
    python: str
    assembly: Mapping[str, Mapping[str, object]]  # variant → {timed, stats, phases}
    startup: Mapping[str, Stats]  # variant → stats (flat included)
    statement: str
    syspath: Mapping[str, Mapping[str, int]]  # variant → quality
    expected_roots: Mapping[str, int]  # variant → 1 + wheels on fallback
    wheels: int
    failed: Mapping[str, str] = field(default_factory=dict)  # venv → why it was not timed


def bench_case(
    case: object,
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
    from harness.engine.assemble import assemble
    from harness.expectations import parse_spec
    from harness.runtime import probe_environment

    spec = parse_spec(case.path, case.raw)  # type: ignore[attr-defined]
    name = case.name  # type: ignore[attr-defined]
    pins = [*case.support, *case.wheels]  # type: ignore[attr-defined]
    prepared = supply.prepare(pins, interp)  # untimed: fetch, verify, unpack (warm caches)
    support_labels = {label for label, _ in supply.choose(case.support, interp)}  # type: ignore[attr-defined]
    version = ".".join(map(str, interp.version))
    uv_cache = workdir / "uv-cache"
    variants = assembly_variants(name, prepared, interp, uv_cache, with_pip=with_pip)

    assembly: dict[str, dict[str, object]] = {}
    if "assembly" in only:
        log(f"{name} {version}: assembly, {len(variants)} variants × {runs} runs")
        phases = time_assembly(variants, workdir / "assembly", runs)
        for v in variants:
            assembly[v.name] = {
                "timed": v.timed,
                "baseline": v.baseline,
                "stats": Stats.of(phases[v.name]["total"]),
                "phases": {p: Stats.of(s) for p, s in sorted(phases[v.name].items())},
            }

    startup: dict[str, Stats] = {}
    syspath: dict[str, dict[str, int]] = {}
    expected: dict[str, int] = {}
    statement = ""
    failed: dict[str, str] = {}
    if only & {"startup", "syspath"}:
        venvs = workdir / "venvs"
        flat = assemble(prepared, interp, venvs / "flat", engine="flat", policy="ignore")
        merged = assemble(prepared, interp, venvs / "merge", engine="merge", policy="ignore")
        pythons = {"flat (oracle, the limit)": flat.venv.python, "merge": merged.venv.python}
        expected = {"flat (oracle, the limit)": 1, "merge": 1 + len(merged.plan.fallbacks)}
        for v in variants:
            if v.name.startswith(("uv", "pip")):
                v.build(venvs / v.name.replace(" ", "_").replace("/", "_"))
                pythons[v.name] = (
                    venvs / v.name.replace(" ", "_").replace("/", "_") / "bin" / "python"
                )
                expected[v.name] = 1
        env = clean_env(probe_environment(dict(spec.env)))
        if user is not None:
            hand_over_all(pythons, user)
        tested = [p for p in prepared if p.label not in support_labels]
        modules = list(spec.imports) or sorted(
            {n for p in tested for n in importable_names(p.facts)}
        )
        chosen = startup_statement(modules, flat.venv.python, env, user)
        statement = chosen.code
        # A venv where the statement fails (an installer that overlays colliding files in
        # another order than the flat oracle) is reported, not timed: it measures nothing.
        working = {}
        for label, python in pythons.items():
            error = command_error(python, statement, env, user)
            if error is None:
                working[label] = python
            else:
                failed[label] = f"`{statement}` fails in this venv: {error.splitlines()[-1]}"
        if "startup" in only:
            log(f"{name} {version}: startup of `{statement}`, {len(working)} venvs")
            actions = {
                label: (lambda py=python: run_command([str(py), "-c", statement], env, user))
                for label, python in working.items()
            }
            samples = interleaved(actions, runs=startup_runs, warmup=startup_warmup)
            startup = {label: Stats.of(s) for label, s in samples.items()}
        if "syspath" in only:
            syspath = {
                label: syspath_quality(py, chosen if label in working else Statement(()), env, user)
                for label, py in pythons.items()
            }
    return CaseRecord(
        case=name,
        python=version,
        assembly=assembly,
        startup=startup,
        statement=statement,
        syspath=syspath,
        expected_roots=expected,
        wheels=len(prepared),
        failed=failed,
    )
