"""Wheel supply: pins → the right file for an interpreter → verified file, install tree, facts.

Each step has its own module; this one puts them in order for one interpreter (`prepare`):

- `harness.supply.selection`  which of a pin's files the interpreter gets (its tag preference order)
- `harness.supply.pins`       `NAME==VERSION` and local `.whl` words → pins (a case name: `harness.cases.words`)
- `harness.supply.indexfiles` what the index lists (a pinned file's URL, a version's wheels, remembered)
- `harness.supply.cache`      the verified wheel files; `harness.supply.wheel` their trees and facts

A command-line word that may name a case becomes pins in `harness.cases.words`, above both the
supply chain and the corpus.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.model import Interpreter, Pin, PreparedWheel
from harness.supply.cache import WheelCache
from harness.supply.indexfiles import IndexResolver, nearby_versions, version_wheels
from harness.supply.pins import lock, parse_spec
from harness.supply.selection import (
    choose,
    compatible,
    file_rank,
    label_for,
    platform_rank,
    select_file,
    wheel_tags,
)

if TYPE_CHECKING:  # the index client is imported where it is used: a case run never needs it
    from harness.supply.index import IndexClient
    from harness.supply.pinrequest import PinRequest

__all__ = [
    "IndexResolver",
    "PinRequest",
    "cache_synthetic",
    "choose",
    "compatible",
    "file_rank",
    "label_for",
    "lock",
    "nearby_versions",
    "parse_spec",
    "platform_rank",
    "prepare",
    "select_file",
    "version_wheels",
    "wheel_tags",
]


def __getattr__(name: str) -> Any:
    """`PinRequest`, defined in `harness.supply.pinrequest` (set up when first used)."""
    if name == "PinRequest":
        from harness.supply.pinrequest import PinRequest

        return PinRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cache_for(cache: WheelCache | None, offline: bool | None) -> WheelCache:
    """The caller's cache (as offline as asked), or the configured one."""
    if cache is None:
        return WheelCache(offline=offline)
    if offline is not None and offline != cache.offline:
        return cache.with_offline(offline)
    return cache


def cache_synthetic(pins: Iterable[Pin], cache: WheelCache) -> None:
    """Case-built wheels enter the cache like local files (verified by unpacking first)."""
    for pin in pins:
        if pin.synthetic is None or cache.get(pin.files[0]) is not None:
            continue
        from harness.supply import wheel

        with tempfile.TemporaryDirectory(prefix="harness-synthetic-") as tmp:
            path = Path(tmp) / pin.files[0].filename
            path.write_bytes(pin.synthetic)
            wheel.install_tree(path, pin.files[0].sha256)
            cache.add_local(path)


def prepare(
    pins: Sequence[Pin],
    interp: Interpreter,
    *,
    offline: bool | None = None,
    cache: WheelCache | None = None,
    client: IndexClient | None = None,
    jobs: int = 4,
) -> list[PreparedWheel]:
    """Select, fetch (in parallel), unpack, compile for `interp` and read facts, in wheel order.

    Compiling here (once per tree and interpreter, `harness.supply.bytecode`) makes every prepared tree
    what an installer leaves, whoever links to it next: our materializer, or an adapter's engine
    that links from the `install_tree` it is handed (docs/adapters.md); no venv's interpreter
    then ever needs to write into a tree.
    """
    from harness.supply import wheel  # the unpacker, imported when wheels are prepared
    from harness.supply.bytecode import compile_trees

    cache = cache_for(cache, offline)
    chosen = choose(pins, interp)
    cache_synthetic(pins, cache)
    results = cache.fetch_all([wf for _, wf in chosen], IndexResolver(client, cache), jobs=jobs)
    failed = [r for r in results if r.error is not None]
    if len(failed) == 1 and failed[0].error is not None:
        raise failed[0].error
    if failed:
        raise HarnessError(
            f"{len(failed)} wheel files could not be fetched: "
            + "; ".join(str(r.error) for r in failed)
        )
    paths = {(r.wheel_file.sha256, r.wheel_file.filename): r.path for r in results}
    prepared = []
    for label, wheel_file in chosen:
        path = paths[(wheel_file.sha256, wheel_file.filename)]
        assert path is not None
        tree = wheel.install_tree(path, wheel_file.sha256)
        facts = wheel.read_facts(path, label=label, sha256=wheel_file.sha256, remember=True)
        prepared.append(PreparedWheel(label=label, path=path, tree=tree, facts=facts))
    compile_trees([p.tree for p in prepared], interp)
    return prepared
