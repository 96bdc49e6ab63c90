"""`harness new-case`: draft a corpus case from pins or a lock file, for a person to review."""

from __future__ import annotations

import argparse

from harness.commands.common import absolute_path
from harness.errors import HarnessError

EPILOG = """\
examples:
  harness new-case regular-union-pyjwt-jwt PyJWT==2.10.1 jwt==1.4.0
  harness new-case otel-xds --from uv.lock --only xds-protos --only opentelemetry-sdk
  harness new-case import-google google==1.9.3 --resolve-support --python 3.11

It locks the pins, fetches them, runs them under merge, flat and whole-tree on the first
--python, and writes cases/NAME/case.toml with reviewed = false: premise facts, runtime owners,
recorded collisions, fallbacks, metadata and flat differences, each explained as DRAFT. Review
it (README: "Adding a case"), then `harness run NAME`.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "new-case",
        help="draft cases/NAME/case.toml from pins or a lock file (reviewed = false)",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", help="case name, <shape>-<packages>")
    p.add_argument(
        "pins", nargs="*", metavar="PIN", help="NAME==VERSION or a .whl path, in wheel order"
    )
    p.add_argument(
        "--python",
        action="append",
        metavar="PY",
        help="interpreters to lock files for (first runs the draft)",
    )
    p.add_argument(
        "--from",
        dest="lockfile",
        metavar="LOCK",
        type=absolute_path,
        help="take pins from uv.lock or pylock.toml",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="with --from: keep only these packages",
    )
    p.add_argument(
        "--resolve-support",
        action="store_true",
        help="add what pip's resolver says a real import needs as [[support]]",
    )
    p.add_argument(
        "--cases-dir", type=absolute_path, help="where to write (default: cases/ of this checkout)"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing case.toml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.cases import default_cases_root
    from harness.run.newcase import draft_case, pins_from_lockfile, resolve_support, write_case
    from harness.supply import lock
    from harness.supply.interpreters import resolve_many

    if bool(args.pins) == bool(args.lockfile):
        raise HarnessError("give either pins (NAME==VERSION ...) or --from LOCKFILE")
    interps = resolve_many(args.python or ["default"])
    if args.lockfile:
        pins = pins_from_lockfile(args.lockfile, interps, args.only)
    else:
        pins = lock(args.pins, interps)
    support = []
    if args.resolve_support:
        extra = resolve_support([f"{p.name}=={p.version}" for p in pins], interps[0])
        support = lock(extra, interps) if extra else []
    text = draft_case(args.name, pins, support, interps)
    path = write_case(args.cases_dir or default_cases_root(), args.name, text, force=args.force)
    print(
        f"wrote {path} (reviewed = false): review it, then `harness run {args.name} --allow-unreviewed`"
    )
    return 0
