"""`harness lock NAME==VERSION...`: pin every wheel file a case needs, as a case fragment."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from harness.cases.pins import pin_fragment_toml
from harness.errors import HarnessError

DESCRIPTION = """\
Ask the configured package index for every file of each exact pin and print `[[wheels]]`
tables (name, version, one {filename, sha256, size} per wheel file) ready to paste into a
cases/<name>/case.toml. With --python, only wheel files that at least one of those
interpreters can install are kept (give each interpreter the case runs on); without it, every
wheel of the version is kept. A version with no wheels (source distribution only) is an error.
Files the index lists without a size are downloaded into the cache to measure them.

Examples:
  harness lock google==1.9.3 protobuf==6.33.5 --python 3.9 --python 3.13
  harness lock PyJWT==2.10.1 jwt==1.4.0 --label pyjwt --label jwt
  harness lock six==1.17.0 --support       a wheel a real import needs, as [[support]]
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lock",
        help="print pinned [[wheels]] tables (sha256, size per file) for NAME==VERSION pins",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pins", nargs="+", metavar="NAME==VERSION", help="exact pins")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PY",
        help="keep files this interpreter accepts (X.Y, X.Y.Z, a path, all; repeatable)",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="LABEL",
        help="plan label for each pin, in pin order (give one per pin; '' for none)",
    )
    parser.add_argument(
        "--support", action="store_true", help="write [[support]] tables instead of [[wheels]]"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="use only what earlier runs remembered (also HARNESS_OFFLINE=1)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.supply import lock
    from harness.supply.cache import WheelCache
    from harness.supply.interpreters import resolve_many

    if args.label and len(args.label) != len(args.pins):
        raise HarnessError(
            f"--label was given {len(args.label)} times for {len(args.pins)} pins; give one "
            "label per pin, in the same order ('' keeps the default)"
        )
    interps = resolve_many(args.python) if args.python else []
    cache = WheelCache(offline=True if args.offline else None)
    pins = lock(args.pins, interps, cache=cache)
    if args.label:
        pins = [
            dataclasses.replace(pin, label=label or None)
            for pin, label in zip(pins, args.label, strict=True)
        ]
    targets = ", ".join(i.short_version for i in interps) or "any interpreter"
    sys.stdout.write(f"# harness lock {' '.join(args.pins)} (files for {targets})\n")
    sys.stdout.write(pin_fragment_toml(pins, "support" if args.support else "wheels"))
    return 0
