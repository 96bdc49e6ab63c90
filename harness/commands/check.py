"""`harness check VENV`: judge any venv, built by anything, against the wheels it was built from.

The harness needs only facts: the wheels (given with `--wheels`, or a case's pins with
`--case`), the venv on disk and its own interpreter. It builds the flat oracle itself (every
wheel installed in order into one site-packages, as pip does), attributes every file in the
venv to a wheel by RECORD content (symlinks, hard links and copies alike, wherever the engine
keeps its store), and reports A1-A5: concrete/runtime agreement, no silent loss against the flat
install, one metadata copy, sys.path hygiene and, with a case, the flat differential and the
case's expectations. A venv that `harness assemble` wrote needs no arguments: its wheels are
read from its `.harness/` state, and its plan adds the engine's explanation to a finding (never
an excuse) and has the planner's invariants checked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from harness.commands.common import absolute, absolute_path
from harness.errors import HarnessError
from harness.model import is_fault

EPILOG = """\
examples:
  harness check ./venv --wheels PyJWT==2.10.1 jwt==1.4.0     any venv, from pins (wheel order)
  harness check ./venv --wheels dist/a.whl dist/b.whl         ... or from wheel files
  harness check ./venv --case regular-merge-jwt-pyjwt-jwt     the case's wheels and expectations
  harness check ./venv --case NAME --engine my-engine         scope the case's layout expectations
  harness check /tmp/v                                        a venv `harness assemble` wrote
  harness check ./venv --wheels ... --json                    findings as JSON

Findings name the wheels involved by label (the wheel file name, or the case's label).
Exit status: 0 no findings, 1 findings, 2 when VENV is not a venv or the wheels cannot be had.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check",
        help="judge any venv against the wheels it was built from (A1-A5, a case's expectations)",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "venv", metavar="VENV", type=absolute_path, help="the venv prefix (holds bin/python)"
    )
    p.add_argument(
        "--wheels",
        nargs="+",
        metavar="PIN_OR_WHEEL",
        help="the wheels the venv was built from, in the engine's wheel order: NAME==VERSION "
        "or a .whl path",
    )
    p.add_argument("--case", metavar="NAME", help="a corpus case: its wheels and expectations")
    p.add_argument(
        "--engine",
        metavar="NAME",
        help="the engine that built VENV, for the case's engine-scoped expectations "
        "(default: the engine `assemble` recorded, else `external`)",
    )
    p.add_argument(
        "--cases-dir", metavar="DIR", type=absolute, help="corpus directory (default: cases/)"
    )
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=run)


def _state(venv: Path) -> tuple[dict | None, object | None]:
    """The manifest and plan `harness assemble` left, when it built this venv."""
    from harness.engine.materialize import STATE_DIR, read_manifest
    from harness.model import plan_from_plain

    if not (venv / STATE_DIR / "manifest.json").exists():
        return None, None
    manifest = read_manifest(venv)
    try:
        plan = plan_from_plain(json.loads((venv / STATE_DIR / "plan.json").read_text()))
    except (OSError, ValueError, KeyError) as exc:
        raise HarnessError(f"{venv} has no readable {STATE_DIR}/plan.json: {exc}") from exc
    return manifest, plan


def _wheels_from_state(manifest: dict, plan) -> list[str]:
    """The .whl files behind an assembled venv's install trees (a tree is named by sha256)."""
    from harness.supply.cache import WheelCache

    cache = WheelCache()
    files = []
    for label in plan.wheels:
        sha = Path(manifest["trees"][label]).name
        found = sorted((cache.root / "sha256" / sha[:2] / sha).glob("*.whl"))
        if not found:
            raise HarnessError(
                f"the wheel behind {label} (sha256 {sha}) is not in the cache {cache.root}; "
                "name the wheels with --wheels"
            )
        files.append(str(found[0]))
    return files


def check_venv(
    venv_dir: Path,
    wheels: list[str] | None = None,
    case_name: str | None = None,
    engine: str | None = None,
    cases_dir: str | None = None,
):
    """Every finding for `venv_dir`, and the modules static tools cannot see."""
    from harness import judge, supply
    from harness.cases import find_case, words
    from harness.observe.runtime import venv_python
    from harness.run.pipeline import judge_venv
    from harness.supply import interpreters

    venv_dir = Path(os.path.abspath(venv_dir))
    python = venv_python(venv_dir)
    manifest, plan = _state(venv_dir)
    engine = engine or (manifest or {}).get("engine") or "external"
    interp = interpreters.query(os.path.realpath(python))
    case = find_case(case_name, cases_dir) if case_name else None
    if case is not None and not wheels:
        prepared = supply.prepare([*case.support, *case.wheels], interp)
    else:
        if not wheels:
            if manifest is None:
                raise HarnessError(
                    f"{venv_dir} was not built by `harness assemble`: name the wheels it was "
                    "built from with --wheels (or a case with --case)"
                )
            wheels = _wheels_from_state(manifest, plan)
        prepared = words.prepare_args(wheels, interp)
    findings, blind = judge_venv(
        venv_dir, prepared, interp, case, engine=engine, python=python, explain=plan
    )
    if (
        plan is not None
        and manifest is not None
        and engine == manifest.get("engine")
        and not is_fault(engine)  # a fault's plan breaks invariants on purpose: judge its venv
    ):
        from harness.engine.invariants import check_plan_invariants

        findings += [
            judge.Finding("plan", "plan", v)
            for v in check_plan_invariants([p.facts for p in prepared], plan)
        ]
    return findings, blind


def run(args: argparse.Namespace) -> int:
    from harness.model import to_plain

    findings, blind = check_venv(args.venv, args.wheels, args.case, args.engine, args.cases_dir)
    if args.json:
        doc = {"ok": not findings, "findings": to_plain(findings), "static_blind_spots": blind}
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    else:
        for f in findings:
            print(f.render())
        if blind:
            print(
                f"{len(blind)} module(s) runtime finds but a static tool walking site-packages cannot see:"
            )
            for name in blind[:50]:
                print(f"  {name}")
        print("no findings" if not findings else f"{len(findings)} finding(s)")
    return 1 if findings else 0
