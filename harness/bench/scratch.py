"""The benchmark's scratch space: a private work directory, and removing a venv a timed run
wrote once it is no longer needed (always outside the measurement)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="harness-bench-"))


def remove(path: Path) -> None:
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)
