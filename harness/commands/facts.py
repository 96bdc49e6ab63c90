"""`harness facts PIN_OR_WHEEL...`: the layout facts the merge engine reads from each wheel."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.commands.common import add_python, add_wheels
from harness.model import PreparedWheel, WheelFacts, to_json

HELP = "show a wheel's layout facts: top-levels, namespace entries, native roots, scripts"

DESCRIPTION = """\
Fetch (or take) each wheel, check it against its RECORD, unpack it into its read-only install
tree and print the layout facts the merge engine plans from (docs/engine-contract.md §1.3): top-levels
(regular package, regular module file, namespace, metadata), namespace entries and directories,
regular roots below namespaces, native roots, console scripts, data files and root .pth files.

PIN_OR_WHEEL is `name==version` (the file matching --python's tags is chosen) or a path to a
local .whl file.

Examples:
  harness facts protobuf==6.33.5 --python 3.11
  harness facts google==1.9.3 --json
  harness facts dist/mypkg-1.0-py3-none-any.whl
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "facts",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_wheels(parser)
    add_python(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the facts of every wheel as stable JSON"
    )
    parser.set_defaults(func=run)


def _kind(facts: WheelFacts, top_level: str) -> str:
    if top_level in facts.metadata_top_levels:
        return "metadata"
    if top_level in facts.namespace_top_levels:
        return "namespace"
    if top_level in facts.top_level_dirs:
        return "regular package"
    return "regular module file"


def _block(title: str, values: Sequence[str]) -> list[str]:
    if not values:
        return [f"  {title}: (none)"]
    return [f"  {title}:", *(f"    {v}" for v in values)]


def render(prepared: PreparedWheel) -> str:
    """One wheel's facts, one labelled list per fact, for a human reading a collision."""
    facts = prepared.facts
    width = max((len(t) for t in facts.top_levels), default=0)
    lines = [
        f"{facts.label}",
        f"  distribution: {facts.name} {facts.version} ({facts.dist_info})",
        f"  file: {prepared.path}",
        f"  sha256: {facts.sha256}",
        f"  install tree: {prepared.tree.root}",
    ]
    if facts.top_levels:
        lines.append("  top-levels:")
        lines.extend(f"    {t.ljust(width)}  {_kind(facts, t)}" for t in facts.top_levels)
    else:
        lines.append("  top-levels: (none: layout unknown)")
    lines += _block("namespace entries", facts.namespace_entries)
    lines += _block("namespace dirs", facts.namespace_dirs)
    lines += _block("regular roots", facts.regular_roots)
    lines += _block("native roots", facts.native_roots)
    lines += _block(
        "console scripts", [f"{s.name} = {s.module}:{s.attr}" for s in facts.console_scripts]
    )
    lines += _block("data files", facts.data_files)
    lines += _block("root .pth files", facts.root_pth_files)
    return "\n".join(lines) + "\n"


def prepare(specs: Sequence[str], python: str | None) -> list[PreparedWheel]:
    """Pins and local wheels → prepared wheels (verified file, install tree, facts)."""
    from harness.cases import words
    from harness.supply.interpreters import resolve

    interpreter = resolve(python or "default")
    return words.prepare_args(list(specs), interpreter)


def run(args: argparse.Namespace) -> int:
    prepared = prepare(args.wheels, args.python)
    if args.json:
        sys.stdout.write(to_json([p.facts for p in prepared]))
    else:
        sys.stdout.write("\n".join(render(p) for p in prepared))
    return 0
