"""The supply chain against the real configured index: lock, fetch, fetch again offline.

The index comes from harness.config (HARNESS_INDEX_URL, else pip's configuration); the cache is
a fresh temporary directory so the first fetch really downloads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import platform_tags
from packaging.utils import parse_wheel_filename

from harness.cases import load_case

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The published sha256 of google 1.9.3's universal wheel begins with these digits.
GOOGLE_WHEEL = "google-1.9.3-py2.py3-none-any.whl"
GOOGLE_SHA_PREFIX = "31cc5a7f"


def harness(*args: str, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "HARNESS_WHEELS_CACHE": str(cache), **env},
        timeout=600,
        check=False,
    )


def test_lock_then_fetch_twice_second_time_offline(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    locked = harness("lock", "google==1.9.3", "--python", "default", cache=cache)
    assert locked.returncode == 0, locked.stderr
    case_dir = tmp_path / "google"
    case_dir.mkdir()
    (case_dir / "case.toml").write_text('description = "e2e"\n' + locked.stdout)
    [pin] = load_case(case_dir).wheels
    [wheel] = pin.files  # the py2-only wheel does not fit a CPython 3
    assert wheel.filename == GOOGLE_WHEEL and wheel.sha256.startswith(GOOGLE_SHA_PREFIX)

    first = harness("fetch", "google==1.9.3", cache=cache)
    assert first.returncode == 0, first.stderr
    assert f"fetched  google 1.9.3 ({GOOGLE_WHEEL})" in first.stdout
    stored = cache / "sha256" / wheel.sha256[:2] / wheel.sha256 / GOOGLE_WHEEL
    assert stored.stat().st_size == wheel.size

    # Offline mode cannot reach the network at all, so success proves the cache sufficed.
    second = harness("fetch", "google==1.9.3", cache=cache, HARNESS_OFFLINE="1")
    assert second.returncode == 0, second.stderr
    assert f"cached   google 1.9.3 ({GOOGLE_WHEEL})" in second.stdout
    assert "0 fetched, 1 cached" in second.stdout

    missing = harness("fetch", "six==1.17.0", cache=cache, HARNESS_OFFLINE="1")
    assert missing.returncode == 2
    assert "six==1.17.0 was never locked or fetched" in missing.stderr


def test_lock_two_interpreters_keeps_every_compatible_file(tmp_path: Path) -> None:
    out = harness(
        "lock", "protobuf==6.33.5", "--python", "3.9", "--python", "3.13", cache=tmp_path / "c"
    )
    if out.returncode == 2 and "no CPython" in out.stderr:
        pytest.skip(out.stderr.strip())
    assert out.returncode == 0, out.stderr
    case_dir = tmp_path / "pb"
    case_dir.mkdir()
    (case_dir / "case.toml").write_text('description = "e2e"\n' + out.stdout)
    [pin] = load_case(case_dir).wheels
    names = [f.filename for f in pin.files]
    # a pure-Python fallback, an abi3 build, and only files for this machine's platform
    assert "protobuf-6.33.5-py3-none-any.whl" in names
    assert any("-abi3-" in n for n in names), names
    host_platforms = {*platform_tags(), "any"}
    for name in names:
        assert {t.platform for t in parse_wheel_filename(name)[3]} & host_platforms, name
