"""`harness probe VENV MODULE...`: ask a venv's own interpreter where modules come from."""

from __future__ import annotations

import argparse

from harness.commands.common import absolute_path
from harness.model import to_json
from harness.observe.runtime import ModuleReport, ProbeReport, run_probe, venv_python

HELP = "ask a venv's interpreter where modules come from (no package code unless --import)"

DESCRIPTION = """\
Run the runtime probe inside VENV's own interpreter (-E -s -B, empty working directory, clean
environment) and print, for each MODULE, its status (found, not-found, error), kind (module,
extension, package, namespace, builtin, frozen), origin with its realpath and its search
locations, then the interpreter's sys.path.

MODULE names are *resolved*: the path finder is emulated from sys.path and the parents' search
locations, so no package code runs. Names given with --import are really imported (package code
runs; errors are reported with their type and message).

Examples:
  harness probe /tmp/v google google.protobuf
  harness probe /tmp/v jwt --import jwt
  harness probe /tmp/v google.protobuf --json > report.json
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "venv", type=absolute_path, metavar="VENV", help="a venv directory (bin/python)"
    )
    parser.add_argument(
        "modules", nargs="*", metavar="MODULE", help="dotted names to resolve (no code runs)"
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="really import MODULE (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the probe report as JSON")
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds before the probe is stopped"
    )
    parser.set_defaults(func=run)


def _describe(module: ModuleReport) -> list[str]:
    head = f"{module.name} [{module.mode}] {module.status}"
    if module.kind:
        head += f" {module.kind}"
    if module.preloaded:
        head += " (imported at start-up)"
    lines = [head]
    if module.origin:
        real = module.origin_realpath
        shown = module.origin if not real or real == module.origin else f"{module.origin} -> {real}"
        lines.append(f"    origin: {shown}")
    for seen, real in zip(
        module.search_locations or (), module.search_locations_realpaths or (), strict=False
    ):
        lines.append(f"    search: {seen}" + ("" if seen == real else f" -> {real}"))
    if module.error:
        lines.append(f"    error: {module.error.type}: {module.error.message}")
    return lines


def render(report: ProbeReport) -> str:
    """The human-readable report: modules, then sys.path."""
    interp = report.interpreter
    version = ".".join(str(v) for v in interp.version)
    lines = [f"interpreter: {interp.executable} ({interp.implementation} {version})"]
    for module in report.modules:
        lines.extend(_describe(module))
    lines.append("sys.path:")
    for index, entry in enumerate(report.sys_path):
        note = "" if entry.exists else " (missing)"
        real = "" if entry.realpath == entry.entry else f" -> {entry.realpath}"
        lines.append(f"  {index:2d} {entry.entry}{real}{note}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    python = venv_python(args.venv)
    report = run_probe(python, resolve=args.modules, imports=args.imports, timeout=args.timeout)
    print(to_json(report) if args.json else render(report), end="")
    return 0
