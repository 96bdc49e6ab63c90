"""`harness faults`: run every fault variant over the corpus and print who catches what.

A fault is the merge engine with one known bug planted (`harness.engine.faults`). The corpus
is what an engine author runs, so the corpus must catch each of them: this command builds every
case once under `merge` (the baseline) and once under each fault, judges every venv like any
engine's (A1-A8 and the case's expectations), and prints the detection matrix, faults down and
cases across, with the rules that caught each fault. It exits 1 when some fault is detected by
no case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.commands.common import absolute, selected_cases
from harness.config import env_flag
from harness.errors import HarnessError

HELP = "run every fault variant over the corpus: which case catches which planted bug, and how"

EPILOG = """\
examples:
  harness faults                          every fault over the corpus, default interpreter
  harness faults -j 2 --json f.json       in two processes, with the matrix as JSON
  harness faults --fault console-first-wins --fault merge-reversed
  harness faults regular-merge-jwt-pyjwt-jwt native-overlay-google-protobuf
  harness faults --list                   the faults, each with the bug it plants and where from

A cell of the matrix: D detected (the case fails under the fault while it passes under merge;
the rules that caught it are listed below the matrix), o exercised but not detected (the venv
differs from merge's and the case still passes: a blind spot), . not exercised (the fault
changes nothing in this case's venv), ! merge itself does not pass this case (nothing can be
attributed to the fault), - skipped (interpreter or slow case), E error.
Exit status: 0 every fault is detected by some case, 1 some fault is detected by none (named),
2 usage, configuration or input errors.
"""

SYMBOLS = {
    "detected": "D",
    "undetected": "o",
    "unexercised": ".",
    "baseline": "!",
    "skip": "-",
    "error": "E",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "faults",
        help=HELP,
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "cases", nargs="*", metavar="CASE", help="case names (default: every case under cases/)"
    )
    p.add_argument(
        "--python",
        default="default",
        metavar="PY",
        help="interpreter: X.Y, X.Y.Z or a path (default: the one running harness)",
    )
    p.add_argument(
        "--fault",
        action="append",
        metavar="NAME",
        help="only this fault (repeatable; `fault:` prefix optional; default: every fault)",
    )
    p.add_argument(
        "-j", "--jobs", type=int, default=0, metavar="N", help="parallel processes (default: cores)"
    )
    p.add_argument("--json", metavar="FILE", help="write the matrix as JSON here (- for stdout)")
    p.add_argument("--list", action="store_true", help="list the faults and exit")
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
    p.set_defaults(func=run)


# --------------------------------------------------------------------------- the matrix


@dataclass
class FaultRow:
    """One fault across the cases: each case's cell, and the rules where it was detected."""

    name: str
    cells: dict[str, str] = field(default_factory=dict)  # case -> key of SYMBOLS
    rules: dict[str, list[str]] = field(default_factory=dict)  # case -> rules (detected only)
    details: dict[str, str] = field(default_factory=dict)  # case -> why (errors, baseline)

    def cases(self, cell: str) -> list[str]:
        return [case for case, c in self.cells.items() if c == cell]


def matrix(results: Sequence, faults: Sequence[str]) -> tuple[list[str], list[FaultRow]]:
    """(cases, one row per fault) from a run's results: `merge` on each case is the baseline,
    and a fault is detected by a case only where merge passes it and the fault does not."""
    cases = sorted({r.case for r in results})
    baseline = {r.case: r for r in results if r.engine == "merge"}
    rows = []
    for name in faults:
        row = FaultRow(name)
        mine = {r.case: r for r in results if r.engine == f"fault:{name}"}
        for case in cases:
            r, base = mine.get(case), baseline.get(case)
            if r is None or r.status == "skip":
                row.cells[case] = "skip"
            elif r.status == "error":
                row.cells[case] = "error"
                row.details[case] = " ".join(r.detail.split())[:200]
            elif r.status == "unexercised" or r.detail.startswith("not exercised"):
                row.cells[case] = "unexercised"
            elif base is None or not base.ok or base.status not in ("pass", "refused"):
                # merge must pass the case (or refuse it as the case declares) for a finding
                # under the fault to be the fault's
                row.cells[case] = "baseline"
                row.details[case] = f"merge: {base.status if base else 'not run'}"
            elif r.findings:
                row.cells[case] = "detected"
                row.rules[case] = sorted({f.rule for f in r.findings})
            else:
                row.cells[case] = "undetected"
        rows.append(row)
    return cases, rows


