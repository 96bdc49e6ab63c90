"""`harness bench`: assembly against uv and pip, startup against the flat venv, sys.path
quality, scaling and the matrix wall time, as markdown tables and JSON."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.commands.common import absolute, absolute_or_stdout
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.bench import CaseRecord, RunAs, Table
    from harness.cases.case import Case
    from harness.model import Interpreter

EPILOG = """\
measures (--only, comma separated; default: all):
  assembly  wall time to a ready venv from the case's wheels (support + wheels): our merge
            engine (assemble() in-process, and the `harness assemble` CLI), `uv venv` + `uv pip
            install --offline --no-deps` (default link mode and --link-mode symlink, private warm
            cache), `python -m venv` + pip install --no-deps --no-index (with ensurepip as users
            do, and --without-pip + host pip --python). Median, min, max; ratio to ours and to uv.
  startup   `bin/python -c "import <case imports>"` in each venv (flat = the limit): warmup,
            interleaved runs; mean, median, stddev, ratio to flat and the noise floor.
  syspath   sys.path entries, distinct site-packages roots, duplicate realpaths per venv.
  scaling   planner CPU time for 10..5000 synthetic wheels, materialization for 10..1000,
            startup with 10..2000 .pth fallback lines; per-item cost and log-log slope.
  matrix    the whole corpus (CASE arguments do not narrow it) x every interpreter found,
            warm, -j = cores, via the runner.

examples:
  harness bench                                   everything, default interpreter
  harness bench native-overlay-google-protobuf --only assembly,startup --runs 5
  harness bench --only scaling --json scaling.json
  harness bench --python 3.9 --python 3.13 --markdown bench.md --json bench.json
  harness bench native-overlay-google-protobuf --only startup --as-user nobody
                                                  startup as a user who cannot write the trees

Caches are warmed untimed first (wheels fetched and unpacked, uv's cache filled), so network
time is never measured. Numbers are noisy on a busy machine: compare medians, and ratios only
beyond the noise floor. Needs the `bench` extra (uv) for the uv rows; they are skipped without it.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="benchmark assembly vs uv/pip, startup vs flat, sys.path quality, scaling, matrix",
        description="Measure the merge engine side by side with what users would use instead "
        "(uv, pip), against the flat venv (the physical limit), and how its cost grows.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "cases", nargs="*", metavar="CASE", help="case names (default: every case under cases/)"
    )
    p.add_argument(
        "--python",
        action="append",
        metavar="PY",
        help="interpreter for assembly/startup/syspath/scaling: X.Y, X.Y.Z or a path "
        "(repeatable; default: the one running harness)",
    )
    p.add_argument(
        "--runs",
        type=int,
        default=10,
        metavar="N",
        help="timed runs per assembly variant, "
        "scaling point and matrix (matrix: --matrix-runs) (default: 10)",
    )
    p.add_argument(
        "--startup-runs", type=int, default=30, metavar="N", help="timed startup runs (default 30)"
    )
    p.add_argument(
        "--startup-warmup", type=int, default=5, metavar="N", help="untimed startup runs first"
    )
    p.add_argument(
        "--matrix-runs", type=int, default=1, metavar="N", help="matrix runs (default 1)"
    )
    p.add_argument(
        "--only",
        default=",".join(_measures()),
        metavar="LIST",
        help=f"measures to run, comma separated: {','.join(_measures())}",
    )
    p.add_argument("--no-pip", action="store_true", help="skip the pip rows (ensurepip is slow)")
    p.add_argument(
        "--as-user",
        metavar="NAME",
        help="run the startup and syspath measures as this (non-root) user: the venvs are "
        "handed to it, the shared install trees stay root's and read-only (needs root; the "
        "interpreters, the wheel cache and the work directory must be reachable by NAME)",
    )
    p.add_argument(
        "--sizes",
        metavar="P/M/S",
        help="scaling sizes as planner/materialize/pth-startup lists, e.g. 10,100/10/10 "
        "(default: 10,100,1000,5000/10,100,1000/10,100,2000)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic wheel sets")
    p.add_argument(
        "-j", "--jobs", type=int, default=0, metavar="N", help="matrix processes (default: cores)"
    )
    p.add_argument(
        "--json",
        metavar="FILE",
        type=absolute_or_stdout,
        help="write the JSON report here (- for stdout)",
    )
    p.add_argument(
        "--markdown", metavar="FILE", type=absolute, help="write the markdown tables here too"
    )
    p.add_argument(
        "--keep",
        metavar="DIR",
        type=absolute,
        help="work in DIR and keep it (default: a temp dir)",
    )
    p.add_argument(
        "--cases-dir", metavar="DIR", type=absolute, help="corpus directory (default: cases/)"
    )
    p.set_defaults(func=run)


# Kept here rather than imported from harness.bench so `harness --help` and every other command
# do not pay for importing the benchmark module (tests check the two lists agree).
MEASURES = ("assembly", "startup", "syspath", "scaling", "matrix")


def _measures() -> tuple[str, ...]:
    return MEASURES


