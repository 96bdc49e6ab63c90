"""Interrupted runs: a download, an unpack and a materialization killed with SIGKILL half-way.

Each operation runs in a child python started by the test; the test watches for the
operation's temporary file or directory, kills the child with SIGKILL (no handler, no
`finally`, no cleanup can run) and then runs the same operation again in this process. The
re-run must need no manual cleanup and give exactly what an uninterrupted run gives, and no
partial file may ever be visible at a final path.

The child of the unpack and materialize tests slows one primitive down (`ZipFile.open`,
`os.symlink`) by a few milliseconds so that "half-way" is certain on a fast machine; the harness
code itself runs unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_index import FakeIndex, slow

from harness.cases.words import prepare_args
from harness.engine.assemble import assemble
from harness.engine.materialize import STATE_DIR, read_manifest
from harness.errors import MaterializeError
from harness.model import WheelFile
from harness.supply import IndexResolver
from harness.supply.cache import WheelCache
from harness.supply.digests import file_sha256
from harness.supply.index import IndexClient
from harness.supply.interpreters import resolve
from harness.supply.trees import COMPLETE_MARKER
from harness.supply.wheel import install_tree
from harness.supply.wheelbuilder import write_wheel

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Never touch the real cache; children inherit the same private directories."""
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.delenv("HARNESS_OFFLINE", raising=False)
    return {
        "HARNESS_WHEELS_CACHE": str(tmp_path / "cache"),
        "HARNESS_TREES": str(tmp_path / "trees"),
    }


