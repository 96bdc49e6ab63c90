"""Data files under the venv prefix (engine-contract.md §3.9): PEP 427 `.data/data`.

Per data path, the distinct claimants in wheel order: a path below a prefix root the venv owns
(`harness.model.RESERVED_PREFIX_ROOTS`: virtualenv's `bin`, `lib`, `pyvenv.cfg` and
`CACHEDIR.TAG`, and the harness state `.harness`) is refused (`data-reserved`); otherwise the
last claimant wins (`data-last-wins`); a path below another kept path is dropped
(`data-nested`); the kept paths collapse to the shallowest directories one wheel owns
(`data-collapse`). Malformed paths are a hard error (§4.4), checked first, for every engine.
"""

from __future__ import annotations

from harness.engine.plan_state import _distinct, _State, ancestors, shallowest
from harness.engine.rules import Rule
from harness.errors import PlanError
from harness.model import RESERVED_PREFIX_ROOTS, Outcome, WheelFacts


def _validate_data_files(facts: WheelFacts) -> None:
    for path in facts.data_files:
        segments = path.split("/")
        if path.startswith("/") or any(s in ("", ".", "..") for s in segments):
            raise PlanError(
                f"wheel {facts.label} declares a malformed data file path {path!r}: expected a "
                "prefix-relative path whose segments are not empty, `.` or `..`. No collision "
                "policy downgrades this; the wheel's RECORD is wrong."
            )


def _resolve_data_files(state: _State) -> tuple[tuple[str, str], ...]:
    """engine-contract.md §3.9: `.data/data` files under the prefix, per file, last claimant wins.

    Reserved roots are refused; a path nesting under another kept path is dropped; then the
    result collapses to the shallowest single-owner directories (root files stay files).
    Returns the sorted (prefix path, label) projections.
    """
    owner, chains = _data_owners(state)
    kept = _drop_nested(state, owner, chains)
    return _collapse_data(state, kept, chains)


def _data_owners(state: _State) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The last claimant of every data path outside the reserved roots, and each path's chain."""
    claimants: dict[str, list[str]] = {}
    for w in state.wheels:
        for path in w.facts.data_files:
            claimants.setdefault(path, []).append(w.label)
    owner: dict[str, str] = {}
    chains: dict[str, list[str]] = {}
    for path, labels in claimants.items():
        chain = _distinct(labels)
        root = path.split("/", 1)[0]
        if root in RESERVED_PREFIX_ROOTS:
            names = ", ".join(chain)
            state.collide(
                "data file",
                path,
                names,
                "the virtual environment",
                f"data file `{path}` from {names} is not projected: the virtual environment "
                f"owns `{root}` in the prefix.",
            )
            state.decide(
                path, Rule.DATA_RESERVED, chain, Outcome.REFUSE, None, f"the venv owns `{root}`"
            )
            continue
        state.collide_chain("data file", path, chain)
        owner[path] = chain[-1]
        chains[path] = chain
    return owner, chains


def _drop_nested(
    state: _State, owner: dict[str, str], chains: dict[str, list[str]]
) -> dict[str, str]:
    """In sorted order, a path below an already kept path is dropped with a collision (one
    wheel's file is another's directory). Returns the kept path -> owner."""
    kept: dict[str, str] = {}
    for path in sorted(owner):
        shadow = next((a for a in ancestors(path) if a in kept), None)
        if shadow is None:
            kept[path] = owner[path]
            continue
        state.collide(
            "data file",
            path,
            owner[path],
            kept[shadow],
            f"data file `{path}` from {owner[path]} is not projected: it nests under data file "
            f"`{shadow}` from {kept[shadow]}, which the prefix binds first.",
        )
        state.decide(
            path,
            Rule.DATA_NESTED,
            chains[path],
            Outcome.REFUSE,
            None,
            f"nests under data file `{shadow}` from {kept[shadow]}",
        )
    return kept


def _collapse_data(
    state: _State, kept: dict[str, str], chains: dict[str, list[str]]
) -> tuple[tuple[str, str], ...]:
    """The kept paths bound through the shallowest directories whose kept files all belong to
    one wheel; files at the prefix root stay files."""
    dir_owners: dict[str, set[str]] = {}
    for path, label in kept.items():
        for a in ancestors(path):
            dir_owners.setdefault(a, set()).add(label)
    roots = shallowest(d for d, labels in dir_owners.items() if len(labels) == 1)
    root_set = set(roots)
    via_root = {p: next((a for a in ancestors(p) if a in root_set), None) for p in kept}
    inside_root: dict[str | None, list[str]] = {}
    for p, root in via_root.items():
        inside_root.setdefault(root, []).append(p)
    projection = {p: o for p, o in kept.items() if via_root[p] is None}
    for root in roots:
        label = next(iter(dir_owners[root]))
        projection[root] = label
        inside = inside_root.get(root, [])
        state.decide(
            root,
            Rule.DATA_COLLAPSE,
            [label],
            Outcome.PROJECT,
            label,
            f"single-owner directory binds {len(inside)} file{'s' if len(inside) != 1 else ''}",
        )
    for path, label in kept.items():
        via = via_root[path]
        chain = chains[path]
        detail = f"earlier claimants lose: {', '.join(chain[:-1])}" if len(chain) > 1 else ""
        if via:
            detail = f"{detail}; through {via}" if detail else f"through {via}"
        state.decide(path, Rule.DATA_LAST_WINS, chain, Outcome.PROJECT, label, detail)
    return tuple(sorted(projection.items()))
