"""`harness check VENV`: the case-free checks on a venv that `harness assemble` wrote.

Everything comes from the venv's `.harness/` state (plan and manifest) and from each install
tree's own RECORD, so a venv can be checked long after it was built. Without a case there is
no flat oracle and no expectation: A1, A2 (a loss is explained by a recorded collision on its
top-level), A3, A4 and the plan invariants run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.errors import HarnessError

EPILOG = """\
examples:
  harness assemble google==1.9.3 protobuf==6.33.5 --python 3.11 --out /tmp/v
  harness check /tmp/v
  harness check /tmp/v --json

Exit status: 0 no findings, 1 findings, 2 when VENV is not a venv written by harness assemble.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check",
        help="check a venv built by `harness assemble` (A1-A4, plan invariants)",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("venv", metavar="VENV", type=Path)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=run)


def facts_from_tree(label: str, site_packages: Path):
    """A wheel's facts re-derived from the RECORD its install tree kept."""
    from harness.facts import derive_facts, record_paths

    records = sorted(site_packages.glob("*.dist-info/RECORD"))
    if len(records) != 1:
        raise HarnessError(
            f"install tree {site_packages} of {label} holds {len(records)} dist-info RECORDs, expected 1"
        )
    dist_info = records[0].parent
    entry_points = dist_info / "entry_points.txt"
    return derive_facts(
        label=label,
        dist_info=dist_info.name,
        record=record_paths(records[0].read_text(encoding="utf-8")),
        entry_points_text=entry_points.read_text(encoding="utf-8") if entry_points.exists() else "",
    )


def check_venv(venv_dir: Path) -> list:
    """All case-free findings for a written venv."""
    from harness import check, runner
    from harness.concrete import concrete_view
    from harness.engine.invariants import check_plan_invariants
    from harness.engine.materialize import STATE_DIR, Venv, read_manifest
    from harness.expectations import parse_spec
    from harness.model import plan_from_plain

    venv_dir = venv_dir.resolve()
    manifest = read_manifest(venv_dir)
    try:
        plan = plan_from_plain(json.loads((venv_dir / STATE_DIR / "plan.json").read_text()))
    except (OSError, ValueError, KeyError) as exc:
        raise HarnessError(f"{venv_dir} has no readable {STATE_DIR}/plan.json: {exc}") from exc
    site = venv_dir / manifest["site_packages"]
    venv = Venv(
        path=venv_dir,
        python=venv_dir / manifest["python"],
        site_packages=site,
        engine=manifest["engine"],
        owners=manifest.get("owners", {}),
    )
    trees = {label: str(Path(root) / "site-packages") for label, root in manifest["trees"].items()}
    facts = [facts_from_tree(label, Path(trees[label])) for label in plan.wheels]
    from harness.runtime import run_probe

    suffixes = run_probe(venv.python, distributions=False).interpreter.extension_suffixes
    shipped = {f.label: check.shipped_modules(f, suffixes) for f in facts}
    view = concrete_view(site, extension_suffixes=suffixes)
    spec = parse_spec(venv_dir / STATE_DIR / "plan.json", {"description": "venv check"})
    names = set().union(*shipped.values()) | set(view.names)
    obs = runner.observe(venv, plan, trees, view, names, spec)
    findings = [check.Finding("plan", "plan", v) for v in check_plan_invariants(facts, plan)]
    findings += check.check_a1(obs)
    findings += check.check_a2(obs, None, shipped, plan, None)
    findings += check.check_a3(obs, facts, plan)
    findings += check.check_a4(obs)
    blind = check.static_blind_spots(obs, sorted(names))
    return findings, blind


def run(args: argparse.Namespace) -> int:
    from harness.model import to_plain

    findings, blind = check_venv(args.venv)
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
