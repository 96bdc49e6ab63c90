"""Faults in what is written or said: the venv changed after writing, or the report filtered.

A venv step changes the written venv the way a buggy materializer or merge would have left it
and answers whether it changed anything; a report step filters what the engine says while
building; `touches` is a cheap guess whether a step can change anything for a plan. Each
fault's story is its `paragraph`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.engine.faults_base import Fault
from harness.model import Interpreter, Plan, PreparedWheel, WheelFacts

if TYPE_CHECKING:
    from harness.engine.materialize import Venv


def _cache_tag(interp: Interpreter) -> str:
    return f"cpython-{interp.version[0]}{interp.version[1]}"


def _keep_stale_bytecode(
    plan: Plan, prepared: Mapping[str, PreparedWheel], venv: Venv, interp: Interpreter
) -> bool:
    """The merge never deletes the bytecode of a source a later contributor overwrote: every
    contributor's `__pycache__` file (shipped in its RECORD, or compiled for this interpreter)
    that the merge left out is put back where the overlay would have left it."""
    site = Path(os.path.realpath(venv.site_packages))
    tag = _cache_tag(interp)
    changed = False
    for group in plan.merges:
        into = site / group.root
        restored: dict[Path, Path] = {}
        for label in group.contributors:
            wheel = prepared[label]
            shipped = set(wheel.facts.site_paths)
            root = wheel.tree.site_packages / group.root
            for pyc in sorted(root.rglob("__pycache__/*.pyc")):
                rel = pyc.relative_to(wheel.tree.site_packages).as_posix()
                if rel in shipped or f".{tag}." in pyc.name:
                    restored[into / pyc.relative_to(root)] = pyc  # a later one overlays it
        for dest, source in sorted(restored.items()):
            if os.path.lexists(dest) or not dest.parent.is_dir() or dest.parent.is_symlink():
                continue
            shutil.copy2(source, dest)
            changed = True
    return changed


def _bytecode_may_go_stale(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return bool(plan.merges)


def _data_in_site_packages(
    plan: Plan, prepared: Mapping[str, PreparedWheel], venv: Venv, interp: Interpreter
) -> bool:
    """`.data/data` files linked under site-packages instead of the venv prefix."""
    prefix = Path(os.path.realpath(venv.path))
    site = Path(os.path.realpath(venv.site_packages))
    changed = False
    for path, _label in plan.data_projections:
        link = prefix / path
        moved = site / path
        if not link.is_symlink() or os.path.lexists(moved):
            continue
        target = Path(os.path.realpath(link))
        link.unlink()
        moved.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(target, moved.parent), moved)
        changed = True
    return changed


def _has_data(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return bool(plan.data_projections)


def naive_wrapper(name: str, module: str, attr: str) -> str:
    """A console-script wrapper that takes a dotted attribute path as one attribute name."""
    return (
        "#!/bin/sh\n"
        '\'\'\'exec\' "$(dirname -- "$0")/python" "$0" "$@"\n'
        "' '''\n"
        f"# console script {name} -> {module}:{attr}, written by harness (fault)\n"
        "import importlib\n"
        "import sys\n"
        "\n"
        f"sys.argv[0] = {name!r}\n"
        f"target = getattr(importlib.import_module({module!r}), {attr!r})\n"
        "sys.exit(target())\n"
    )


def _dotted_unresolved(
    plan: Plan, prepared: Mapping[str, PreparedWheel], venv: Venv, interp: Interpreter
) -> bool:
    changed = False
    for name, _label, module, attr in plan.console_scripts:
        if "." in attr:
            (Path(venv.path) / "bin" / name).write_text(naive_wrapper(name, module, attr))
            changed = True
    return changed


def _has_dotted_script(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return any("." in attr for _name, _label, _module, attr in plan.console_scripts)


def _drop_conflict_reports(warnings: Sequence[str], venv: Venv) -> list[str]:
    conflicts = {c.describe(venv.site_packages) for c in venv.merge_conflicts}
    return [w for w in warnings if w not in conflicts]


def _has_merges(plan: Plan, wheels: Sequence[WheelFacts]) -> bool:
    return bool(plan.merges)


VENV_FAULTS = (
    Fault(
        "stale-bytecode-kept",
        "rules_py #1410: when a later wheel overlays `mod.py` with other bytes, the "
        "`__pycache__/mod.*.pyc` an earlier wheel brought into the merged directory must go; "
        "kept, it is bytecode of a source that is no longer there (and an unchecked-hash or "
        "matching-timestamp pyc is loaded as is).",
        "venv: every contributor's bytecode the merge removed is put back",
        venv=_keep_stale_bytecode,
        touches=_bytecode_may_go_stale,
    ),
    Fault(
        "conflicts-unreported",
        "rules_py #1205's merge reports every shared path two contributors ship differently; "
        "an engine that overlays silently hides from its user that one wheel's file replaced "
        "another's (reference invariant 15).",
        "report: merge-conflict messages dropped",
        report=_drop_conflict_reports,
        touches=_has_merges,
    ),
    Fault(
        "data-in-site-packages",
        "rules_py #1366: PEP 427 `.data/data` files belong under the venv prefix "
        "(`sys.prefix/share/jupyter/...`); linked under site-packages instead, nothing that "
        "looks under the prefix finds them.",
        "venv: data projections moved under site-packages",
        venv=_data_in_site_packages,
        touches=_has_data,
    ),
    Fault(
        "console-dotted-unresolved",
        "A console-script wrapper that takes the attribute path of `pkg.mod:obj.attr` as one "
        "name (`getattr(module, 'obj.attr')`) cannot start a tool whose entry point is an "
        "attribute of an object (`invoke = invoke.main:program.run`); rules_py's "
        "`venv-bin-scripts-423` test guards it.",
        "venv: wrappers of dotted entry points rewritten with one getattr",
        venv=_dotted_unresolved,
        touches=_has_dotted_script,
    ),
)

__all__ = ["VENV_FAULTS", "naive_wrapper"]
