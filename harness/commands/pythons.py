"""`harness pythons`: the target CPythons this machine has, as the harness sees them."""

from __future__ import annotations

import argparse
import os
import sys

from harness.model import to_json
from harness.supply.interpreters import discover, query

DESCRIPTION = """\
List every CPython 3.8+ found on PATH, under pyenv ($PYENV_ROOT or ~/.pyenv/versions) and by
`uv python list --only-installed`: one line per interpreter binary (real path), sorted by
version. The one running the harness (`--python default`) is marked with `*`. `--python all`
in other commands means exactly this list.

Examples:
  harness pythons
  harness pythons --json
  harness pythons --json --tags     include each interpreter's supported wheel tags
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pythons",
        help="list the target interpreters found on this machine",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print stable JSON")
    parser.add_argument(
        "--tags", action="store_true", help="with --json: include the supported wheel tags"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = discover()
    default = query(sys.executable).executable
    if args.json:
        rows = [
            {
                "default": interp.executable == default,
                "executable": interp.executable,
                "implementation": interp.implementation,
                "version": ".".join(map(str, interp.version)),
                **({"tags": list(interp.tags)} if args.tags else {}),
            }
            for interp in found
        ]
        sys.stdout.write(to_json(rows))
        return 0
    for interp in found:
        marker = "*" if interp.executable == default else " "
        version = ".".join(map(str, interp.version))
        print(f"{marker} {version:<8} {interp.executable}")
    if not found:
        print(f"no CPython 3.8+ found (PATH={os.environ.get('PATH', '')})", file=sys.stderr)
        return 2
    return 0
