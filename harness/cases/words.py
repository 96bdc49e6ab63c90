"""Command-line words → pins and prepared wheels: a case name, `NAME==VERSION` or a `.whl`.

Above both the supply chain and the corpus, because a word may name a case: `harness facts`,
`plan`, `assemble`, `fetch`, `check --wheels` and the pytest plugin take these words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness import cases as case_files
from harness.model import Interpreter, Pin, PreparedWheel
from harness.supply import cache_for, prepare
from harness.supply.cache import WheelCache
from harness.supply.pins import lock, parse_spec

if TYPE_CHECKING:
    from harness.supply.index import IndexClient


def pins_for_args(
    args: Sequence[str],
    interps: Sequence[Interpreter],
    *,
    cache: WheelCache | None = None,
    client: IndexClient | None = None,
    cases_root: str | Path | None = None,
) -> list[Pin]:
    """Command-line words → pins in order: a case name (its pins, support first), a
    `NAME==VERSION` (locked on the fly, remembered) or a local `.whl`."""
    cache = cache or WheelCache()
    root = Path(cases_root) if cases_root is not None else case_files.default_cases_root()
    pins: list[Pin] = []
    for arg in args:
        if case_files.is_case_name(arg, root):
            pins.extend(case_files.load_pins(root / arg))
        else:
            pins.extend(lock([parse_spec(arg)], interps, client=client, cache=cache, refresh=False))
    return pins


def prepare_args(
    args: Sequence[str],
    interp: Interpreter,
    *,
    offline: bool | None = None,
    cache: WheelCache | None = None,
    client: IndexClient | None = None,
) -> list[PreparedWheel]:
    """The CLI path of `facts`, `plan` and `assemble`: words → prepared wheels for `interp`."""
    cache = cache_for(cache, offline)
    pins = pins_for_args(args, [interp], cache=cache, client=client)
    return prepare(pins, interp, cache=cache, client=client)


__all__ = ["pins_for_args", "prepare_args"]
