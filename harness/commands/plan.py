"""`harness plan PIN_OR_WHEEL...`: show which wheel would own which path, and the rule why.

Nothing is written: the wheels are fetched, verified and read (RECORD only), then the pure
planner runs. Handy to see a collision shape before building a venv, and to diff two engines.
"""

from __future__ import annotations

import argparse
import sys

from harness.commands.common import add_engine_and_policy, add_python, add_wheels
from harness.engine.plan import DECISION_GROUPS, RULE_GROUPS, enforce_policy, plan
from harness.model import Decision, Plan, is_fault

HELP = "show the engine's plan for wheels in order: each path, its owner and the rule why"

DESCRIPTION = """\
Fetch (or take) each wheel, read its layout from RECORD and print the plan the engine would
follow: one line per decision, `path  rule  outcome -> winner  (claimants)`, grouped as
projections, merges, fallbacks, metadata, console scripts and data files, then the recorded
collisions. Nothing is written to disk besides the wheel cache and install trees.

Argument order is wheel order: on a collision the later wheel wins. PIN_OR_WHEEL is
`name==version` (the file matching --python's tags is chosen) or a path to a local .whl file.

The collision policy decides only whether collisions fail or print, never the plan: `error`
exits with status 2 on the first recorded collision (after printing the plan), `warning`
(default) prints each on stderr, `ignore` stays silent. Hard planning errors (two visible copies
of one distribution's metadata, a malformed data path) exit 2 whatever the policy.

Engines: merge (default), whole-tree (the engine before the fix), pth (every wheel a .pth
line), flat (pip-like install, the oracle), fault:NAME (merge with one known bug planted,
`harness faults --list`). --json prints the plan as stable JSON (the same
input gives byte-identical output).

Examples:
  harness plan google==1.9.3 protobuf==6.33.5 --python 3.11
  harness plan google==1.9.3 protobuf==6.33.5 --engine whole-tree
  harness plan PyJWT==2.10.1 jwt==1.4.0 --policy error
  harness plan ./dist/mypkg-1.0-py3-none-any.whl six==1.17.0 --json
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_wheels(parser)
    add_python(parser)
    add_engine_and_policy(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as stable JSON")
    parser.set_defaults(func=run)


def _decision_line(decision: Decision, width: int) -> str:
    arrow = f" -> {decision.winner}" if decision.winner else ""
    line = (
        f"{decision.path.ljust(width)}  {decision.rule}  {decision.outcome}{arrow}  "
        f"({', '.join(decision.claimants)})"
    )
    return f"{line}  {decision.detail}" if decision.detail else line


def render_plan(result: Plan) -> str:
    """The human view of a plan: decisions grouped by kind, then the recorded collisions."""
    lines = [
        f"plan: engine {result.engine}, {len(result.wheels)} wheels: {', '.join(result.wheels)}"
    ]
    grouped: dict[str, list[Decision]] = {group: [] for group in DECISION_GROUPS}
    for decision in result.decisions:
        grouped[RULE_GROUPS[decision.rule]].append(decision)
    for group, decisions in grouped.items():
        if not decisions:
            continue
        width = max(len(d.path) for d in decisions)
        lines.append(f"{group} ({len(decisions)}):")
        lines += [f"  {_decision_line(d, width)}" for d in decisions]
    if result.collisions:
        lines.append(f"collisions ({len(result.collisions)}):")
        lines += [f"  {c.kind}: {c.describe()}" for c in result.collisions]
    else:
        lines.append("collisions: (none)")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from harness.cases import words
    from harness.supply.interpreters import resolve

    interpreter = resolve(args.python)
    prepared = words.prepare_args(list(args.wheels), interpreter)
    wheels = [p.facts for p in prepared]
    if is_fault(args.engine):
        from harness.engine.faults import fault_named, fault_plan

        fault = fault_named(args.engine)
        result = fault_plan(args.engine, wheels)
        if fault.venv or fault.report:
            print(
                f"note: {args.engine} deviates after planning ({fault.deviation}); "
                "the plan below is what it writes before that",
                file=sys.stderr,
            )
    else:
        result = plan(wheels, args.engine)
    sys.stdout.write(result.to_json() if args.json else render_plan(result))
    sys.stdout.flush()
    for message in enforce_policy(result, args.policy):  # PolicyError → exit 2 in the CLI
        print(f"warning: {message}", file=sys.stderr)
    return 0
