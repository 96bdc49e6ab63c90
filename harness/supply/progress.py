"""Download progress: a one-line bar on stderr when it is a terminal, else nothing."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import IO

__all__ = ["ProgressBar", "ProgressCallback", "terminal_progress"]

ProgressCallback = Callable[[int, "int | None"], None]  # (bytes done, total bytes or None)


class ProgressBar:
    """A one-line progress bar on stderr; callers only create it when stderr is a terminal."""

    def __init__(self, label: str, stream: IO[str] | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._last < 0.1 and not finished:
            return
        self._last = now
        if total:
            width = 24
            filled = int(width * done / total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"\r{self.label[:48]:48} [{bar}] {done / 1e6:7.1f}/{total / 1e6:.1f} MB"
        else:
            text = f"\r{self.label[:48]:48} {done / 1e6:7.1f} MB"
        with self._lock:
            self.stream.write(text + ("\n" if finished else ""))
            self.stream.flush()


def terminal_progress(label: str) -> ProgressCallback | None:
    """A progress bar for `label` when stderr is a terminal, else None (logs stay clean)."""
    try:
        interactive = sys.stderr.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return ProgressBar(label) if interactive else None
