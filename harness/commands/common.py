"""Arguments several commands share, declared once so they read and behave the same."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.errors import HarnessError
from harness.model import ENGINES, POLICIES, is_fault


def absolute(text: str) -> str:
    """argparse `type` of every path argument: made absolute from the caller's working
    directory at parse time, before anything runs in another directory (the probe runs in a
    temporary one, workers and subprocesses may too), so `./v`, `v` and `../x` mean what the
    user typed. `~` is expanded as a shell would; symlinks are kept (a venv's bin/python is one).
    """
    return os.path.abspath(os.path.expanduser(text))


def absolute_path(text: str) -> Path:
    """`absolute`, as a Path."""
    return Path(absolute(text))


def absolute_or_stdout(text: str) -> str:
    """`absolute`, except `-`, which means standard output."""
    return text if text == "-" else absolute(text)


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


def engine_name(word: str) -> str:
    """An in-process engine: one of ENGINES or a fault variant `fault:NAME`.

    argparse runs this on the default too, so the fault catalogue (and the engine it imports)
    is imported only for a `fault:` word: `harness assemble` without one never loads them."""
    if word in ENGINES:
        return word
    if is_fault(word):
        from harness.engine.faults import fault_named

        try:
            fault_named(word)
        except HarnessError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return word
    raise argparse.ArgumentTypeError(
        f"invalid choice: {word!r} (choose from {', '.join(ENGINES)}, or fault:NAME; "
        "`harness faults --list` names the faults)"
    )


def add_engine_and_policy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        default="merge",
        type=engine_name,
        metavar="ENGINE",
        help=f"engine variant: {', '.join(ENGINES)}, or fault:NAME, the merge engine with one "
        "known bug planted (default: merge)",
    )
    parser.add_argument(
        "--policy",
        default="warning",
        choices=POLICIES,
        help="collision policy: error fails on the first recorded collision, warning prints "
        "them (default), ignore stays silent; never changes the plan",
    )


def selected_cases(args: argparse.Namespace) -> list:
    """The cases a corpus command was asked for (`CASE...`, `--cases-dir`), in corpus order
    unless named; unknown names, an empty corpus and unreviewed drafts without
    `--allow-unreviewed` are usage errors that say what to do."""
    from harness.cases import discover_cases

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
    drafts = [c.name for c in cases if not c.reviewed]
    if drafts and not args.allow_unreviewed:
        raise HarnessError(
            f"case(s) {', '.join(drafts)} are unreviewed drafts (reviewed = false): review their "
            "expectations and set reviewed = true, or pass --allow-unreviewed"
        )
    return cases
