"""Loggers that import `logging` when they first log.

`import logging` costs ~3 ms (with traceback and string) in every process. The modules on a warm
`harness assemble` path log only when something is unusual (a corrupt cached file, a yanked
pin, a failed memo write), so they hold a `lazy_logger(name)` instead of a `logging.Logger`:
every attribute is the real logger's (`logging.getLogger(name)`, looked up at each use, so
handlers, levels and pytest's `caplog` see the same logger as before).
"""

from __future__ import annotations

from typing import Any


class LazyLogger:
    """`logging.getLogger(name)`, imported and looked up when an attribute is first used."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        import logging

        return getattr(logging.getLogger(self.name), attribute)

    def __repr__(self) -> str:
        return f"<LazyLogger {self.name}>"


def lazy_logger(name: str) -> LazyLogger:
    return LazyLogger(name)


__all__ = ["LazyLogger", "lazy_logger"]
