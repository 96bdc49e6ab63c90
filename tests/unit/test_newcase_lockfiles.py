"""Pins from the lock files users already have: uv.lock and PEP 751 pylock.toml."""

from __future__ import annotations

import sys

import pytest

from harness.errors import HarnessError
from harness.run.newcase import pins_from_lockfile, write_case
from harness.supply.interpreters import resolve

SHA = "a" * 64

UV_LOCK = f"""
version = 1
requires-python = ">=3.9"

[[package]]
name = "demo"
version = "0.1.0"
source = {{ editable = "." }}

[[package]]
name = "six"
version = "1.17.0"
source = {{ registry = "https://index.invalid/simple" }}
sdist = {{ url = "https://index.invalid/six-1.17.0.tar.gz", hash = "sha256:{"b" * 64}", size = 34031 }}
wheels = [
    {{ url = "https://index.invalid/six-1.17.0-py2.py3-none-any.whl", hash = "sha256:{SHA}", size = 11050 }},
]

[[package]]
name = "winonly"
version = "1.0"
source = {{ registry = "https://index.invalid/simple" }}
wheels = [
    {{ url = "https://index.invalid/winonly-1.0-cp311-cp311-win_amd64.whl", hash = "sha256:{SHA}", size = 1 }},
]
"""

PYLOCK = f"""
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "six"
version = "1.17.0"

[[packages.wheels]]
name = "six-1.17.0-py2.py3-none-any.whl"
url = "https://index.invalid/six-1.17.0-py2.py3-none-any.whl"
size = 11050
hashes = {{ sha256 = "{SHA}" }}
"""


@pytest.fixture(scope="module")
def host():
    return resolve(sys.executable)


def test_uv_lock_keeps_compatible_wheels_and_names_unusable_packages(tmp_path, host):
    path = tmp_path / "uv.lock"
    path.write_text(UV_LOCK)
    (pin,) = pins_from_lockfile(path, [host], only=["six"])
    assert (
        pin.name,
        pin.version,
        pin.files[0].filename,
        pin.files[0].sha256,
        pin.files[0].size,
    ) == (
        "six",
        "1.17.0",
        "six-1.17.0-py2.py3-none-any.whl",
        SHA,
        11050,
    )
    with pytest.raises(HarnessError, match=r"winonly==1\.0"):
        pins_from_lockfile(path, [host])
    with pytest.raises(HarnessError, match="no package named nothere"):
        pins_from_lockfile(path, [host], only=["six", "nothere"])


def test_pylock_toml(tmp_path, host):
    path = tmp_path / "pylock.toml"
    path.write_text(PYLOCK)
    (pin,) = pins_from_lockfile(path, [host])
    assert (pin.name, pin.files[0].sha256, pin.files[0].size) == ("six", SHA, 11050)


def test_broken_lock_file_is_a_clear_error(tmp_path, host):
    path = tmp_path / "pylock.toml"
    path.write_text("lock-version = [")
    with pytest.raises(HarnessError, match="cannot read lock file"):
        pins_from_lockfile(path, [host])


def test_write_case_refuses_to_overwrite_and_bad_names(tmp_path):
    write_case(tmp_path, "x-y", "description = 'x'\n")
    with pytest.raises(HarnessError, match="--force"):
        write_case(tmp_path, "x-y", "")
    with pytest.raises(HarnessError, match="case name"):
        write_case(tmp_path, "Bad Name", "")
