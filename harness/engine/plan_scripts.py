"""Console scripts (engine-contract.md §3.8): one `bin/<name>` per name, the last claimant's.

The plan decides every wrapper the materializer writes: per script name, the distinct claimants
among the active wheels record a `console script` collision per adjacent pair and the last
claimant's entry point wins. A name the venv owns itself (`bin/python*`) is refused instead
(`console-script-reserved`), and an entry point no wrapper can run (a name that is not a plain
file name, a module or attribute path that is not dotted identifiers) is a hard error.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from harness.engine.plan_state import _State
from harness.engine.rules import Rule
from harness.errors import PlanError
from harness.model import Outcome, venv_owned_script

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def script_problem(name: str, module: str, attr: str) -> str | None:
    """Why no wrapper can be written for `name = module:attr`, or None when one can."""
    if "/" in name or name in ("", ".", "..") or any(c in name for c in "\n\r\0"):
        return f"console script name {name!r} is not a plain file name"
    if not _DOTTED.match(module) or not _DOTTED.match(attr):
        return (
            f"console script `{name}` = `{module}:{attr}`: expected a dotted module and a dotted "
            "attribute path of Python identifiers"
        )
    return None


def _resolve_console_scripts(
    state: _State, superseded: Collection[str]
) -> tuple[tuple[str, str, str, str], ...]:
    """engine-contract.md §3.8: per name, the last distinct claimant's entry point wins.

    Returns the sorted (name, label, module, attr) rows the materializer writes as wrappers.
    """
    claimants: dict[str, dict[str, tuple[str, str]]] = {}
    for w in state.wheels:
        if w.label in superseded:
            continue
        for script in w.facts.console_scripts:
            claimants.setdefault(script.name, {})[w.label] = (script.module, script.attr)
    resolved = []
    for name, by_label in claimants.items():
        chain = list(by_label)
        if venv_owned_script(name):
            _refuse_reserved(state, name, chain)
            continue
        state.collide_chain("console script", name, chain)
        winner = chain[-1]
        module, attr = by_label[winner]
        problem = script_problem(name, module, attr)
        if problem is not None:
            raise PlanError(
                f"wheel {winner} declares a console script no wrapper can run: {problem}. No "
                "collision policy downgrades this; the wheel's entry_points.txt is wrong."
            )
        resolved.append((name, winner, module, attr))
        state.decide(
            name, Rule.CONSOLE_SCRIPT_LAST_WINS, chain, Outcome.PROJECT, winner, f"{module}:{attr}"
        )
    return tuple(sorted(resolved))


def _refuse_reserved(state: _State, name: str, chain: list[str]) -> None:
    """A script named like the venv's interpreter would replace it: one collision naming every
    claimant and the venv, and a `refuse` decision (as a reserved data path,
    engine-contract.md §3.9)."""
    names = ", ".join(chain)
    state.collide(
        "console script",
        name,
        names,
        "the virtual environment",
        f"console script `{name}` from {names} is not written: the virtual environment owns "
        f"`bin/{name}`.",
    )
    state.decide(
        name,
        Rule.CONSOLE_SCRIPT_RESERVED,
        chain,
        Outcome.REFUSE,
        None,
        f"the venv owns `bin/{name}`",
    )
