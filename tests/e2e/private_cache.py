"""A private wheel cache for the opt-in long e2e tests, shared by them (not a test module)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def private_cache(source: Path, dest: Path) -> None:
    """`dest` gets hard links to `source`'s verified wheel files and a copy of its pin memos."""
    for sub in ("sha256", "pins"):
        if not (source / sub).is_dir():
            continue
        for path in sorted((source / sub).rglob("*")):
            if not path.is_file():
                continue
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if sub == "pins":
                shutil.copy2(path, target)
                continue
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
