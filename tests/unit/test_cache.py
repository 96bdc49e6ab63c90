"""The wheel cache over a loopback index: verified, atomic, locked, honest when offline."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from fake_index import FakeIndex, reset, short, slow, wrong_bytes

from harness.errors import IndexError_, IntegrityError, OfflineError, WheelError
from harness.model import WheelFile
from harness.supply import IndexResolver
from harness.supply.cache import WheelCache
from harness.supply.index import IndexClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WHEEL = "demo-1.0-py3-none-any.whl"
CONTENT = b"pretend wheel " * 8192  # 112 KiB


def wheel_file(content: bytes = CONTENT, filename: str = WHEEL) -> WheelFile:
    return WheelFile(filename, hashlib.sha256(content).hexdigest(), len(content))


@pytest.fixture
def index():
    with FakeIndex() as served:
        served.add("demo", WHEEL, CONTENT)
        yield served


@pytest.fixture
def cache(tmp_path: Path, index: FakeIndex) -> WheelCache:
    client = IndexClient(index.url, backoff_base=0.01, attempts=3, read_timeout=5)
    return WheelCache(tmp_path / "cache", offline=False, client=client)


def resolver(cache: WheelCache) -> IndexResolver:
    return IndexResolver(cache=cache)


def visible_files(cache: WheelCache) -> list[str]:
    """Everything under sha256/ and tmp/: where a partial file must never be."""
    found = []
    for sub in ("sha256", "tmp"):
        base = cache.root / sub
        if base.exists():
            found += [str(p.relative_to(cache.root)) for p in base.rglob("*") if p.is_file()]
    return sorted(found)


def test_download_lands_content_addressed_read_only_and_verified(
    cache: WheelCache, index: FakeIndex
) -> None:
    pinned = wheel_file()
    first = cache.obtain(pinned, resolver(cache))
    assert first.status == "fetched"
    sha = pinned.sha256
    assert first.path == cache.root / "sha256" / sha[:2] / sha / WHEEL
    assert first.path.read_bytes() == CONTENT
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o444  # nobody edits a verified file
    assert visible_files(cache) == [f"sha256/{sha[:2]}/{sha}/{WHEEL}"]  # tmp/ cleaned
    again = cache.obtain(pinned, resolver(cache))
    assert again.status == "cached" and again.path == first.path
    assert index.hits(WHEEL) == 1  # the second time made no request at all
    assert index.hits("demo") == 1


def test_broken_transfers_are_retried_then_stored(cache: WheelCache, index: FakeIndex) -> None:
    index.fail(WHEEL, reset(), short())
    path = cache.ensure(wheel_file(), resolver(cache))
    assert path.read_bytes() == CONTENT
    assert index.hits(WHEEL) == 3


def test_short_body_leaves_nothing_in_the_cache(cache: WheelCache, index: FakeIndex) -> None:
    index.fail_always(WHEEL, short())
    with pytest.raises(IndexError_, match="transfer broken"):
        cache.ensure(wheel_file(), resolver(cache))
    assert visible_files(cache) == []


def test_wrong_bytes_are_an_integrity_error_and_leave_nothing(
    cache: WheelCache, index: FakeIndex
) -> None:
    index.fail(WHEEL, wrong_bytes())
    pinned = wheel_file()
    with pytest.raises(IntegrityError) as caught:
        cache.ensure(pinned, resolver(cache))
    message = str(caught.value)
    assert WHEEL in message and f"expected sha256 {pinned.sha256}" in message
    assert "nothing was written to the cache" in message
    assert visible_files(cache) == []


def test_index_listing_another_hash_is_refused_before_download(
    cache: WheelCache, index: FakeIndex
) -> None:
    other = WheelFile(WHEEL, "0" * 64, len(CONTENT))
    with pytest.raises(IntegrityError, match="the index lists sha256"):
        cache.ensure(other, resolver(cache))
    assert index.hits(WHEEL) == 0 and visible_files(cache) == []


def test_no_partial_file_is_ever_visible_at_the_final_path(
    cache: WheelCache, index: FakeIndex
) -> None:
    index.fail(WHEEL, slow(0.6, body=True))  # half the body, a pause, the rest
    pinned = wheel_file()
    final = cache.path_for(pinned)
    worker = threading.Thread(target=cache.ensure, args=(pinned, resolver(cache)))
    worker.start()
    saw_part = False
    while worker.is_alive():
        # only a complete, verified file is ever renamed in (the thread may still be alive
        # for an instant after the rename, so "exists" alone is not a failure)
        if final.exists():
            assert final.read_bytes() == CONTENT
        saw_part = saw_part or any((cache.root / "tmp").glob("*.part"))
        time.sleep(0.02)
    worker.join()
    assert saw_part, "the in-flight download should have been under tmp/"
    assert final.read_bytes() == CONTENT


def test_corrupt_cached_file_is_reported_removed_and_fetched_again(
    cache: WheelCache, index: FakeIndex, caplog: pytest.LogCaptureFixture
) -> None:
    pinned = wheel_file()
    path = cache.ensure(pinned, resolver(cache))
    os.chmod(path, 0o644)
    path.write_bytes(b"X" * len(CONTENT))  # same size, other bytes: only the hash can tell
    with caplog.at_level(logging.WARNING, logger="harness.supply.cache"):
        assert cache.get(pinned) is None
    assert any("corrupt cached file" in r.getMessage() for r in caplog.records)
    assert not path.exists()
    assert cache.ensure(pinned, resolver(cache)).read_bytes() == CONTENT
    assert index.hits(WHEEL) == 2


def test_truncated_cached_file_is_never_used(cache: WheelCache) -> None:
    pinned = wheel_file()
    path = cache.path_for(pinned)
    path.parent.mkdir(parents=True)
    path.write_bytes(CONTENT[:100])
    assert cache.get(pinned) is None and not path.exists()


def test_offline_names_every_missing_file_and_touches_no_network(
    tmp_path: Path, index: FakeIndex
) -> None:
    online = WheelCache(tmp_path / "c", offline=False, client=IndexClient(index.url))
    present = wheel_file()
    online.ensure(present, IndexResolver(cache=online))
    requests_before = len(index.requests)
    offline = online.with_offline(True)
    missing = [
        wheel_file(b"a", "alpha-2.0-py3-none-any.whl"),
        wheel_file(b"b", "beta_pkg-0.1-cp39-cp39-manylinux_2_17_x86_64.whl"),
    ]
    with pytest.raises(OfflineError) as caught:
        offline.fetch_all([present, *missing], IndexResolver(cache=offline))
    message = str(caught.value)
    assert "2 file(s) not in the cache" in message
    assert "alpha 2.0 (alpha-2.0-py3-none-any.whl)" in message
    assert "beta-pkg 0.1 (beta_pkg-0.1-cp39-cp39-manylinux_2_17_x86_64.whl)" in message
    assert WHEEL not in message  # the cached one is not "missing"
    assert [r.status for r in offline.fetch_all([present], IndexResolver(cache=offline))] == [
        "cached"
    ]
    assert len(index.requests) == requests_before


def test_offline_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    cache = WheelCache(tmp_path / "c")
    assert cache.offline
    with pytest.raises(OfflineError, match=WHEEL):
        cache.ensure(wheel_file(), lambda wf: pytest.fail("offline must not resolve URLs"))


def test_fetch_all_reports_each_outcome(cache: WheelCache, index: FakeIndex) -> None:
    good = wheel_file()
    unknown = wheel_file(b"zz", "demo-1.0-cp39-cp39-linux_x86_64.whl")  # not on the index
    results = cache.fetch_all([good, unknown, good], resolver(cache), jobs=2)
    assert [(r.wheel_file, r.status) for r in results] == [(good, "fetched"), (unknown, "error")]
    assert "not listed on the index page" in str(results[1].error)


def test_add_local_copies_into_the_cache(tmp_path: Path) -> None:
    source = tmp_path / "local_pkg-3.0-py3-none-any.whl"
    source.write_bytes(b"local wheel")
    cache = WheelCache(tmp_path / "c", offline=True)
    added = cache.add_local(source)
    assert added == wheel_file(b"local wheel", source.name)
    assert cache.get(added) is not None and cache.find("Local.Pkg", "3.0") == [added]
    with pytest.raises(WheelError, match="not a valid wheel file name"):
        cache.add_local(tmp_path / "notawheel.zip")


def test_download_without_known_size_still_verifies_hash(
    cache: WheelCache, index: FakeIndex
) -> None:
    url = f"{index.origin}/files/{WHEEL}"
    got = cache.download_unpinned(WHEEL, hashlib.sha256(CONTENT).hexdigest(), url)
    assert got == wheel_file()
    with pytest.raises(IntegrityError):
        cache.download_unpinned(WHEEL, "1" * 64, url)
    assert len(visible_files(cache)) == 1


WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from harness.supply.cache import WheelCache
    from harness.model import WheelFile
    from harness.supply import IndexResolver

    root, go, filename, sha, size = sys.argv[1:6]
    cache = WheelCache(root, offline=False)
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.005)
    result = cache.obtain(WheelFile(filename, sha, int(size)), IndexResolver(cache=cache))
    print(json.dumps([result.status, str(result.path)]), flush=True)
    """
)


def test_four_processes_fetch_the_same_file_once(tmp_path: Path, index: FakeIndex) -> None:
    # The body pauses, so whoever downloads holds the lock while the others queue on it.
    index.fail(WHEEL, slow(0.5, body=True))
    pinned = wheel_file()
    root, go = tmp_path / "cache", tmp_path / "go"
    env = {**os.environ, "HARNESS_INDEX_URL": index.url, "HARNESS_RETRY_BASE": "0.01"}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(root),
                str(go),
                WHEEL,
                pinned.sha256,
                str(pinned.size),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        for _ in range(4)
    ]
    for worker in workers:  # all four imported and waiting: they start together
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    go.touch()
    outcomes = []
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        outcomes.append(json.loads(out))
    assert sorted(status for status, _ in outcomes) == ["cached", "cached", "cached", "fetched"]
    assert index.hits(WHEEL) == 1  # one download for four processes
    [only] = {path for _, path in outcomes}
    assert Path(only).read_bytes() == CONTENT
    assert [p for p in (root / "sha256").rglob("*") if p.is_file()] == [Path(only)]
    assert list((root / "tmp").iterdir()) == []
