"""Where things live and which index to ask: environment first, then pip, then pip's default.

No package registry host name is written in this repository: the index URL is read at run time
from `HARNESS_INDEX_URL`, else from pip's own configuration, else from the default that the
installed pip carries.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def env_flag(name: str) -> bool:
    """True when the environment variable is set to a truthy value (1, true, yes, on)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def cache_dir() -> Path:
    """The wheel cache: `HARNESS_WHEELS_CACHE`, else `wheels_cache/` beside the package."""
    configured = os.environ.get("HARNESS_WHEELS_CACHE")
    return _resolved(configured) if configured else PROJECT_ROOT / "wheels_cache"


def trees_dir() -> Path:
    """Where unpacked install trees live: `HARNESS_TREES`, else `<cache>/trees`."""
    configured = os.environ.get("HARNESS_TREES")
    return _resolved(configured) if configured else cache_dir() / "trees"


def _resolved(configured: str) -> Path:
    """`configured` with `~` expanded, resolved once per path (and working directory, for a
    relative one): a run asks for the cache directory a dozen times, and every resolve costs
    an lstat per path component."""
    expanded = os.path.expanduser(configured)
    return _resolve(expanded, "" if os.path.isabs(expanded) else os.getcwd())


@lru_cache(maxsize=16)
def _resolve(path: str, _cwd: str) -> Path:
    return Path(path).resolve()


def memo_name(*parts: str) -> str:
    """A short, stable file name for work remembered under the cache, keyed by `parts`: the
    crc32 and adler32 of their UTF-8 bytes, 16 hex digits.

    Not a digest to trust: every memo also records the whole key it was made for and is used
    only when that matches, so two keys sharing a name cost a recomputation, never a wrong
    answer. (sha256 would need hashlib, ~2.7 ms to import with OpenSSL, which a warm run
    imports for nothing else.)
    """
    import zlib

    data = "\0".join(parts).encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def offline() -> bool:
    """`HARNESS_OFFLINE=1` forbids every network access."""
    return env_flag("HARNESS_OFFLINE")


@lru_cache(maxsize=1)
def index_url() -> str:
    """The simple-API base URL, always ending in `/`."""
    url = os.environ.get("HARNESS_INDEX_URL") or _pip_configured_index() or _pip_default_index()
    return url.rstrip("/") + "/"


def _pip_configured_index() -> str | None:
    """pip's configured `index-url` (environment, user and global config), if any."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    import subprocess

    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith(".index-url"):
            return value.strip().strip("'\"")
    return None


def _pip_default_index() -> str:
    """The index the installed pip uses when nothing is configured."""
    try:
        from pip._internal.models.index import PyPI  # type: ignore[import-not-found]
    except ImportError as exc:  # pragma: no cover - pip is always there with the harness
        from harness.errors import HarnessError

        raise HarnessError(
            "no package index configured: set HARNESS_INDEX_URL (pip is not importable, so "
            "its default index cannot be read)"
        ) from exc
    return PyPI.simple_url
