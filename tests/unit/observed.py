"""Stand-ins for what observing records, for tests that build an `Observation` by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

V = TypeVar("V")


class Computed(Mapping[str, V], Generic[V]):
    """A mapping whose value for any key `compute` gives: stands for what observing records
    for every path the checks may ask about (a real observation lists them one by one)."""

    def __init__(self, compute: Callable[[str], V]) -> None:
        self.compute = compute

    def __getitem__(self, key: str) -> V:
        return self.compute(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
