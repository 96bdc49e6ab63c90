"""A command-line wheel request: `NAME==VERSION`, or a local `.whl` file.

Apart from `harness.supply.pins` (which re-exports it, as `harness.supply` does) because only a word
that is not a case name makes one: a warm run of a case never sets the class up (a frozen
dataclass costs ~0.6 ms in every process that defines it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["PinRequest"]


@dataclass(frozen=True)
class PinRequest:
    """A command-line wheel: `NAME==VERSION`, or a local `.whl` file (`path` set)."""

    text: str
    name: str
    version: str
    path: Path | None = None
