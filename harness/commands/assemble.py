"""`harness assemble PIN_OR_WHEEL... --out DIR`: build the venv a plan describes, and say what
went where."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.commands.common import absolute, add_engine_and_policy, add_python, add_wheels
from harness.model import is_fault, to_json, to_plain

HELP = "build a venv from wheels in order (virtualenv + links, merges, .pth) and summarise it"

DESCRIPTION = """\
Fetch (or take) each wheel, unpack it into its read-only install tree, plan the venv with the
chosen engine and write it at DIR: relative symlinks into the trees for projected paths, real
directories for namespace unions and physical merges, one .pth line per wheel left on fallback,
bin/ console script wrappers and .data/data files under the prefix (docs/engine-contract.md §2).

Argument order is wheel order: on a collision the later wheel wins. PIN_OR_WHEEL is
`name==version` (the file matching --python's tags is chosen) or a path to a local .whl file.

The summary lists projections, merges (with file conflicts), fallbacks, collisions, console
scripts, data files and the venv's bin/python. DIR must be new or empty; --replace removes a
venv that is already there (never a directory without pyvenv.cfg). The venv records its plan and
a manifest under DIR/.harness/.

Engines: merge (default, the engine under test), whole-tree (the engine before the fix: a
collision projects its last claimant whole), pth (every wheel a .pth line), flat (the oracle:
each wheel file installed in order with pypa/installer as `pip install --no-deps` would, none of
the engine's code involved), fault:NAME (merge with one known bug planted; `harness faults
--list`).

Examples:
  harness assemble google==1.9.3 protobuf==6.33.5 --python 3.11 --out /tmp/g
  harness assemble PyJWT==2.10.1 jwt==1.4.0 --python 3.11 --out /tmp/j --replace
  harness assemble google==1.9.3 protobuf==6.33.5 --engine whole-tree --out /tmp/old --json
  /tmp/g/bin/python -c "import google, sys; print(google.__file__)"
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "assemble",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_wheels(parser)
    add_python(parser)
    parser.add_argument(
        "--out", required=True, metavar="DIR", type=absolute, help="where to write the venv"
    )
    add_engine_and_policy(parser)
    parser.add_argument(
        "--replace", action="store_true", help="remove an existing venv at DIR first"
    )
    parser.add_argument(
        "--json", action="store_true", help="print plan, venv paths and warnings as stable JSON"
    )
    parser.set_defaults(func=run)


def _block(title: str, rows: Sequence[str], count: int | None = None) -> list[str]:
    if not rows:
        return [f"{title}: (none)"]
    return [f"{title} ({len(rows) if count is None else count}):", *(f"  {row}" for row in rows)]


def render(assembly) -> str:
    """The human summary: one block per kind of output, in the order the materializer writes."""
    plan, venv = assembly.plan, assembly.venv
    width = max((len(p) for p, _ in plan.projections), default=0)
    conflicts_by_root: dict[str, list[str]] = {}
    for conflict in venv.merge_conflicts:
        root = next((g.root for g in plan.merges if conflict.rel.startswith(g.root + "/")), "")
        conflicts_by_root.setdefault(root, []).append(
            f"    {conflict.kind.replace('_', ' ')}: {conflict.rel} "
            f"({conflict.previous} -> {conflict.current})"
        )
    merges: list[str] = []
    for group in plan.merges:
        merges.append(f"{group.root}/  <- {', '.join(group.contributors)}")
        merges += [row[2:] for row in conflicts_by_root.get(group.root, [])]
    lines = [
        f"venv: {venv.path}  (engine {plan.engine}, {len(plan.wheels)} wheels)",
        f"python: {venv.python}",
        f"site-packages: {venv.site_packages}",
    ]
    lines += _block(
        "projections", [f"{p.ljust(width)}  -> {label}" for p, label in plan.projections]
    )
    lines += _block("merges", merges, count=len(plan.merges))
    lines += _block(
        "fallbacks (.pth)",
        [f"{f.label}  ({'addsitedir' if f.addsitedir else 'path line'})" for f in plan.fallbacks],
    )
    lines += _block("collisions", [c.describe() for c in plan.collisions])
    lines += _block(
        "console scripts",
        [
            f"{name} = {module}:{attr}  ({label})"
            for name, label, module, attr in plan.console_scripts
        ],
    )
    lines += _block("data files", [f"{path}  -> {label}" for path, label in plan.data_projections])
    if plan.engine == "flat":
        lines += _block(
            "install notes (flat: overwrites, uninstalls, replaced scripts)", venv.notes
        )
    return "\n".join(lines) + "\n"


def as_json(assembly) -> str:
    venv = assembly.venv
    return to_json(
        {
            "venv": str(venv.path),
            "python": str(venv.python),
            "site_packages": str(venv.site_packages),
            "engine": venv.engine,
            "plan": to_plain(assembly.plan),
            "owners": dict(venv.owners),
            "merge_conflicts": to_plain(venv.merge_conflicts),
            "warnings": list(assembly.warnings),
        }
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.cases import words
    from harness.engine.assemble import assemble
    from harness.supply.interpreters import resolve

    interpreter = resolve(args.python)
    prepared = words.prepare_args(list(args.wheels), interpreter)
    if is_fault(args.engine):
        from harness.engine import faults

        built = faults.build(
            args.engine,
            prepared,
            interpreter,
            Path(args.out),
            policy=args.policy,
            replace_out=args.replace,
            always=True,
        )
        assembly = built.assembly
        if not built.exercised:
            print(f"note: {args.engine}: {built.why} (it is merge's venv)", file=sys.stderr)
    else:
        assembly = assemble(
            prepared,
            interpreter,
            Path(args.out),
            engine=args.engine,
            policy=args.policy,
            replace=args.replace,
        )
    if args.json:
        sys.stdout.write(as_json(assembly))
        return 0
    for warning in assembly.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    sys.stdout.write(render(assembly))
    return 0
