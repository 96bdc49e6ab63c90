"""`harness run`: the corpus (or some cases) × interpreters × engines, in parallel."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.config import env_flag
from harness.errors import HarnessError
from harness.model import ENGINES

EPILOG = """\
examples:
  harness run                                   every case, default interpreter, merge engine
  harness run native-overlay-google-protobuf    one case
  harness run --python all -j 2                 the matrix: every CPython `harness pythons` finds
  harness run --python 3.9 --python 3.13        two interpreters
  harness run --engine whole-tree               run the corpus against the old engine model
  harness run --json r.json --junit r.xml       machine-readable reports
  harness run --shard 2/4                       the second quarter of the work (for CI matrices)
  harness run --keep /tmp/venvs                 keep every venv to poke at afterwards

Each case also runs under every variant it `detects` (it must FAIL there); a case that does not
fail under its variant is reported as `undetected`. Exit status: 0 all pass, 1 findings,
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
        default="merge",
        choices=[e for e in ENGINES if e != "flat"],
        help="engine under test",
    )
    p.add_argument(
        "-j", "--jobs", type=int, default=0, metavar="N", help="parallel processes (default: cores)"
    )
    p.add_argument("--json", metavar="FILE", help="write the JSON report here (- for stdout)")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report here")
    p.add_argument("--shard", metavar="K/N", help="run only the K-th of N deterministic shards")
    p.add_argument("--keep", metavar="DIR", help="keep every venv under DIR instead of deleting it")
    p.add_argument(
        "--allow-unreviewed", action="store_true", help="run draft cases written by new-case"
    )
    p.add_argument("--slow", action="store_true", help="include slow cases (also HARNESS_SLOW=1)")
    p.add_argument(
        "--cases-dir", metavar="DIR", help="corpus directory (default: cases/ of this checkout)"
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the findings that confirmed each detected variant",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness import report, runner
    from harness.cases import discover_cases
    from harness.interpreters import resolve_many

    if args.jobs < 0:
        raise HarnessError(f"-j must be 0 (all cores) or a positive number, got {args.jobs}")
    cases = discover_cases(Path(args.cases_dir)) if args.cases_dir else discover_cases()
    if args.cases:
        known = {c.name: c for c in cases}
        missing = [n for n in args.cases if n not in known]
        if missing:
            raise HarnessError(
                f"unknown case(s) {', '.join(missing)}; known: {', '.join(sorted(known)) or 'none'}"
            )
        cases = [known[n] for n in args.cases]
    if not cases:
        raise HarnessError("no cases to run: the corpus directory holds no case.toml")
    drafts = [c.name for c in cases if c.raw.get("reviewed") is False]
    if drafts and not args.allow_unreviewed:
        raise HarnessError(
            f"case(s) {', '.join(drafts)} are unreviewed drafts (reviewed = false): review their "
            "expectations and set reviewed = true, or pass --allow-unreviewed"
        )
    interpreters = resolve_many(args.python or ["default"])

    from harness.expectations import parse_spec

    units = []
    for case in cases:
        spec = parse_spec(case.path, case.raw)
        for interp in interpreters:
            units.append(
                runner.Unit(
                    case,
                    interp,
                    runner.engines_for(spec, args.engine),
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
    text = report.details(results, detected=args.verbose)
    if text:
        print(file=human)
        print(text, file=human)
    print(file=human)
    print(report.summary_by_case(results), file=human)
    if args.json:
        doc = report.to_json_report(results)
        if args.json == "-":
            sys.stdout.write(doc)
        else:
            Path(args.json).write_text(doc)
    if args.junit:
        Path(args.junit).write_text(report.to_junit(results))
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
