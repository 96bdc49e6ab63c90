"""Read-only directories (install trees, merge sources) made deletable again after a test."""

from __future__ import annotations

import os
from pathlib import Path


def make_deletable(root: Path) -> None:
    """Give every real directory under `root` back its write bit, so pytest can remove it
    (symlinked directories are left alone: their targets are not the test's)."""
    for current, dirnames, _ in os.walk(root):
        for name in dirnames:
            path = Path(current) / name
            if not path.is_symlink():
                path.chmod(0o755)