def spawn(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when(
    child: subprocess.Popen[str],
    ready: Callable[[], bool],
    invariant: Callable[[], None] = lambda: None,
    timeout: float = 60.0,
) -> None:
    """Poll until `ready()`, checking `invariant()` at every step, then SIGKILL the child.

    A child that finishes before it was caught half-way fails the test (the kill would prove
    nothing).
    """
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            invariant()
            if child.poll() is not None:
                _out, err = child.communicate()
                pytest.fail(f"the child ended (status {child.returncode}) before the kill:\n{err}")
            if time.monotonic() > deadline:
                pytest.fail("the operation never reached its half-way point")
            time.sleep(0.005)
        invariant()
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL


def tree_listing(root: Path) -> list[tuple[str, str, str]]:
    """(relative path, mode, content sha256 or link target) of everything under `root`."""
    rows = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        mode = oct(path.lstat().st_mode)
        if path.is_symlink():
            rows.append((rel, mode, "-> " + os.readlink(path)))
        elif path.is_file():
            rows.append((rel, mode, hashlib.sha256(path.read_bytes()).hexdigest()))
        else:
            rows.append((rel, mode, "dir"))
    return rows


# --------------------------------------------------------------------------- download

DOWNLOAD_CHILD = """
import sys
from harness.supply.cache import WheelCache
from harness.supply.index import IndexClient
from harness.model import WheelFile
from harness.supply import IndexResolver

root, url, filename, sha, size = sys.argv[1:6]
cache = WheelCache(root, offline=False, client=IndexClient(url, read_timeout=120))
cache.obtain(WheelFile(filename, sha, int(size)), IndexResolver(cache=cache))
print("finished", flush=True)
"""

BLOB = random.Random(7).randbytes(1 << 20)  # incompressible: the half body is 512 KiB on disk
BLOB_FILE = WheelFile("blob-1.0-py3-none-any.whl", hashlib.sha256(BLOB).hexdigest(), len(BLOB))


def test_download_killed_half_way_recovers_on_the_next_run(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    final = WheelCache(root).path_for(BLOB_FILE)
    with FakeIndex() as index:
        index.add("blob", BLOB_FILE.filename, BLOB)
        index.fail(BLOB_FILE.filename, slow(60, body=True))  # half the body, then a long pause
        child = spawn(
            DOWNLOAD_CHILD,
            str(root),
            index.url,
            BLOB_FILE.filename,
            BLOB_FILE.sha256,
            str(BLOB_FILE.size),
        )

        def half_written() -> bool:
            # the client writes in 256 KiB chunks, so bytes on disk mean a real half transfer
            return any(p.stat().st_size >= 256 * 1024 for p in (root / "tmp").glob("*.part"))

        def nothing_final() -> None:
            assert not final.exists(), "a partial download is visible at its final path"

        kill_when(child, half_written, nothing_final)
        assert not final.exists()
        # The kill left its temporary behind (nothing could remove it); the next run must cope.
        assert len(list((root / "tmp").glob("*.part"))) == 1

        client = IndexClient(index.url, backoff_base=0.01, read_timeout=10)
        cache = WheelCache(root, offline=False, client=client)
        started = time.monotonic()
        result = cache.obtain(BLOB_FILE, IndexResolver(cache=cache))
        # the dead child's flock went with it: no wait for the 30-minute lock timeout
        assert time.monotonic() - started < 10
        assert index.hits(BLOB_FILE.filename) == 2
    assert (result.status, result.path) == ("fetched", final)
    assert file_sha256(final) == BLOB_FILE.sha256
    # no manual cleanup: the killed run's partial file is gone too
    assert list((root / "tmp").iterdir()) == []
    assert [p for p in (root / "sha256").rglob("*") if p.is_file()] == [final]


# --------------------------------------------------------------------------- unpack

UNPACK_CHILD = """
import sys, time, zipfile
from pathlib import Path
from harness.supply.wheel import install_tree

real_open = zipfile.ZipFile.open

def slow_open(self, *args, **kwargs):  # a slow disk: each member takes a little longer
    time.sleep(0.01)
    return real_open(self, *args, **kwargs)

zipfile.ZipFile.open = slow_open
wheel, sha, trees = sys.argv[1:4]
install_tree(Path(wheel), sha, Path(trees))
print("finished", flush=True)
"""


def big_wheel(directory: Path) -> Path:
    rng = random.Random(11)
    files = {f"bigpkg/m{i:03d}.py": f"DATA = {rng.randbytes(3000).hex()!r}\n" for i in range(300)}
    files["bigpkg/__init__.py"] = "NAME = 'big'\n"
    return write_wheel(directory, "bigpkg", "1.0", files)


def test_unpack_killed_half_way_recovers_on_the_next_run(tmp_path: Path) -> None:
    wheel = big_wheel(tmp_path / "wheels")
    sha = file_sha256(wheel)
    reference = install_tree(wheel, sha, tmp_path / "reference-trees")

    trees = tmp_path / "trees"
    final = trees / sha
    child = spawn(UNPACK_CHILD, str(wheel), sha, str(trees))

    def half_extracted() -> bool:
        return any(sum(1 for _ in d.rglob("*.py")) >= 30 for d in (trees / "tmp").glob(f"{sha}-*"))

    def nothing_final() -> None:
        assert not final.exists(), "a partial tree is visible at its final path"

    kill_when(child, half_extracted, nothing_final)
    [leftover] = (trees / "tmp").glob(f"{sha}-*")
    assert not (leftover / COMPLETE_MARKER).exists()

    tree = install_tree(wheel, sha, trees)
    assert tree.root == final
    assert tree_listing(final) == tree_listing(reference.root)
    assert not (trees / "tmp").exists()  # the leftover is removed, and its empty parent


# --------------------------------------------------------------------------- materialize

MATERIALIZE_CHILD = """
import json, os, sys, time
from pathlib import Path
from harness.engine.assemble import assemble
from harness.supply.interpreters import resolve
from harness.cases.words import prepare_args

real_symlink = os.symlink

def slow_symlink(*args, **kwargs):  # a slow disk: each link takes a little longer
    time.sleep(0.02)
    return real_symlink(*args, **kwargs)

wheels, out = json.loads(sys.argv[1]), Path(sys.argv[2])
host = resolve(sys.executable)
prepared = prepare_args(wheels, host)
os.symlink = slow_symlink
assemble(prepared, host, out, engine="merge", policy="ignore")
print("finished", flush=True)
"""

PACKAGES = 80


def many_wheels(directory: Path) -> list[str]:
    return [
        str(write_wheel(directory, f"part{i}", "1.0", {f"part{i}/__init__.py": f"N = {i}\n"}))
        for i in range(PACKAGES)
    ]


def test_materialize_killed_half_way_is_refused_then_replaced(
    tmp_path: Path, private_cache: dict[str, str]
) -> None:
    host = resolve(sys.executable)
    wheels = many_wheels(tmp_path / "wheels")
    prepared = prepare_args(wheels, host)
    reference = assemble(prepared, host, tmp_path / "ref", engine="merge", policy="ignore")

    out = tmp_path / "out"  # the same depth as ref/, so relative links read the same
    child = spawn(MATERIALIZE_CHILD, json.dumps(wheels), str(out), env=private_cache)
    site = out / reference.venv.site_packages.relative_to(reference.venv.path)

    def half_linked() -> bool:
        return site.is_dir() and sum(1 for p in site.iterdir() if p.is_symlink()) >= 20

    kill_when(child, half_linked)

    # Detectable: a venv with no manifest is not one harness finished writing.
    assert (out / "pyvenv.cfg").exists()
    assert not (out / STATE_DIR / "manifest.json").exists()
    with pytest.raises(MaterializeError, match=r"no readable \.harness/manifest\.json"):
        read_manifest(out)
    # Refused without replace: the half-written directory is not silently reused.
    with pytest.raises(MaterializeError, match="exists and is not empty"):
        assemble(prepared, host, out, engine="merge", policy="ignore")

    again = assemble(prepared, host, out, engine="merge", policy="ignore", replace=True)
    ref_site = reference.venv.site_packages
    assert tree_listing(again.venv.site_packages) == tree_listing(ref_site)
    assert (out / STATE_DIR / "plan.json").read_bytes() == (
        tmp_path / "ref" / STATE_DIR / "plan.json"
    ).read_bytes()
    code = f"import part0, part{PACKAGES - 1}; print(part0.N, part{PACKAGES - 1}.N)"
    shown = subprocess.run(
        [str(again.venv.python), "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.split() == ["0", str(PACKAGES - 1)]
