"""Benchmarks: assembly against uv and pip, startup against a flat venv, sys.path quality,
scaling of the planner, the materializer and the `.pth` fallback, and the matrix wall time.

The measuring functions run real subprocesses and real venvs; everything that turns samples into
numbers and numbers into tables is a pure function, so `tests/unit/test_bench.py` can check the
arithmetic and the rendering on known inputs. Performance itself is never asserted by a test:
it is what `harness bench` reports (engine-contract.md §9.7: the upstream methodology this
follows).

Noise handling, because the numbers are taken on shared machines: every variant is warmed up
untimed first (caches, page cache, virtualenv's interpreter query), timed runs are interleaved
round-robin with the order rotated each round (so a burst of load hits every variant alike),
tables report the median next to the mean and sample standard deviation, and startup ratios
come with the seed's noise floor (2 × the standard error of the difference of means).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.model import Interpreter, PreparedWheel, WheelFacts

MEASURES = ("assembly", "startup", "syspath", "scaling", "matrix")
PLANNER_SIZES = (10, 100, 1000, 5000)
MATERIALIZE_SIZES = (10, 100, 1000)
PTH_SIZES = (10, 100, 2000)
NATIVE_SUFFIX = ".cpython-311-x86_64-linux-gnu.so"  # only its `.so` ending matters to facts

# --------------------------------------------------------------------------- statistics


def mean(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("mean of no samples")
    return math.fsum(samples) / len(samples)


def median(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("median of no samples")
    ordered = sorted(samples)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def stddev(samples: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0 for fewer than two samples."""
    if len(samples) < 2:
        return 0.0
    centre = mean(samples)
    return math.sqrt(math.fsum((x - centre) ** 2 for x in samples) / (len(samples) - 1))


def ratio(value: float, baseline: float) -> float | None:
    """`value / baseline`, or None when the baseline is zero (nothing to compare with)."""
    return None if baseline == 0 else value / baseline


def loglog_slope(sizes: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of log(value) against log(size): ~1 linear, ~2 quadratic.

    None with fewer than two usable points (sizes and values must be positive).
    """
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values, strict=True) if s > 0 < v]
    if len(points) < 2:
        return None
    mx = mean([x for x, _ in points])
    my = mean([y for _, y in points])
    sxx = math.fsum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return math.fsum((x - mx) * (y - my) for x, y in points) / sxx


def marginal_costs(sizes: Sequence[int], values: Sequence[float]) -> list[float | None]:
    """Cost per extra item between consecutive sizes (None for the first size).

    Linear growth with a fixed overhead (creating the venv, starting the interpreter) shows as
    a constant marginal cost even though the log-log slope of the totals is below 1.
    """
    out: list[float | None] = [None]
    for i in range(1, len(sizes)):
        step = sizes[i] - sizes[i - 1]
        out.append((values[i] - values[i - 1]) / step if step else None)
    return out


@dataclass(frozen=True)
class Stats:
    """Summary of one set of timings (seconds)."""

    n: int
    mean: float
    median: float
    stddev: float
    min: float
    max: float
    samples: tuple[float, ...] = ()  # in measurement order, for re-analysis from the JSON

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        return cls(
            n=len(samples),
            mean=mean(samples),
            median=median(samples),
            stddev=stddev(samples),
            min=min(samples),
            max=max(samples),
            samples=tuple(samples),
        )


def noise_floor(a: Stats, baseline: Stats) -> float | None:
    """The seed's noise floor: 2 × standard error of the difference of means, as a fraction of
    the baseline's median. A difference smaller than this is not distinguishable from noise."""
    if baseline.median == 0 or a.n == 0 or baseline.n == 0:
        return None
    se = math.sqrt(a.stddev**2 / a.n + baseline.stddev**2 / baseline.n)
    return 2 * se / baseline.median


# --------------------------------------------------------------------------- timing


def interleaved(
    actions: Mapping[str, Callable[[], float]], runs: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run each action `warmup` times untimed, then `runs` rounds; each round runs every action
    once, the order rotated by one per round. Each action returns its own measured seconds
    (so setup and cleanup stay outside the measurement)."""
    names = list(actions)
    for _ in range(warmup):
        for name in names:
            actions[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            samples[name].append(actions[name]())
    return samples


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for timed subprocesses: the host's, minus what would steer Python or
    the installers away from the venv under test (PYTHON*, VIRTUAL_ENV, PIP_*, UV_*)."""
    dropped = ("PYTHON", "PIP_", "UV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class RunAs:
    """Another user the startup runs execute as (`harness bench --as-user`): root writes
    bytecode wherever it likes, so only another user shows what a read-only tree costs."""

    name: str
    uid: int
    gid: int

    def subprocess_options(self) -> dict[str, object]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def resolve_user(name: str) -> RunAs:
    """The user `name` as a RunAs; switching users needs root, and a clear word when absent."""
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise HarnessError(f"--as-user {name!r}: no such user on this machine") from None
    if entry.pw_uid == os.geteuid():
        raise HarnessError(f"--as-user {name!r}: that is the user running harness already")
    if os.geteuid() != 0:
        raise HarnessError(f"--as-user {name!r}: switching to another user needs root")
    return RunAs(name, entry.pw_uid, entry.pw_gid)


def _user_options(user: RunAs | None) -> dict[str, object]:
    return user.subprocess_options() if user else {}


def first_unreachable(path: Path, user: RunAs) -> Path | None:
    """The first directory on the way to `path` (symlinks resolved) that `user` may not
    search, by its mode bits: the directory to open up before a run as that user can work."""
    import stat

    target = Path(os.path.realpath(path))
    chain = [*reversed(target.parents)] + ([target] if target.is_dir() else [])
    for directory in chain:
        info = directory.stat()
        if info.st_uid == user.uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == user.gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return directory
    return None


def hand_over(venv: Path, user: RunAs) -> None:
    """Give `venv` to `user`, as if that user had built it: its directories and its own files
    change owner, so the user's interpreter writes bytecode into them as it would into a venv
    of its own. A file with more than one link is a shared install tree's (a merged
    directory's hard link), and stays as it is: nothing the harness runs changes a tree."""
    for base, dirnames, filenames in os.walk(venv):
        os.lchown(base, user.uid, user.gid)
        for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(base, d)))]:
            path = os.path.join(base, name)
            if os.lstat(path).st_nlink == 1:
                os.lchown(path, user.uid, user.gid)