def parse_only(text: str) -> frozenset[str]:
    chosen = frozenset(p.strip() for p in text.split(",") if p.strip())
    unknown = sorted(chosen - set(_measures()))
    if unknown or not chosen:
        raise HarnessError(
            f"--only {text!r}: unknown measure(s) {', '.join(unknown) or '(none given)'}; "
            f"expected a comma-separated subset of {','.join(_measures())}"
        )
    return chosen


def parse_sizes(text: str | None) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    from harness.bench import MATERIALIZE_SIZES, PLANNER_SIZES, PTH_SIZES

    if not text:
        return PLANNER_SIZES, MATERIALIZE_SIZES, PTH_SIZES
    parts = text.split("/")
    try:
        if len(parts) != 3:
            raise ValueError
        lists = tuple(tuple(int(x) for x in p.split(",") if x.strip()) for p in parts)
        if any(n <= 0 for lst in lists for n in lst):
            raise ValueError
    except ValueError:
        raise HarnessError(
            f"--sizes {text!r}: expected three comma-separated lists of positive integers "
            "joined by `/` (planner/materialize/pth), e.g. 10,100/10/10 (a list may be empty)"
        ) from None
    return lists  # type: ignore[return-value]


def run(args: argparse.Namespace) -> int:
    """Check what to measure, measure it in a work directory (removed afterwards unless
    `--keep`), then print and write the report; 1 when any measure failed."""
    plan = plan_measures(args)
    workdir = _workdir(args.keep, plan.user)
    session = Session(args, plan, workdir, _new_report(args, plan))
    try:
        _measure_all(session)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    return _finish(session)


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class MeasurePlan:
    """What one `harness bench` run measures, every argument checked before anything is timed
    (a typo in a case name or a size costs nothing)."""

    only: frozenset[str]
    sizes: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]  # planner/materialize/pth
    user: RunAs | None
    interpreters: list[Interpreter]  # assembly, startup, syspath, scaling (the first)
    corpus: list[Case]  # every case: the matrix's
    cases: list[Case]  # the per-case measures' (CASE arguments, else the corpus)
    matrix_pythons: list[Interpreter]  # every interpreter found, for the matrix

    def wants(self, *measures: str) -> bool:
        return bool(self.only & set(measures))


def plan_measures(args: argparse.Namespace) -> MeasurePlan:
    from harness import bench
    from harness.supply.interpreters import resolve_many

    only = parse_only(args.only)
    for name in ("runs", "startup_runs", "matrix_runs"):
        if getattr(args, name) < 1:
            raise HarnessError(
                f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}"
            )
    sizes = parse_sizes(args.sizes)
    user = bench.resolve_user(args.as_user) if args.as_user else None
    interpreters = resolve_many(args.python or ["default"])
    corpus, cases = _select_cases(args.cases, args.cases_dir, only)
    matrix_pythons = resolve_many(["all"]) if "matrix" in only else []
    return MeasurePlan(only, sizes, user, interpreters, corpus, cases, matrix_pythons)


def _select_cases(
    names: list[str], cases_dir: str | None, only: frozenset[str]
) -> tuple[list[Case], list[Case]]:
    """The corpus (read only when a measure needs it) and the cases the per-case measures
    run: CASE arguments narrow those, never the matrix, which is the corpus."""
    from harness.cases import discover_cases

    corpus = []
    if only & {"assembly", "startup", "syspath", "matrix"}:
        corpus = discover_cases(Path(cases_dir)) if cases_dir else discover_cases()
    cases = corpus
    if names:
        known = {c.name: c for c in corpus or discover_cases(cases_dir)}
        missing = [n for n in names if n not in known]
        if missing:
            raise HarnessError(
                f"unknown case(s) {', '.join(missing)}; known: {', '.join(sorted(known)) or 'none'}"
            )
        cases = [known[n] for n in names]
    return corpus, cases


def _workdir(keep: str | None, user: RunAs | None) -> Path:
    from harness import bench

    workdir = Path(keep) if keep else bench.new_workdir()
    workdir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        workdir.chmod(0o755)  # a temp dir is 0700: the user must reach its venvs
    return workdir


# --------------------------------------------------------------------------- the report


def _new_report(args: argparse.Namespace, plan: MeasurePlan) -> dict[str, object]:
    """The report's head: the command, the settings and the machine; measures add to it."""
    from harness import bench

    pythons = {i.executable: i for i in [*plan.interpreters, *plan.matrix_pythons]}
    return {
        "command": "harness bench " + shlex.join(sys.argv[2:] if _from_cli() else []),
        "measures": sorted(plan.only),
        "runs": args.runs,
        "startup_runs": args.startup_runs,
        "startup_warmup": args.startup_warmup,
        "startup_user": args.as_user or _current_user(),
        "errors": {},
        "machine": bench.machine_description(sorted(pythons.values(), key=lambda i: i.version)),
    }