def render(cases: Sequence[str], rows: Sequence[FaultRow], interpreter: str) -> str:
    """The matrix for a terminal: faults down, case numbers across, then one block per fault."""
    width = max([len("fault"), *(len(r.name) for r in rows)])
    digits = len(str(len(cases)))
    lines = [
        f"fault detection matrix: {len(rows)} faults x {len(cases)} cases on CPython {interpreter}",
        "  D detected  o exercised, not detected  . not exercised  ! merge fails the case  "
        "- skipped  E error",
        "",
        "cases:",
        *(f"  {i:>{digits}}  {case}" for i, case in enumerate(cases, 1)),
        "",
    ]
    for power in reversed(range(digits)):  # case numbers written vertically, one digit a line
        head = " ".join(
            str(i // 10**power % 10) if i >= 10**power else " " for i in range(1, len(cases) + 1)
        )
        lines.append(f"{'':<{width}}  {head}   " + ("detected by" if power == 0 else ""))
    for row in rows:
        cells = " ".join(SYMBOLS[row.cells[c]] for c in cases)
        count = len(row.cases("detected"))
        lines.append(f"{row.name:<{width}}  {cells}   {count} case{'s' if count != 1 else ''}")
    lines.append("")
    for row in rows:
        detected = row.cases("detected")
        lines.append(
            f"{row.name}: detected by {len(detected)} case{'s' if len(detected) != 1 else ''}"
        )
        for case in detected:
            lines.append(f"    {case} ({', '.join(row.rules[case])})")
        missed = row.cases("undetected")
        if missed:
            lines.append(f"  exercised, not detected: {', '.join(missed)}")
        for kind in ("baseline", "error"):
            for case in row.cases(kind):
                lines.append(f"  {SYMBOLS[kind]} {case}: {row.details.get(case, '')}")
    return "\n".join(lines)


def to_json(cases: Sequence[str], rows: Sequence[FaultRow], interpreter: str) -> str:
    from harness.engine.faults import FAULTS

    doc = {
        "schema": 1,
        "interpreter": interpreter,
        "cases": list(cases),
        "faults": [
            {
                "name": row.name,
                "engine": f"fault:{row.name}",
                "paragraph": FAULTS[row.name].paragraph,
                "deviation": FAULTS[row.name].deviation,
                "cells": {case: row.cells[case] for case in cases},
                "detected_by": {case: row.rules[case] for case in row.cases("detected")},
                "details": dict(sorted(row.details.items())),
            }
            for row in rows
        ],
        "undetected": [row.name for row in rows if not row.cases("detected")],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def listing() -> str:
    import textwrap

    from harness.engine.faults import FAULTS

    lines = []
    for fault in FAULTS.values():
        lines.append(f"fault:{fault.name}")
        lines.append(f"  deviation: {fault.deviation}")
        lines += textwrap.wrap(fault.paragraph, 98, initial_indent="  ", subsequent_indent="  ")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- running


def run(args: argparse.Namespace) -> int:
    from harness import supply
    from harness.engine.faults import FAULTS, fault_named
    from harness.run import runner
    from harness.supply.interpreters import resolve

    if args.list:
        sys.stdout.write(listing())
        return 0
    if args.jobs < 0:
        raise HarnessError(f"-j must be 0 (all cores) or a positive number, got {args.jobs}")
    names = [fault_named(n).name for n in args.fault] if args.fault else list(FAULTS)
    cases = selected_cases(args)
    interp = resolve(args.python)
    engines = ("merge", *(f"fault:{n}" for n in names))
    units = []
    for case in cases:  # a broken case file was a usage error when it was read
        units.append(
            runner.Unit(case, interp, engines, slow_ok=args.slow or env_flag("HARNESS_SLOW"))
        )
    for unit in units:  # download and unpack once, up front: workers only read the cache
        try:
            supply.prepare([*unit.case.support, *unit.case.wheels], unit.interpreter)
        except HarnessError:
            continue  # reported per unit as an error with its own message
    progress = runner.Progress(total=len(units))
    results = runner.run_units(
        units, jobs=args.jobs or os.cpu_count() or 1, on_result=progress.update
    )
    version = ".".join(map(str, interp.version))
    case_names, rows = matrix(results, names)
    human = sys.stderr if args.json == "-" else sys.stdout
    print(render(case_names, rows, version), file=human)
    if args.json:
        doc = to_json(case_names, rows, version)
        if args.json == "-":
            sys.stdout.write(doc)
        else:
            Path(args.json).write_text(doc)
    undetected = [row.name for row in rows if not row.cases("detected")]
    thin = [row.name for row in rows if len(row.cases("detected")) == 1]
    print(file=human)
    if thin:
        print(f"detected by one case only: {', '.join(thin)}", file=human)
    if undetected:
        print(f"detected by no case: {', '.join(undetected)}", file=human)
        return 1
    print(f"every fault is detected by at least one case ({len(rows)} faults)", file=human)
    return 0
