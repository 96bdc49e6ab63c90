"""Arguments several commands share, declared once so they read and behave the same."""

from __future__ import annotations

import argparse

from harness.model import ENGINES, POLICIES


def add_wheels(parser: argparse.ArgumentParser) -> None:
    """Positional PIN_OR_WHEEL words, in wheel order."""
    parser.add_argument(
        "wheels",
        nargs="+",
        metavar="PIN_OR_WHEEL",
        help="`name==version` or a path to a .whl file, in wheel order",
    )


def add_python(parser: argparse.ArgumentParser) -> None:
    """One target interpreter, whose tags pick each pin's file."""
    parser.add_argument(
        "--python",
        default="default",
        metavar="PY",
        help="target interpreter whose tags pick each pin's file (3.11, 3.11.7, python3.11, "
        "a path; default: the one running harness)",
    )


def add_engine_and_policy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine", default="merge", choices=ENGINES, help="engine variant (default: merge)"
    )
    parser.add_argument(
        "--policy",
        default="warning",
        choices=POLICIES,
        help="collision policy: error fails on the first recorded collision, warning prints "
        "them (default), ignore stays silent; never changes the plan",
    )