@dataclass
class Session:
    """One run under way: its plan, work directory, the report and tables built so far, and
    the per-case records the case tables are drawn from."""

    args: argparse.Namespace
    plan: MeasurePlan
    workdir: Path
    report: dict[str, object]
    tables: list[Table] = field(default_factory=list)
    records: list[CaseRecord] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        return self.report["errors"]  # type: ignore[return-value]

    def save(self) -> None:
        """Write the files after every measure, so a late failure keeps the earlier numbers."""
        from harness import bench

        if self.args.markdown:
            Path(self.args.markdown).write_text(bench.render_markdown(self.report, self.tables))
        if self.args.json and self.args.json != "-":
            Path(self.args.json).write_text(bench.render_json(self.report))

    def attempt(self, measure: str, body: Callable[[], None]) -> None:
        """A measure that fails (a broken case, a tool missing mid-run) is reported as an error
        and the other measures still run: one bad row must not cost the whole benchmark."""
        try:
            body()
        except Exception as exc:  # reported, not swallowed: the exit status becomes 1
            self.errors[measure] = f"{type(exc).__name__}: {exc}"
            _log(f"{measure} failed: {self.errors[measure]}")
        self.save()


def _finish(session: Session) -> int:
    """The load at the end, the files written a last time, the tables printed (with the
    errors under them); 1 when any measure failed."""
    from harness import bench

    args, report, errors = session.args, session.report, session.errors
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    report["load_average_at_end"] = [round(x, 2) for x in load]
    session.save()
    markdown = bench.render_markdown(report, session.tables)
    if errors:
        markdown += "\n### Errors\n\n" + "".join(f"- {k}: {v}\n" for k, v in errors.items())
        if args.markdown:
            Path(args.markdown).write_text(markdown)
    # With `--json -` stdout carries the JSON alone, so the tables go to stderr.
    print(markdown, end="", file=sys.stderr if args.json == "-" else sys.stdout)
    if args.json == "-":
        sys.stdout.write(bench.render_json(report))
    return 1 if errors else 0


# --------------------------------------------------------------------------- the measures


def _measure_all(session: Session) -> None:
    """Per-case measures (case × interpreter), then scaling, then the matrix, each attempted
    on its own so one failure leaves the others' numbers."""
    plan = session.plan
    if plan.wants("assembly", "startup", "syspath"):
        for case in plan.cases:
            for interp in plan.interpreters:
                if not case.supports(interp.version):
                    _log(f"{case.name}: skipping Python {interp.short_version} ({case.python})")
                    continue
                session.attempt(
                    f"{case.name} {interp.short_version}",
                    lambda c=case, i=interp: _measure_case(session, c, i),
                )
    if plan.wants("scaling"):
        session.attempt("scaling", lambda: _measure_scaling(session))
    if plan.wants("matrix"):
        session.attempt("matrix", lambda: _measure_matrix(session))


def _measure_case(session: Session, case: Case, interp: Interpreter) -> None:
    from harness import bench

    args = session.args
    record = bench.bench_case(
        case,
        interp,
        session.workdir / f"{case.name}-{interp.short_version}",
        runs=args.runs,
        startup_runs=args.startup_runs,
        startup_warmup=args.startup_warmup,
        only=session.plan.only,
        with_pip=not args.no_pip,
        user=session.plan.user,
        log=_log,
    )
    session.records.append(record)
    session.report["cases"] = [bench.case_record_json(r) for r in session.records]
    session.tables[:] = _case_tables(session.records, session.plan.only)


def _measure_scaling(session: Session) -> None:
    from harness import bench

    args, interp = session.args, session.plan.interpreters[0]
    planner_sizes, materialize_sizes, pth_sizes = session.plan.sizes
    measured = bench.bench_scaling(
        interp,
        session.workdir / "scaling",
        runs=args.runs,
        startup_runs=args.startup_runs,
        startup_warmup=args.startup_warmup,
        planner_sizes=planner_sizes,
        materialize_sizes=materialize_sizes,
        pth_sizes=pth_sizes,
        seed=args.seed,
        log=_log,
    )
    session.report["scaling"] = bench.scaling_json(measured)
    session.report["scaling_python"] = ".".join(map(str, interp.version))
    session.tables.append(bench.scaling_table(measured))


def _measure_matrix(session: Session) -> None:
    from harness import bench

    corpus, pythons = session.plan.corpus, session.plan.matrix_pythons
    jobs = session.args.jobs or os.cpu_count() or 1
    _log(f"matrix: {len(corpus)} cases × {len(pythons)} interpreters, -j {jobs}")
    measured = bench.bench_matrix(corpus, pythons, jobs, runs=session.args.matrix_runs)
    session.report["matrix"] = measured
    session.tables.append(bench.matrix_table(measured))


def _case_tables(records: list[CaseRecord], only: frozenset[str]) -> list[Table]:
    from harness import bench

    tables = []
    if "assembly" in only:
        tables.append(bench.assembly_table(records))
    if "startup" in only:
        tables.append(bench.startup_table(records))
    if "syspath" in only:
        tables.append(bench.syspath_table(records))
    return tables


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _from_cli() -> bool:
    """True when argv is `... bench ...` (the command line to quote in the report)."""
    return len(sys.argv) > 1 and sys.argv[1] == "bench"
