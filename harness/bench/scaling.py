"""Scaling over synthetic wheel sets: planner CPU time, materialization wall time and startup
with N `.pth` fallback lines, each at several set sizes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.bench.processes import clean_env, interleaved, run_command
from harness.bench.scratch import remove
from harness.bench.stats import Stats
from harness.bench.synthetic import (
    prepare_local,
    synthetic_facts,
    synthetic_set,
    write_synthetic_wheels,
)
from harness.model import Interpreter, PreparedWheel

PLANNER_SIZES = (10, 100, 1000, 5000)
MATERIALIZE_SIZES = (10, 100, 1000)
PTH_SIZES = (10, 100, 2000)


def time_planner(sizes: Sequence[int], runs: int, seed: int = 0) -> dict[int, Stats]:
    """CPU seconds (`time.process_time`) of `plan(facts, "merge")` per set size."""
    from harness.engine.plan import plan

    out = {}
    for size in sizes:
        facts = synthetic_facts(synthetic_set(size, seed))
        plan(facts, "merge")  # warmup, and proof the set plans without a hard error
        samples = []
        for _ in range(runs):
            start = time.process_time()
            plan(facts, "merge")
            samples.append(time.process_time() - start)
        out[size] = Stats.of(samples)
    return out


def time_materialize(
    prepared: Sequence[PreparedWheel],
    interp: Interpreter,
    sizes: Sequence[int],
    runs: int,
    workdir: Path,
) -> dict[int, Stats]:
    """Wall seconds of `assemble(first N wheels, engine=merge)`: plan + venv + projection."""
    from harness.engine.assemble import assemble

    counter = iter(range(10**9))

    def build(subset: Sequence[PreparedWheel]) -> float:
        dest = workdir / f"m-{next(counter)}"
        start = time.perf_counter()
        assemble(subset, interp, dest, engine="merge", policy="ignore")
        elapsed = time.perf_counter() - start
        remove(dest)
        return elapsed

    actions = {str(size): (lambda s=size: build(prepared[:s])) for size in sizes}
    samples = interleaved(actions, runs=runs, warmup=1)
    return {size: Stats.of(samples[str(size)]) for size in sizes}


def time_pth_startup(
    prepared: Sequence[PreparedWheel],
    modules: Sequence[str],
    interp: Interpreter,
    sizes: Sequence[int],
    runs: int,
    warmup: int,
    workdir: Path,
) -> dict[str, dict[int, Stats]]:
    """Startup of a `pth`-engine venv over the first N wheels (N fallback lines): `pass`, and
    importing a module of the last wheel (the import scans every entry before it)."""
    from harness.engine.assemble import assemble

    env = clean_env()
    actions: dict[str, Callable[[], float]] = {}
    for size in sizes:
        venv = assemble(
            prepared[:size], interp, workdir / f"pth-{size}", engine="pth", policy="ignore"
        ).venv
        last = next((m for m in reversed(modules[:size]) if m), "")
        for kind, code in (("pass", "pass"), ("import last", f"import {last}" if last else "")):
            if code:
                run_command([str(venv.python), "-c", code], env)  # it must work before timing
                actions[f"{kind}|{size}"] = lambda py=venv.python, c=code: run_command(
                    [str(py), "-c", c], env
                )
    samples = interleaved(actions, runs=runs, warmup=warmup)
    out: dict[str, dict[int, Stats]] = {}
    for key, values in samples.items():
        kind, size = key.split("|")
        out.setdefault(kind, {})[int(size)] = Stats.of(values)
    return out


def bench_scaling(
    interp: Interpreter,
    workdir: Path,
    *,
    runs: int,
    startup_runs: int,
    startup_warmup: int,
    planner_sizes: Sequence[int] = PLANNER_SIZES,
    materialize_sizes: Sequence[int] = MATERIALIZE_SIZES,
    pth_sizes: Sequence[int] = PTH_SIZES,
    seed: int = 0,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, dict[int, Stats]]:
    """Planner, materializer and `.pth` startup over synthetic sets (wheels written once)."""
    out: dict[str, dict[int, Stats]] = {}
    if planner_sizes:
        log(f"scaling: planner over {list(planner_sizes)} wheels")
        out["planner (CPU)"] = time_planner(planner_sizes, runs, seed)
    largest = max([*materialize_sizes, *pth_sizes], default=0)
    if largest:
        log(f"scaling: writing and unpacking {largest} synthetic wheels (untimed)")
        wheels = synthetic_set(largest, seed)
        paths = write_synthetic_wheels(wheels, workdir / "wheels")
        prepared = prepare_local(paths, workdir / "trees")
        if materialize_sizes:
            log(f"scaling: materialize {list(materialize_sizes)} wheels")
            out["materialize (wall)"] = time_materialize(
                prepared, interp, materialize_sizes, runs, workdir / "mat"
            )
        if pth_sizes:
            log(f"scaling: startup with {list(pth_sizes)} .pth lines")
            modules = [w.module if w.shape in ("regular", "file") else "" for w in wheels]
            pth = time_pth_startup(
                prepared, modules, interp, pth_sizes, startup_runs, startup_warmup, workdir / "pth"
            )
            for kind, stats in pth.items():
                out[f"pth startup: {kind}"] = stats
    return out
