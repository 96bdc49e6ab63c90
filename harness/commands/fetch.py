"""`harness fetch [CASE|PIN]...`: download and verify what cases or pins need, in parallel."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.errors import HarnessError, OfflineError
from harness.model import Interpreter, Pin, WheelFile

if TYPE_CHECKING:
    from harness.supply.cache import WheelCache

DESCRIPTION = """\
Download every wheel file the given cases (default: every case under cases/) or pins need for
each --python interpreter, verify sha256 and size while streaming, and store it in the cache
(HARNESS_WHEELS_CACHE, default wheels_cache/). Prints `fetched` or `cached` per file and a
summary. Files already cached are re-verified, never downloaded again; with --offline (or
HARNESS_OFFLINE=1) nothing touches the network and every missing file is named.

Examples:
  harness fetch                                       every case, default interpreter
  harness fetch --python all                          every case, every CPython found
  harness fetch native-overlay-google-protobuf --python 3.9 --python 3.13
  harness fetch google==1.9.3 protobuf==6.33.5 --python 3.11
  HARNESS_OFFLINE=1 harness fetch                     check that the cache has everything

Exit status: 0 when every file is present and verified, 2 otherwise.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch",
        help="download and verify the wheels cases or pins need (parallel, cached)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "items",
        nargs="*",
        metavar="CASE|PIN",
        help="case names, NAME==VERSION pins or .whl paths (default: every case)",
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PY",
        help="target interpreter: X.Y, X.Y.Z, a path, default or all (repeatable)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="never touch the network (also HARNESS_OFFLINE=1)"
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=4, metavar="N", help="parallel downloads (default 4)"
    )
    parser.set_defaults(func=run)


def _work(
    items: Sequence[str], interps: Sequence[Interpreter], cache: WheelCache
) -> tuple[list[tuple[Interpreter, str, list[Pin]]], list[str]]:
    """(interpreter, what, pins) for each case or pin asked for, and the items that failed
    (every one is reported, so an offline run names all unknown pins at once)."""
    from harness import cases
    from harness.cases import words

    work: list[tuple[Interpreter, str, list[Pin]]] = []
    problems: list[str] = []
    if not items:
        for name in cases.case_names():
            try:
                case = cases.find_case(name)
            except HarnessError as exc:  # a broken case file is named; the others are fetched
                problems.append(str(exc))
                continue
            for interp in interps:
                if case.supports(interp.version):  # the case's `python`
                    work.append((interp, case.name, list(case.pins)))
        return work, problems
    for item in items:
        try:
            pins = words.pins_for_args([item], interps, cache=cache)
        except HarnessError as exc:
            problems.append(str(exc))
            continue
        work.extend((interp, item, pins) for interp in interps)
    return work, problems


def run(args: argparse.Namespace) -> int:
    from harness.supply import IndexResolver, cache_synthetic, select_file
    from harness.supply.cache import WheelCache, describe_wheel_file
    from harness.supply.interpreters import resolve_many

    interps = resolve_many(args.python)
    cache = WheelCache(offline=True if args.offline else None)
    work, problems = _work(args.items, interps, cache)
    wanted: dict[tuple[str, str], WheelFile] = {}
    for interp, what, pins in work:
        cache_synthetic(pins, cache)  # built from the case file, never downloaded
        for pin in pins:
            try:
                wheel_file = select_file(pin, interp)
            except HarnessError as exc:
                problems.append(f"{what} on Python {interp.short_version}: {exc}")
                continue
            wanted.setdefault((wheel_file.sha256, wheel_file.filename), wheel_file)
    if not wanted and not problems:
        print("nothing to fetch: no cases under cases/ and no pins given")
        return 0
    try:
        results = cache.fetch_all(list(wanted.values()), IndexResolver(cache=cache), jobs=args.jobs)
    except OfflineError as exc:
        problems.append(str(exc))
        results = []
    counts = {"fetched": 0, "cached": 0, "error": 0}
    for result in results:
        counts[result.status] += 1
        if result.error is not None:
            problems.append(str(result.error))
            print(f"error    {describe_wheel_file(result.wheel_file)}")
        else:
            print(f"{result.status:<8} {describe_wheel_file(result.wheel_file)}")
    for problem in problems:
        print(f"harness fetch: error: {problem}", file=sys.stderr)
    print(
        f"{len(results)} files for {', '.join(i.short_version for i in interps)}: "
        f"{counts['fetched']} fetched, {counts['cached']} cached, "
        f"{len(problems)} errors (cache: {cache.root})"
    )
    return 2 if problems else 0
