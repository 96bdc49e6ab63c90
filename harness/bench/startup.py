"""What a startup run executes and what it leaves on sys.path: the statement (real imports,
plus names only located because they fail even in the flat venv), and the sys.path quality
columns of engine-contract.md §9.7 measured after it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.bench.processes import command_error, interleaved, run_command, user_options
from harness.bench.stats import Stats
from harness.errors import HarnessError
from harness.model import WheelFacts

if TYPE_CHECKING:
    from harness.bench.users import RunAs


def importable_names(facts: WheelFacts) -> list[str]:
    """Top-level names `import` can bind from a wheel: packages, `.py` files, extensions."""
    names = []
    for top in (*facts.regular_top_levels, *facts.namespace_top_levels):
        if top.endswith(".pth"):
            continue
        name = top.split(".", 1)[0] if "." in top else top
        if name.isidentifier() and name not in names:
            names.append(name)
    return sorted(names)


@dataclass(frozen=True)
class Statement:
    """What a startup run executes: real imports, plus names only located (`find_spec`) because
    importing them fails even in the flat venv (a case that runs in resolve mode)."""

    imports: tuple[str, ...]
    resolves: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        parts = [f"import {name}" for name in self.imports]
        if self.resolves:
            parts.append("import importlib.util")
            parts += [f"assert importlib.util.find_spec({n!r}) is not None" for n in self.resolves]
        return "; ".join(parts) or "pass"


def _command_ok(python: Path, code: str, env: Mapping[str, str], user: RunAs | None = None) -> bool:
    return command_error(python, code, env, user) is None


def startup_statement(
    modules: Sequence[str], flat_python: Path, env: Mapping[str, str], user: RunAs | None = None
) -> Statement:
    """Import each module that imports in the flat venv; locate the others."""
    imports = tuple(m for m in modules if _command_ok(flat_python, f"import {m}", env, user))
    resolves = tuple(m for m in modules if m not in imports)
    return Statement(imports, resolves)


SYSPATH_CODE = (
    "import json, os, sys\n"
    "entries = [p for p in sys.path if p]\n"
    "print(json.dumps({'entries': len(entries),"
    " 'site_packages_roots': len({p for p in entries if 'site-packages' in p}),"
    " 'duplicate_realpaths': len(entries) - len({os.path.realpath(p) for p in entries})}))\n"
)


def syspath_quality(
    python: Path, statement: Statement, env: Mapping[str, str], user: RunAs | None = None
) -> dict[str, int]:
    """The sys.path columns of engine-contract.md §9.7, measured after the startup statement."""
    code = statement.code + "\n" + SYSPATH_CODE
    completed = subprocess.run(
        [str(python), "-c", code],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        **user_options(user),  # type: ignore[arg-type]
    )
    if completed.returncode != 0:
        raise HarnessError(f"sys.path probe failed in {python}: {completed.stderr.strip()[-500:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def split_working(
    pythons: Mapping[str, Path], code: str, env: Mapping[str, str], user: RunAs | None = None
) -> tuple[dict[str, Path], dict[str, str]]:
    """The venvs in which `python -c code` works, and why each other one is not timed.

    A venv where the statement fails (an installer that overlays colliding files in another
    order than the flat oracle) is reported, not timed: it measures nothing.
    """
    working: dict[str, Path] = {}
    failed: dict[str, str] = {}
    for label, python in pythons.items():
        error = command_error(python, code, env, user)
        if error is None:
            working[label] = python
        else:
            failed[label] = f"`{code}` fails in this venv: {error.splitlines()[-1]}"
    return working, failed


def time_startup(
    pythons: Mapping[str, Path],
    code: str,
    env: Mapping[str, str],
    user: RunAs | None = None,
    *,
    runs: int,
    warmup: int,
) -> dict[str, Stats]:
    """`python -c code` in every venv, warmed up then interleaved: venv label → stats."""
    actions = {
        label: (lambda py=python: run_command([str(py), "-c", code], env, user))
        for label, python in pythons.items()
    }
    samples = interleaved(actions, runs=runs, warmup=warmup)
    return {label: Stats.of(s) for label, s in samples.items()}
