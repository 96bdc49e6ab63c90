"""`harness cache verify`: re-hash every install tree against its RECORD (and the bytecode the
harness compiled against its manifest), list every extra, missing or changed file."""

from __future__ import annotations

import argparse
import json
import sys

from harness.commands.common import absolute_path

DESCRIPTION = """\
Install trees are unpacked once, read-only, and shared by every venv of every interpreter, so
nothing may ever write into them. `verify` proves it: for every tree under the trees directory it
re-derives what the tree must hold from facts (the files its RECORD lists, with RECORD's hashes
and sizes; RECORD itself equal to the wheel's; the bytecode the harness compiled, by the sha256
its manifest records) and lists every extra, missing, changed or writable file. Cached wheel
files are re-hashed against the sha256 they are filed under. Trees of an older format are listed
as outdated (nothing uses them; each is rebuilt when its wheel is next prepared).

Exit status: 0 when everything matches, 1 when anything differs, 2 on usage errors.

examples:
  harness cache verify                    the configured cache (HARNESS_WHEELS_CACHE, HARNESS_TREES)
  harness cache verify --trees /tmp/trees a trees directory of its own (no wheel files checked)
  harness cache verify --json             the differences as JSON
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cache",
        help="verify the wheel cache and install trees (nothing wrote into them)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="re-hash every tree against its RECORD and bytecode manifest; exit 1 on a difference",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "--trees",
        metavar="DIR",
        type=absolute_path,
        help="the trees directory (default: HARNESS_TREES, else <cache>/trees); with it, "
        "cached wheel files are not checked",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness import config
    from harness.model import to_plain
    from harness.supply.treeverify import verify_trees

    if args.trees is not None:
        report = verify_trees(args.trees)
    else:
        report = verify_trees(config.trees_dir(), config.cache_dir())
    if args.json:
        doc = {**to_plain(report), "ok": report.ok}
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        return 0 if report.ok else 1
    for difference in report.differences:
        print(difference.render())
    if report.outdated:
        print(
            f"{len(report.outdated)} tree(s) of an older format under {report.trees_root} "
            "(not used; each is rebuilt when its wheel is next prepared)"
        )
    verdict = "everything matches" if report.ok else f"{len(report.differences)} difference(s)"
    print(
        f"{report.trees} tree(s) and {report.wheels} wheel file(s) verified under "
        f"{report.trees_root}: {verdict}"
    )
    return 0 if report.ok else 1
