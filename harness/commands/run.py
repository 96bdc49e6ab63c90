"""`harness run`: the corpus (or some cases) × interpreters × engines, in parallel."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.commands.common import absolute, absolute_or_stdout, selected_cases
from harness.config import env_flag
from harness.errors import HarnessError
from harness.model import ENGINES, is_fault

EPILOG = """\
examples:
  harness run                                   every case, default interpreter, merge engine
  harness run native-overlay-google-protobuf    one case
  harness run --python all -j 2                 the matrix: every CPython `harness pythons` finds
  harness run --python 3.9 --python 3.13        two interpreters
  harness run --engine whole-tree               run the corpus against the old engine model
  harness run --engine merge,uv-symlink,pex-venv   the engine matrix: cases down, engines across
  harness run --engine all --markdown docs/engines.md   every engine (and installed adapter)
  harness run --engine exec:./my-adapter        your own engine through the adapter protocol
  harness run --engine fault:console-first-wins the corpus against merge with one bug planted
  harness run --json r.json --junit r.xml       machine-readable reports
  harness run --shard 2/4                       the second quarter of the work (for CI matrices)
  harness run --keep /tmp/venvs                 keep every venv to poke at afterwards

Each case also runs under every variant it `detects` (it must FAIL there); a case that does not
fail under its variant is reported as `undetected`. Engines: the harness's own (merge,
whole-tree, pth, flat), its fault variants (fault:NAME, `harness faults --list`; one that changes
nothing in a case's venv is reported `unexercised`), every adapter `harness engines` lists, and
exec:PATH (docs/adapters.md).
An engine that refuses a wheel set is reported as `refused`: accepted only where the case
declares it ([[expect.refusal]]), never a pass. Exit status: 0 all pass, 1 findings,
2 usage, configuration or input errors.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="run cases x interpreters x engines and check every venv",
        description="Assemble each case's venv, probe it inside its own interpreter, and check the "
        "concrete projection against runtime, the flat oracle and the case's expectations.",
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
        help="interpreter: all, X.Y, X.Y.Z or a path (repeatable; default: the one running harness)",
    )
    p.add_argument(
        "--engine",
        action="append",
        metavar="E[,E...]",
        help="engine(s) under test, comma-separated or repeated: merge (default), whole-tree, "
        "pth, flat, fault:NAME, an adapter from `harness engines`, exec:PATH, or all",
    )
    p.add_argument(
        "-j", "--jobs", type=int, default=0, metavar="N", help="parallel processes (default: cores)"
    )
    p.add_argument(
        "--json",
        metavar="FILE",
        type=absolute_or_stdout,
        help="write the JSON report here (- for stdout)",
    )
    p.add_argument("--junit", metavar="FILE", type=absolute, help="write a JUnit XML report here")
    p.add_argument(
        "--markdown",
        metavar="FILE",
        type=absolute,
        help="write the engine matrix as Markdown (in an existing file, only its generated block)",
    )
    p.add_argument("--shard", metavar="K/N", help="run only the K-th of N deterministic shards")
    p.add_argument(
        "--keep",
        metavar="DIR",
        type=absolute,
        help="keep every venv under DIR instead of deleting it",
    )
    p.add_argument(
        "--allow-unreviewed", action="store_true", help="run draft cases written by new-case"
    )
    p.add_argument("--slow", action="store_true", help="include slow cases (also HARNESS_SLOW=1)")
    p.add_argument(
        "--cases-dir",
        metavar="DIR",
        type=absolute,
        help="corpus directory (default: cases/ of this checkout)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the findings that confirmed each detected variant",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.run import report, runner
    from harness.supply.interpreters import resolve_many

    if args.jobs < 0:
        raise HarnessError(f"-j must be 0 (all cores) or a positive number, got {args.jobs}")
    cases = selected_cases(args)
    interpreters = resolve_many(args.python or ["default"])
    engines = engines_asked(args.engine)

    units = []
    for case in cases:
        for interp in interpreters:
            units.append(
                runner.Unit(
                    case,
                    interp,
                    runner.engines_for(case, engines),
                    keep=args.keep,
                    slow_ok=args.slow or env_flag("HARNESS_SLOW"),
                )
            )
    units = runner.shard(units, args.shard)
    _prefetch(units)
    jobs = args.jobs or os.cpu_count() or 1
    progress = runner.Progress(total=len(units))
    results = runner.run_units(units, jobs=jobs, on_result=progress.update)

    # With --json -, stdout carries the JSON document alone; the human report goes to stderr.
    human = sys.stderr if args.json == "-" else sys.stdout
    print(report.table(results), file=human)
    if len(engines) > 1:
        print(file=human)
        print(report.matrix_text(_asked(results, engines)), file=human)
    text = report.details(results, detected=args.verbose)
    if text:
        print(file=human)
        print(text, file=human)
    print(file=human)
    print(report.summary_by_case(results), file=human)
    print(file=human)
    print(report.coverage_text(results), file=human)
    if args.json:
        doc = report.to_json_report(results)
        if args.json == "-":
            sys.stdout.write(doc)
        else:
            Path(args.json).write_text(doc)
    if args.junit:
        Path(args.junit).write_text(report.to_junit(results))
    if args.markdown:
        report.write_markdown(args.markdown, _asked(results, engines), _command_line(args, engines))
    if any(r.status == "error" for r in results) and not any(r.findings for r in results):
        return 2
    return 0 if all(r.ok for r in results) else 1


def _prefetch(units) -> None:
    """Download and unpack every wheel once, up front, so workers only read the cache."""
    from harness import supply

    for unit in units:
        try:
            supply.prepare([*unit.case.support, *unit.case.wheels], unit.interpreter)
        except HarnessError:
            continue  # reported per unit as an error with its own message


def engines_asked(values: list[str] | None) -> tuple[str, ...]:
    """`--engine` words to engine names, in order: commas split, `all` expands to the harness's
    engines and every available adapter; an unknown name is a usage error naming the known."""
    from harness import adapters

    words = [w.strip() for v in values or ["merge"] for w in v.split(",") if w.strip()]
    known = adapters.discover()
    engines: list[str] = []
    for word in words:
        if word == "all":
            engines += [*ENGINES, *(n for n, info in sorted(known.items()) if info.available)]
        elif word.startswith("exec:"):
            engines.append("exec:" + os.path.abspath(word.removeprefix("exec:")))
        elif word in ENGINES:
            engines.append(word)
        elif is_fault(word):
            from harness.engine.faults import fault_named

            engines.append(fault_named(word).engine)
        elif word in known:
            if not known[word].available:
                raise HarnessError(
                    f"engine {word} is not available here: {known[word].why_unavailable}"
                )
            engines.append(word)
        else:
            raise HarnessError(
                f"unknown engine {word!r}; known: {', '.join([*ENGINES, *sorted(known)])}, "
                "exec:PATH, fault:NAME or all (see `harness engines`, `harness faults --list`)"
            )
    return tuple(dict.fromkeys(engines))


def _command_line(args: argparse.Namespace, engines) -> str:
    words = ["harness", "run", "--engine", ",".join(engines)]
    if args.python:
        words += [f"--python {p}" for p in args.python]
    return " ".join(words + list(args.cases))


def _asked(results, engines) -> list:
    """The engine matrix shows the engines asked for; a case's `detects` variants, run beside
    them to prove the case's power, are in the table and the JSON report, not in the matrix."""
    return [r for r in results if r.engine in engines]