def run_command(
    argv: Sequence[str], env: Mapping[str, str] | None = None, user: RunAs | None = None
) -> float:
    """Run a command to completion and return its wall time; a failure is a HarnessError
    because a benchmark of a failing command measures nothing."""
    start = time.perf_counter()
    completed = subprocess.run(
        list(argv),
        env=dict(env) if env is not None else None,
        capture_output=True,
        check=False,
        **_user_options(user),  # type: ignore[arg-type]
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).decode("utf-8", "replace").strip()[-800:]
        raise HarnessError(
            f"benchmark command failed with exit status {completed.returncode}: "
            f"{' '.join(argv)}\n{tail}"
        )
    return elapsed


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    """One markdown table: a title, column names, string cells and notes under it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def fmt_us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


def fmt_pct(value: float | None, *, signed: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.1f} %" if signed else f"{value * 100:.1f} %"


def render_table(table: Table) -> str:
    """GitHub markdown: a `###` title, the table, then the notes as a list."""
    if any(len(row) != len(table.columns) for row in table.rows):
        raise ValueError(f"table {table.title!r}: a row does not have {len(table.columns)} cells")
    escape = lambda cell: cell.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [f"### {table.title}", ""]
    lines.append("| " + " | ".join(escape(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in table.rows]
    if not table.rows:
        lines.append("| " + " | ".join(["(no rows)"] + [""] * (len(table.columns) - 1)) + " |")
    if table.notes:
        lines.append("")
        lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines) + "\n"


def render_markdown(report: Mapping[str, object], tables: Sequence[Table]) -> str:
    """The whole report: machine, command, then one table per measure."""
    machine = report.get("machine", {})
    assert isinstance(machine, Mapping)
    lines = ["## Benchmark results", ""]
    lines.append(f"Command: `{report.get('command', '')}`")
    lines.append("")
    if report.get("startup_user"):
        lines.append(f"- startup and sys.path runs as user: {report['startup_user']}")
    for key in sorted(machine):
        value = machine[key]
        shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        lines.append(f"- {key}: {shown}")
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(render_table(t) for t in tables)


def render_json(report: Mapping[str, object]) -> str:
    """Stable JSON for machines: sorted keys, two-space indent, trailing newline."""
    return json.dumps(report, indent=2, sort_keys=True, default=_plain) + "\n"


def _plain(value: object) -> object:
    if isinstance(value, Stats):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --------------------------------------------------------------------------- machine


def machine_description(interpreters: Iterable[Interpreter] = ()) -> dict[str, object]:
    """Cores, memory, CPU model, load, tool versions: what a reader needs to weigh numbers."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except (OSError, ValueError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 1,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "load_average_1_5_15": [round(x, 2) for x in load],
        "host_python": platform.python_version(),
        "pythons": [".".join(map(str, i.version)) for i in interpreters],
        "uv": _tool_version([_uv() or "uv", "--version"]),
        "virtualenv": _module_version("virtualenv"),
        "pip": _tool_version([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
    }


def _tool_version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else "n/a"


def _module_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # any lookup failure means "unknown" for a description
        return "unknown"


def _uv() -> str | None:
    return shutil.which("uv")


# --------------------------------------------------------------------------- synthetic sets


@dataclass(frozen=True)
class SyntheticWheel:
    """One wheel of a synthetic set: its site-packages paths and the module it alone ships."""

    index: int
    shape: str  # regular, namespace, native, file, mixed-regular, mixed-namespace, ...
    paths: tuple[str, ...]
    module: str = ""  # a module only this wheel ships (for import timing), "" when none
    console_scripts: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"syn-{self.index:05d}"

    @property
    def label(self) -> str:
        return f"syn_{self.index:05d}"


SHAPES = (
    "regular",
    "regular",
    "namespace",
    "namespace",
    "native",
    "file",
    "mixed-regular",
    "mixed-namespace",
    "file-collision",
    "regular-collision",
)
GROUP = 8  # wheels sharing one colliding name: fixed, so per-wheel work should stay constant


def synthetic_set(count: int, seed: int = 0) -> list[SyntheticWheel]:
    """`count` wheels of mixed shapes, deterministic for a seed (shapes shuffled by it).

    Shapes: regular packages, namespace portions of shared namespaces (`ns_K/part_I`), native
    extensions (in their own package, or a native subpackage of a regular package), single-file
    modules, and collisions: mixed regular/namespace claimants of `mixed_K` (physically merged),
    one file `shared_K.py` claimed by several wheels, regular packages `dup_K` claimed twice.
    Each colliding name is shared by about GROUP wheels, so the collision structure grows with
    `count` while every bucket stays the same size; native code never sits in a conflicted
    root without a regular claimant (a hard planning error by design, not a benchmark).
    """
    rng = random.Random(seed)
    shapes = [SHAPES[i % len(SHAPES)] for i in range(count)]
    rng.shuffle(shapes)
    wheels = []
    for i, shape in enumerate(shapes):
        group = i // (GROUP * len(SHAPES))
        paths: list[str]
        module = ""
        scripts: tuple[str, ...] = ()
        if shape == "regular":
            paths = [f"reg_{i}/__init__.py", f"reg_{i}/core.py", f"reg_{i}/util/__init__.py"]
            module = f"reg_{i}"
            if rng.random() < 0.2:
                scripts = (f"tool-{i}=reg_{i}.core:main",)
        elif shape == "namespace":
            paths = [f"ns_{group}/part_{i}/__init__.py", f"ns_{group}/part_{i}/mod.py"]
            module = f"ns_{group}.part_{i}"
        elif shape == "native":
            if rng.random() < 0.5:
                paths = [f"nat_{i}/__init__.py", f"nat_{i}/_ext{NATIVE_SUFFIX}"]
            else:
                paths = [
                    f"nat_{i}/__init__.py",
                    f"nat_{i}/_libs/__init__.py",
                    f"nat_{i}/_libs/_fast{NATIVE_SUFFIX}",
                ]
            module = f"nat_{i}"
        elif shape == "file":
            paths = [f"mod_{i}.py"]
            module = f"mod_{i}"
        elif shape == "mixed-regular":
            paths = [f"mixed_{group}/__init__.py", f"mixed_{group}/a_{i}.py"]
        elif shape == "mixed-namespace":
            paths = [f"mixed_{group}/sub_{i}/__init__.py", f"mixed_{group}/sub_{i}/b.py"]
        elif shape == "file-collision":
            paths = [f"shared_{group}.py", f"own_{i}.py"]
            module = f"own_{i}"
        else:  # regular-collision
            paths = [f"dup_{group}/__init__.py", f"dup_{group}/x_{i}.py"]
        wheels.append(SyntheticWheel(i, shape, tuple(paths), module, scripts))
    return wheels


def synthetic_facts(wheels: Sequence[SyntheticWheel]) -> list[WheelFacts]:
    """Planner inputs for a synthetic set (RECORD-derived, as for a real wheel)."""
    from harness.facts import facts_from_paths

    return [facts_from_paths(w.label, w.paths, console_scripts=w.console_scripts) for w in wheels]


def write_synthetic_wheels(wheels: Sequence[SyntheticWheel], directory: Path) -> list[Path]:
    """Real `.whl` files for a synthetic set (deterministic bytes)."""
    from harness.wheelbuilder import write_wheel

    written = []
    for w in wheels:
        files = {p: (_SOURCE if p.endswith(".py") else b"\x7fELF synthetic") for p in w.paths}
        entry_points = None
        if w.console_scripts:
            name, _, target = w.console_scripts[0].partition("=")
            entry_points = {"console_scripts": {name: target}}
        written.append(write_wheel(directory, w.name, "1.0", files, entry_points=entry_points))
    return written


_SOURCE = "def main():\n    return 0\n"


def prepare_local(paths: Sequence[Path], trees_root: Path) -> list[PreparedWheel]:
    """Unpack local wheel files into a private trees root and read their facts (what
    `supply.prepare` does for cached files, minus the cache: synthetic wheels must not land in
    the project's wheels_cache)."""
    from harness import wheel

    prepared = []
    for path in paths:
        sha = wheel.file_sha256(path)
        tree = wheel.install_tree(path, sha, trees_root)
        facts = wheel.read_facts(path, label=path.name, sha256=sha)
        prepared.append(PreparedWheel(label=path.name, path=path, tree=tree, facts=facts))
    return prepared


# --------------------------------------------------------------------------- case helpers


def importable_names(facts: WheelFacts) -> list[str]:
    """Top-level names `import` can bind from a wheel: packages, `.py` files, extensions."""
    names = []
    for top in (*facts.regular_top_levels, *facts.namespace_top_levels):
        if top.endswith(".pth"):
            continue
        name = top.split(".", 1)[0] if "." in top else top
        if name.isidentifier() and name not in names:
            names.append(name)
    return sorted(names)


@dataclass(frozen=True)
class Statement:
    """What a startup run executes: real imports, plus names only located (`find_spec`) because
    importing them fails even in the flat venv (a case that runs in resolve mode)."""

    imports: tuple[str, ...]
    resolves: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        parts = [f"import {name}" for name in self.imports]
        if self.resolves:
            parts.append("import importlib.util")
            parts += [f"assert importlib.util.find_spec({n!r}) is not None" for n in self.resolves]
        return "; ".join(parts) or "pass"


def _command_error(
    python: Path, code: str, env: Mapping[str, str], user: RunAs | None = None
) -> str | None:
    """None when `python -c code` succeeds, else the end of what it printed."""
    completed = subprocess.run(
        [str(python), "-c", code],
        env=dict(env),
        capture_output=True,
        check=False,
        **_user_options(user),  # type: ignore[arg-type]
    )
    if completed.returncode == 0:
        return None
    return (completed.stderr or completed.stdout).decode("utf-8", "replace").strip()[-300:]


def _command_ok(python: Path, code: str, env: Mapping[str, str], user: RunAs | None = None) -> bool:
    return _command_error(python, code, env, user) is None


def startup_statement(
    modules: Sequence[str], flat_python: Path, env: Mapping[str, str], user: RunAs | None = None
) -> Statement:
    """Import each module that imports in the flat venv; locate the others."""
    imports = tuple(m for m in modules if _command_ok(flat_python, f"import {m}", env, user))
    resolves = tuple(m for m in modules if m not in imports)
    return Statement(imports, resolves)


SYSPATH_CODE = (
    "import json, os, sys\n"
    "entries = [p for p in sys.path if p]\n"
    "print(json.dumps({'entries': len(entries),"
    " 'site_packages_roots': len({p for p in entries if 'site-packages' in p}),"
    " 'duplicate_realpaths': len(entries) - len({os.path.realpath(p) for p in entries})}))\n"
)


def syspath_quality(
    python: Path, statement: Statement, env: Mapping[str, str], user: RunAs | None = None
) -> dict[str, int]:
    """The sys.path columns of engine-contract.md §9.7, measured after the startup statement."""
    code = statement.code + "\n" + SYSPATH_CODE
    completed = subprocess.run(
        [str(python), "-c", code],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        **_user_options(user),  # type: ignore[arg-type]
    )
    if completed.returncode != 0:
        raise HarnessError(f"sys.path probe failed in {python}: {completed.stderr.strip()[-500:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- assembly variants


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
    uv = _uv()
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
    if _uv():
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
                _remove(dest)
            for phase, seconds in timings.items():
                phases[variant.name].setdefault(phase, []).append(seconds)
            return timings["total"]

        return run

    interleaved({v.name: action(v) for v in variants}, runs=0, warmup=warmup)
    for name in phases:
        phases[name].clear()  # warmup timings are not samples
    interleaved({v.name: action(v) for v in variants}, runs=runs, warmup=0)
    return phases


def _remove(path: Path) -> None:
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- case measures


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
            _hand_over_all(pythons, user)
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
            error = _command_error(python, statement, env, user)
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


def _hand_over_all(pythons: Mapping[str, Path], user: RunAs) -> None:
    """Hand every venv to `user` and make sure that user can start each one: a directory on
    the way it may not search is named, since the run would otherwise fail on every venv."""
    for label, python in pythons.items():
        venv = python.parent.parent
        for path in (python, venv):
            blocked = first_unreachable(path, user)
            if blocked is not None:
                raise HarnessError(
                    f"--as-user {user.name}: {label} venv's {path} is out of reach for that "
                    f"user: {blocked} (mode {blocked.stat().st_mode & 0o7777:o}) may not be "
                    f"searched by it. Make the interpreters, the wheel cache and the bench "
                    f"work directory reachable (e.g. chmod o+x {blocked}) and run again."
                )
        hand_over(venv, user)


def assembly_table(records: Sequence[CaseRecord]) -> Table:
    rows = []
    notes: dict[str, str] = {}
    for r in records:
        if not r.assembly:
            continue
        base = next(a["stats"] for a in r.assembly.values() if a["baseline"])
        uv_default = r.assembly.get("uv (default link mode)", {}).get("stats")
        for variant, a in r.assembly.items():
            s = a["stats"]
            assert isinstance(s, Stats) and isinstance(base, Stats)
            phases = a["phases"]
            assert isinstance(phases, Mapping)
            install = phases.get("install")
            notes[variant] = str(a["timed"])
            rows.append(
                (
                    f"{r.case} ({r.wheels} wheels)",
                    r.python,
                    variant,
                    fmt_ms(s.median),
                    fmt_ms(s.min),
                    fmt_ms(s.max),
                    fmt_ms(install.median if isinstance(install, Stats) else None),
                    fmt_ratio(ratio(s.median, base.median)),
                    fmt_ratio(ratio(s.median, uv_default.median))
                    if isinstance(uv_default, Stats)
                    else "-",
                )
            )
    return Table(
        "Assembly: wall time to a ready venv (warm caches)",
        (
            "Case",
            "Python",
            "Variant",
            "Median (ms)",
            "Min (ms)",
            "Max (ms)",
            "of which install (ms)",
            "vs ours",
            "vs uv default",
        ),
        tuple(rows),
        tuple(f"{k}: {v}" for k, v in notes.items()),
    )


FLAT = "flat (oracle, the limit)"


def startup_table(records: Sequence[CaseRecord]) -> Table:
    rows = []
    statements = []
    for r in records:
        if not r.startup:
            continue
        statements.append(f'{r.case} ({r.python}): `python -c "{r.statement}"`')
        flat = r.startup[FLAT]
        for variant, why in r.failed.items():
            rows.append((r.case, r.python, variant, "-", "-", "-", "-", "-", f"not timed: {why}"))
        for variant, s in r.startup.items():
            rows.append(
                (
                    r.case,
                    r.python,
                    variant,
                    fmt_ms(s.mean),
                    fmt_ms(s.median),
                    fmt_ms(s.stddev),
                    fmt_ratio(ratio(s.median, flat.median)),
                    "-" if variant == FLAT else fmt_pct(noise_floor(s, flat), signed=False),
                    "-" if variant == FLAT else startup_verdict(s, flat),
                )
            )
    return Table(
        'Startup: `bin/python -c "import <main modules>"` per venv',
        (
            "Case",
            "Python",
            "Venv",
            "Mean (ms)",
            "Median (ms)",
            "± stddev (ms)",
            "vs flat",
            "noise floor",
            "within 5 %",
        ),
        tuple(rows),
        (
            *statements,
            "vs flat = median / flat median; noise floor = 2 × standard error of the "
            "difference of means / flat median (engine-contract.md §9.7): a difference below it is noise",
            "within 5 %: yes when the median is at most 5 % above flat's; noise when it is more "
            "but the excess is below the noise floor (cannot be told apart); no otherwise",
        ),
    )


def startup_verdict(s: Stats, flat: Stats, tolerance: float = 0.05) -> str:
    """The startup target: median within `tolerance` of flat's, judged against the noise."""
    excess = ratio(s.median, flat.median)
    if excess is None or excess - 1 <= tolerance:
        return "yes"
    floor = noise_floor(s, flat)
    return "noise" if floor is not None and excess - 1 <= floor else "no"


def syspath_table(records: Sequence[CaseRecord]) -> Table:
    rows = []
    for r in records:
        for variant, q in r.syspath.items():
            want = r.expected_roots.get(variant)
            met = q["duplicate_realpaths"] == 0 and q["site_packages_roots"] == want
            rows.append(
                (
                    r.case,
                    r.python,
                    variant,
                    str(q["entries"]),
                    str(q["site_packages_roots"]),
                    str(want) if want is not None else "-",
                    str(q["duplicate_realpaths"]),
                    "yes" if met else "no",
                )
            )
    return Table(
        "sys.path quality per venv",
        (
            "Case",
            "Python",
            "Venv",
            "sys.path entries",
            "site-packages roots",
            "target roots",
            "duplicate realpaths",
            "target met",
        ),
        tuple(rows),
        (
            "entries = non-empty sys.path entries; roots = distinct entries containing "
            "`site-packages`; duplicate realpaths = entries − distinct realpaths (engine-contract.md §9.7); "
            "target roots = 1 + the wheels the plan leaves on fallback",
        ),
    )


# --------------------------------------------------------------------------- scaling


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
        _remove(dest)
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


def growth(stats: Mapping[int, Stats]) -> dict[str, object]:
    """Per-item cost at each size, marginal cost between sizes, and the log-log slope."""
    sizes = sorted(stats)
    medians = [stats[s].median for s in sizes]
    return {
        "sizes": sizes,
        "median": medians,
        "per_item": [m / s for m, s in zip(medians, sizes, strict=True)],
        "marginal_per_item": marginal_costs(sizes, medians),
        "slope": loglog_slope(sizes, medians),
    }


def scaling_table(scaling: Mapping[str, Mapping[int, Stats]]) -> Table:
    rows = []
    for measure, stats in scaling.items():
        g = growth(stats)
        for size, marginal in zip(g["sizes"], g["marginal_per_item"], strict=True):  # type: ignore[call-overload]
            s = stats[size]
            rows.append(
                (
                    measure,
                    str(size),
                    fmt_ms(s.mean),
                    fmt_ms(s.median),
                    fmt_ms(s.stddev),
                    fmt_us(s.median / size),
                    fmt_us(marginal),
                    f"{g['slope']:.2f}" if g["slope"] is not None else "-",
                )
            )
    return Table(
        "Scaling: synthetic wheel sets",
        (
            "Measure",
            "N",
            "Mean (ms)",
            "Median (ms)",
            "± stddev (ms)",
            "per item (µs)",
            "marginal per item (µs)",
            "log-log slope",
        ),
        tuple(rows),
        (
            "planner = CPU time (process_time) of plan(facts, 'merge') over mixed shapes "
            "(regular, namespace, native, file, mixed/file/regular collisions); materialize = wall "
            "time of assemble(engine=merge) incl. one virtualenv; pth startup = wall time of "
            "`bin/python -c ...` in a pth-engine venv with N fallback lines",
            "slope = least-squares slope of log(median) on log(N): ~1 linear; a fixed overhead "
            "(venv creation, interpreter start) pulls it below 1, so read the marginal cost too: "
            "constant marginal cost = linear growth",
        ),
    )


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


# --------------------------------------------------------------------------- matrix


def bench_matrix(
    cases: Sequence[object], interpreters: Sequence[Interpreter], jobs: int, runs: int = 1
) -> dict[str, object]:
    """Wall time of the whole corpus × interpreters through `runner.run_units`, warm."""
    from harness import runner, supply
    from harness.expectations import parse_spec

    units = []
    for case in cases:
        spec = parse_spec(case.path, case.raw)  # type: ignore[attr-defined]
        for interp in interpreters:
            units.append(runner.Unit(case, interp, runner.engines_for(spec, "merge")))  # type: ignore[arg-type]
            if spec.supports(interp.version):
                supply.prepare([*case.support, *case.wheels], interp)  # type: ignore[attr-defined]
    samples = []
    statuses: dict[str, int] = {}
    for _ in range(runs):
        start = time.perf_counter()
        results = runner.run_units(units, jobs=jobs)
        samples.append(time.perf_counter() - start)
        statuses = {}
        for result in results:
            statuses[result.status] = statuses.get(result.status, 0) + 1
    return {
        "cases": len(cases),
        "interpreters": [".".join(map(str, i.version)) for i in interpreters],
        "units": len(units),
        "jobs": jobs,
        "stats": Stats.of(samples),
        "statuses": dict(sorted(statuses.items())),
    }


def matrix_table(matrix: Mapping[str, object], target_seconds: float = 60.0) -> Table:
    s = matrix["stats"]
    assert isinstance(s, Stats)
    statuses = matrix["statuses"]
    assert isinstance(statuses, Mapping)
    pythons = matrix["interpreters"]
    assert isinstance(pythons, Sequence)
    row = (
        f"{matrix['cases']} × {len(pythons)}",
        str(matrix["units"]),
        str(matrix["jobs"]),
        fmt_s(s.mean),
        fmt_s(s.median),
        fmt_s(s.stddev),
        str(s.n),
        ", ".join(f"{k} {v}" for k, v in statuses.items()),
        fmt_ratio(ratio(s.median, target_seconds)),
    )
    return Table(
        "Matrix: whole corpus × every interpreter found, warm",
        (
            "Cases × Pythons",
            "Units",
            "-j",
            "Mean (s)",
            "Median (s)",
            "± stddev (s)",
            "Runs",
            "Results",
            f"vs {target_seconds:.0f} s target",
        ),
        (row,),
        (
            f"interpreters: {', '.join(map(str, pythons))}; each unit builds the flat oracle and "
            "every engine the case runs (merge + its `detects` variants), probes and checks them",
        ),
    )


# --------------------------------------------------------------------------- JSON


def case_record_json(record: CaseRecord) -> dict[str, object]:
    return {
        "case": record.case,
        "python": record.python,
        "wheels": record.wheels,
        "statement": record.statement,
        "assembly": record.assembly,
        "startup": record.startup,
        "syspath": record.syspath,
        "expected_site_packages_roots": record.expected_roots,
        "not_timed": record.failed,
    }


def scaling_json(scaling: Mapping[str, Mapping[int, Stats]]) -> dict[str, object]:
    return {
        measure: {"stats": {str(k): v for k, v in stats.items()}, "growth": growth(stats)}
        for measure, stats in scaling.items()
    }


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="harness-bench-"))


__all__ = [
    "FLAT",
    "MATERIALIZE_SIZES",
    "MEASURES",
    "PLANNER_SIZES",
    "PTH_SIZES",
    "CaseRecord",
    "RunAs",
    "Statement",
    "Stats",
    "SyntheticWheel",
    "Table",
    "assembly_table",
    "bench_case",
    "bench_matrix",
    "bench_scaling",
    "first_unreachable",
    "growth",
    "hand_over",
    "importable_names",
    "interleaved",
    "loglog_slope",
    "machine_description",
    "marginal_costs",
    "matrix_table",
    "mean",
    "median",
    "noise_floor",
    "ratio",
    "render_json",
    "render_markdown",
    "render_table",
    "resolve_user",
    "scaling_table",
    "startup_table",
    "startup_verdict",
    "stddev",
    "synthetic_facts",
    "synthetic_set",
    "syspath_table",
    "write_synthetic_wheels",
]
