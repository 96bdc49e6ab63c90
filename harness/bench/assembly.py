"""Assembly variants: the ways to produce a ready venv from the same wheel files (our engine
in-process and as the CLI, uv in two link modes, pip in two set-ups), and timing them
interleaved, each run writing a fresh venv that is removed untimed afterwards.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.bench.machine import find_uv
from harness.bench.processes import clean_env, interleaved, run_command
from harness.bench.scratch import remove
from harness.bench.stats import Stats
from harness.model import Interpreter, PreparedWheel


@dataclass
class Variant:
    """One way to produce a ready venv from the same wheel files. `build(dest)` writes it and
    returns {phase: seconds}; the total is the measured assembly time."""

    name: str
    timed: str  # exactly what is timed, for the table notes
    build: Callable[[Path], dict[str, float]]
    baseline: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _ours(prepared: Sequence[PreparedWheel], interp: Interpreter, engine: str) -> Callable:
    from harness.engine.assemble import assemble

    def build(dest: Path) -> dict[str, float]:
        start = time.perf_counter()
        assemble(prepared, interp, dest, engine=engine, policy="ignore")
        return {"total": time.perf_counter() - start}

    return build


def _ours_cli(case_name: str, interp: Interpreter) -> Callable:
    def build(dest: Path) -> dict[str, float]:
        argv = [
            sys.executable,
            "-m",
            "harness",
            "assemble",
            case_name,
            "--python",
            interp.executable,
            "--out",
            str(dest),
            "--policy",
            "ignore",
        ]
        env = clean_env({"HARNESS_OFFLINE": "1", "PYTHONPATH": str(_project_root())})
        return {"total": run_command(argv, env)}

    return build


def _project_root() -> Path:
    from harness.config import PROJECT_ROOT

    return PROJECT_ROOT


def _uv_build(files: Sequence[Path], interp: Interpreter, cache: Path, link_mode: str | None):
    uv = find_uv()
    env = clean_env({"UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"})

    def build(dest: Path) -> dict[str, float]:
        assert uv is not None
        create = run_command(
            [uv, "--no-config", "venv", "-q", "--python", interp.executable, str(dest)], env
        )
        mode = ["--link-mode", link_mode] if link_mode else []
        install = run_command(
            [
                uv,
                "--no-config",
                "pip",
                "install",
                "-q",
                "--offline",
                "--no-deps",
                "--python",
                str(dest / "bin" / "python"),
                *mode,
                *map(str, files),
            ],
            env,
        )
        return {"create": create, "install": install, "total": create + install}

    return build


def _pip_build(files: Sequence[Path], interp: Interpreter, ensurepip: bool):
    env = clean_env({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"})

    def build(dest: Path) -> dict[str, float]:
        venv_args = [] if ensurepip else ["--without-pip"]
        create = run_command([interp.executable, "-m", "venv", *venv_args, str(dest)], env)
        python = str(dest / "bin" / "python")
        if ensurepip:
            argv = [python, "-m", "pip"]
        else:
            argv = [sys.executable, "-m", "pip", "--python", python]
        install = run_command(
            [*argv, "install", "-q", "--no-deps", "--no-index", *map(str, files)], env
        )
        return {"create": create, "install": install, "total": create + install}

    return build


def assembly_variants(
    case_name: str,
    prepared: Sequence[PreparedWheel],
    interp: Interpreter,
    uv_cache: Path,
    *,
    with_cli: bool = True,
    with_pip: bool = True,
) -> list[Variant]:
    """Our engine (in-process and as the CLI), uv (default link mode, symlink), pip."""
    files = [p.path for p in prepared]
    variants = [
        Variant(
            "merge (assemble())",
            "assemble(engine=merge): plan + virtualenv + projection, "
            "in-process (warm: virtualenv's interpreter query cached)",
            _ours(prepared, interp, "merge"),
            baseline=True,
        ),
    ]
    if with_cli:
        variants.append(
            Variant(
                "merge (harness assemble CLI)",
                "`python -m harness assemble "
                "CASE --out D` in a new process, offline (interpreter start, "
                "imports, case load, cache lookup, assemble)",
                _ours_cli(case_name, interp),
            )
        )
    if find_uv():
        variants.append(
            Variant(
                "uv (default link mode)",
                "`uv venv` + `uv pip install "
                "--offline --no-deps` of the wheel files (warm private cache)",
                _uv_build(files, interp, uv_cache, None),
            )
        )
        variants.append(
            Variant(
                "uv --link-mode symlink",
                "as above with `--link-mode symlink`",
                _uv_build(files, interp, uv_cache, "symlink"),
            )
        )
    if with_pip:
        variants.append(
            Variant(
                "pip (venv with pip)",
                "`python -m venv` (ensurepip, as users "
                "do) + `<venv>/bin/python -m pip install --no-deps --no-index`",
                _pip_build(files, interp, ensurepip=True),
            )
        )
        variants.append(
            Variant(
                "pip (venv --without-pip, host pip)",
                "`python -m venv "
                "--without-pip` + host `pip --python <venv> install --no-deps "
                "--no-index`",
                _pip_build(files, interp, ensurepip=False),
            )
        )
    return variants


def time_assembly(
    variants: Sequence[Variant], workdir: Path, runs: int, warmup: int = 1
) -> dict[str, dict[str, list[float]]]:
    """Interleaved runs of every variant; each writes a fresh venv, removed untimed afterwards.
    Returns variant → phase → samples."""
    phases: dict[str, dict[str, list[float]]] = {v.name: {} for v in variants}
    counter = iter(range(10**9))

    def action(variant: Variant) -> Callable[[], float]:
        def run() -> float:
            dest = workdir / f"run-{next(counter)}"
            try:
                timings = variant.build(dest)
            finally:
                remove(dest)
            for phase, seconds in timings.items():
                phases[variant.name].setdefault(phase, []).append(seconds)
            return timings["total"]

        return run

    interleaved({v.name: action(v) for v in variants}, runs=0, warmup=warmup)
    for name in phases:
        phases[name].clear()  # warmup timings are not samples
    interleaved({v.name: action(v) for v in variants}, runs=runs, warmup=0)
    return phases


def measure_assembly(
    variants: Sequence[Variant], workdir: Path, runs: int
) -> dict[str, dict[str, object]]:
    """Every variant timed (`time_assembly`), as variant → {timed, baseline, stats, phases}:
    the stats of the total, and of each phase the variant reports (create, install)."""
    phases = time_assembly(variants, workdir, runs)
    return {
        v.name: {
            "timed": v.timed,
            "baseline": v.baseline,
            "stats": Stats.of(phases[v.name]["total"]),
            "phases": {p: Stats.of(s) for p, s in sorted(phases[v.name].items())},
        }
        for v in variants
    }
