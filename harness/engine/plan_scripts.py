"""Console scripts (engine-contract.md §3.8): one `bin/<name>` per name, the last claimant's.

Per script name, the distinct claimants among the active wheels record a `console script`
collision per adjacent pair and the last claimant's entry point wins.
"""

from __future__ import annotations

from collections.abc import Collection

from harness.engine.plan_state import _State
from harness.engine.rules import Rule
from harness.model import Outcome


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
        state.collide_chain("console script", name, chain)
        winner = chain[-1]
        module, attr = by_label[winner]
        resolved.append((name, winner, module, attr))
        state.decide(
            name, Rule.CONSOLE_SCRIPT_LAST_WINS, chain, Outcome.PROJECT, winner, f"{module}:{attr}"
        )
    return tuple(sorted(resolved))
