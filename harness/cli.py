"""The `harness` command line: a thin layer over the stage modules.

Each sub-command lives in `harness/commands/<name>.py` and exposes `register(subparsers)`,
which adds its parser and sets `func(args) -> int`. Errors a user can fix are `HarnessError`s:
printed as one paragraph, exit status 2.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from harness import __version__
from harness.errors import HarnessError

# Order is the order `harness --help` lists them in: the data flow of a run.
COMMAND_MODULES = (
    "pythons",
    "fetch",
    "lock",
    "facts",
    "plan",
    "assemble",
    "probe",
    "check",
    "run",
    "faults",
    "new_case",
    "bench",
    "engines",
    "cache",
)

DESCRIPTION = """\
Prove a venv merge engine right with real wheels and real interpreters.

A run goes: pins (cases/<name>/case.toml) -> verified wheels (wheels_cache/) -> read-only install
trees -> a plan (which wheel owns which path, and why) -> a venv (virtualenv + symlinks, merged
directories, a .pth fallback) -> a probe inside the venv's own interpreter -> findings.

Typical use:
  harness run                          every case, default interpreter, merge engine
  harness run --python all -j 2        the matrix over every CPython found
  harness plan google==1.9.3 protobuf==6.33.5 --python 3.11
  harness assemble PyJWT==2.10.1 jwt==1.4.0 --python 3.11 --out /tmp/v

Environment: HARNESS_INDEX_URL (package index; default: pip's), HARNESS_WHEELS_CACHE (cache
directory), HARNESS_OFFLINE=1 (never touch the network).
Exit status: 0 ok, 1 findings, 2 usage, configuration or input errors.
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only` (a command's name), just that command's parser, so a
    command run imports its own module and not the other thirteen (a warm `harness assemble` is
    mostly imports: each module and what it imports at load time costs start-up)."""
    parser = argparse.ArgumentParser(
        prog="harness",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if only is None or only == name.replace("_", "-"):
            importlib.import_module(f"harness.commands.{name}").register(subparsers)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` runs, when it is a known one and comes first (anything else, such as
    `--help` or a misspelt command, gets the whole parser and its full message)."""
    if not argv or argv[0].startswith("-"):
        return None
    known = {name.replace("_", "-") for name in COMMAND_MODULES}
    return argv[0] if argv[0] in known else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except HarnessError as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130


def program() -> int:
    """`main()` as a process: the `harness` console script and `python -m harness`.

    Two settings of the cyclic garbage collector, for a process that imports tens of thousands
    of objects which all live until it exits. While it runs, the youngest generation is
    collected every 10 000 allocations instead of every 700: the imports no longer trigger a
    dozen collections that find nothing to free (~2.5 ms of a warm `harness assemble`), and a
    long command is still collected, just in larger steps. When the command is done,
    `gc.freeze()` moves every object still alive out of the collector's reach, so the
    collections the interpreter runs while it shuts down do not walk objects that are about to
    be freed anyway (~8 ms). Exit handlers still run and streams are flushed as usual. `main()`
    changes neither: tests and other programs call it in a long-lived process.
    """
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(program())
