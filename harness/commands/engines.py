"""`harness engines`: the in-process engines and every adapter found, with availability."""

from __future__ import annotations

import argparse
import sys

from harness import adapters
from harness.model import ENGINES, to_json

# One line each for the in-process engines (engine-contract.md §7).
IN_PROCESS = {
    "merge": "ours, the default: symlinks, merged directories, a .pth fallback",
    "whole-tree": "a model of the engine before the collision fix (last claimant whole)",
    "pth": "no projection at all: every wheel is a .pth line",
    "flat": "every wheel installed in order into one directory, as pip does: the oracle",
}

DESCRIPTION = """\
List the engines the harness can run: its in-process engines (merge, whole-tree, pth, flat) and
every adapter for a third-party tool, found as an entry point of the group `harness.engines`
(the built-in ones for pex and uv are declared there too). An adapter is available when the
tool it drives is installed; otherwise the reason is shown. Any executable that speaks the
adapter protocol can also be named directly as `exec:PATH` (docs/adapters.md).

Examples:
  harness engines
  harness engines --json
  pip install 'venv-merge-harness[engines]'     installs pex and uv for the built-in adapters
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "engines",
        help="list in-process engines and third-party engine adapters",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print stable JSON")
    parser.set_defaults(func=run)


def rows() -> list[dict]:
    found = [
        {
            "name": name,
            "kind": "in-process",
            "source": "harness",
            "available": True,
            "why_unavailable": "",
            "description": IN_PROCESS.get(name, ""),
        }
        for name in ENGINES
    ]
    for info in adapters.discover().values():
        found.append(
            {
                "name": info.name,
                "kind": "adapter",
                "source": info.source,
                "available": info.available,
                "why_unavailable": info.why_unavailable,
                "description": info.description,
            }
        )
    return found


def run(args: argparse.Namespace) -> int:
    found = rows()
    if args.json:
        sys.stdout.write(to_json({"schema": 1, "engines": found}))
        return 0
    width = max(len(r["name"]) for r in found)
    for kind, title in (
        ("in-process", "in-process engines:"),
        ("adapter", f"adapters (entry-point group {adapters.GROUP}; or exec:PATH):"),
    ):
        print(title)
        listed = [r for r in found if r["kind"] == kind]
        for r in listed:
            state = "available" if r["available"] else "unavailable"
            print(f"  {r['name']:<{width}}  {state:<11}  {r['source']}: {r['description']}")
            if not r["available"]:
                print(f"  {'':<{width}}  {'':<11}  why: {r['why_unavailable']}")
        if not listed:
            print("  (none installed)")
        if kind == "in-process":
            from harness.engine.faults import FAULTS

            print(
                f"  {'fault:NAME':<{width}}  {'available':<11}  harness: the merge engine with one "
                f"known bug planted ({len(FAULTS)} faults: `harness faults --list`)"
            )
    return 0
