"""Faulty-index gaps not covered by test_index/test_cache: a page that lies about the sha256,
retry bounds counted on the wire for every retryable fault, and the log line of every retry.

All through the loopback index of `fake_index.py` and the real client, cache and CLI.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

import pytest
from fake_index import FakeIndex, pointed_at, reset, short, slow, status

from harness import supply
from harness.cli import main
from harness.errors import IndexError_, IntegrityError
from harness.model import WheelFile
from harness.supply import IndexResolver
from harness.supply import index as index_module
from harness.supply.cache import WheelCache
from harness.supply.index import IndexClient
from harness.supply.wheelbuilder import make_wheel

WHEEL = "demo-1.0-py3-none-any.whl"
CONTENT = make_wheel("demo", "1.0", {"demo/__init__.py": "X = 1\n" + "#" * 200_000})
REAL_SHA = hashlib.sha256(CONTENT).hexdigest()
LIE = hashlib.sha256(b"what the page claims").hexdigest()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real cache; start from a fresh process-wide client each test."""
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.delenv("HARNESS_OFFLINE", raising=False)
    monkeypatch.setattr(index_module, "_default", None)


def stored_files(cache_root: Path) -> list[str]:
    """Every wheel-file-shaped thing in the cache: verified files and temporaries."""
    found = []
    for sub in ("sha256", "tmp"):
        base = cache_root / sub
        if base.exists():
            found += [str(p.relative_to(cache_root)) for p in base.rglob("*") if p.is_file()]
    return sorted(found)


def lying_index(mode: str) -> FakeIndex:
    """An index whose project page lists LIE as the sha256 of bytes that hash to REAL_SHA."""
    index = FakeIndex(mode)
    served = index.add("demo", WHEEL, CONTENT)
    with index.state.lock:
        index.state.files[WHEEL] = dataclasses.replace(served, sha256=LIE)
    return index


def test_json_page_lying_about_sha256_is_refused_after_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With a size on the page the pin is made from the page alone, so the lie is only caught
    # when the downloaded bytes are hashed: that must be an IntegrityError, not a cached file.
    with lying_index("json") as index, pointed_at(index, monkeypatch):
        cache = WheelCache(offline=False)
        [pin] = supply.lock(["demo==1.0"], cache=cache)
        assert pin.files == (WheelFile(WHEEL, LIE, len(CONTENT)),)  # the page's word, as given
        with pytest.raises(IntegrityError) as caught:
            cache.obtain(pin.files[0], IndexResolver(cache=cache))
        message = str(caught.value)
        assert message == (
            f"{WHEEL} from {index.origin}/files/{WHEEL}: expected sha256 {LIE} and size "
            f"{len(CONTENT)}, got sha256 {REAL_SHA} and size {len(CONTENT)}; nothing was written "
            "to the cache"
        )
        assert index.hits(WHEEL) == 1  # a hash mismatch is not retried: the bytes will not change
    assert stored_files(cache.root) == []


def test_html_page_lying_about_sha256_is_refused_while_locking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An HTML page gives no size, so locking downloads the file to learn it: the lie is caught
    # there, before any pin exists.
    with lying_index("html") as index, pointed_at(index, monkeypatch):
        cache = WheelCache(offline=False)
        with pytest.raises(IntegrityError) as caught:
            supply.lock(["demo==1.0"], cache=cache)
        message = str(caught.value)
        assert f"expected sha256 {LIE} and any size" in message
        assert f"got sha256 {REAL_SHA} and size {len(CONTENT)}" in message
        assert index.hits(WHEEL) == 1
    assert stored_files(cache.root) == []


def test_lying_page_through_the_cli_exits_2_naming_both_hashes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with lying_index("json") as index, pointed_at(index, monkeypatch):
        assert main(["fetch", "demo==1.0", "--python", "default"]) == 2
    err = capsys.readouterr().err
    assert f"harness fetch: error: {WHEEL} from {index.origin}/files/{WHEEL}" in err
    assert f"expected sha256 {LIE}" in err and f"got sha256 {REAL_SHA}" in err
    assert stored_files(WheelCache().root) == []


@pytest.mark.parametrize("attempts", [1, 2, 4])
def test_retries_are_bounded_by_the_configured_attempts_and_each_is_logged(
    attempts: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # HARNESS_RETRY_ATTEMPTS configures the default client; requests on the wire must equal it.
    monkeypatch.setenv("HARNESS_RETRY_ATTEMPTS", str(attempts))
    with FakeIndex() as index, pointed_at(index, monkeypatch):
        index.add("demo", WHEEL, CONTENT)
        index.fail_always(WHEEL, status(503))
        cache = WheelCache(offline=False)
        url = f"{index.origin}/files/{WHEEL}"
        with (
            caplog.at_level(logging.WARNING, logger="harness.supply.index"),
            pytest.raises(IndexError_) as caught,
        ):
            cache.obtain(WheelFile(WHEEL, REAL_SHA, len(CONTENT)), IndexResolver(cache=cache))
        assert index.hits(WHEEL) == attempts
        assert index.hits("demo") == 1  # the page answered; only the file was retried
    assert str(caught.value) == (
        f"{url}: HTTP 503 Service Unavailable (gave up after {attempts} attempts)"
    )
    retries = [r.getMessage() for r in caplog.records if r.name == "harness.supply.index"]
    # one warning per failed attempt that is followed by another; the last one raises instead
    assert len(retries) == attempts - 1
    for number, line in enumerate(retries, start=1):
        assert line.startswith(f"{url}: attempt {number}/{attempts} failed (HTTP 503 ")
        assert "retrying in" in line
    assert stored_files(cache.root) == []


def test_every_kind_of_transient_fault_uses_up_one_attempt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # reset, short body and a read timeout each cost exactly one attempt; with 3 attempts the
    # third fault is final, with 4 the fourth request succeeds and the file is stored.
    faults = (reset(), short(), slow(1.5))
    url_path = f"/files/{WHEEL}"
    for attempts, succeeds in ((3, False), (4, True)):
        caplog.clear()
        with FakeIndex() as index:
            index.add("demo", WHEEL, CONTENT)
            index.fail(WHEEL, *faults)
            client = IndexClient(index.url, attempts=attempts, backoff_base=0.01, read_timeout=0.4)
            cache = WheelCache(tmp_path / f"cache-{attempts}", offline=False, client=client)
            pinned = WheelFile(WHEEL, REAL_SHA, len(CONTENT))
            with caplog.at_level(logging.WARNING, logger="harness.supply.index"):
                if succeeds:
                    path = cache.ensure(pinned, IndexResolver(cache=cache))
                    assert path.read_bytes() == CONTENT
                else:
                    with pytest.raises(IndexError_, match=r"timed out .*gave up after 3 attempts"):
                        cache.ensure(pinned, IndexResolver(cache=cache))
            assert index.hits(WHEEL) == (4 if succeeds else 3)
            assert [p for p, _ in index.requests].count(url_path) == index.hits(WHEEL)
        reasons = [r.getMessage() for r in caplog.records if r.name == "harness.supply.index"]
        assert len(reasons) == (3 if succeeds else 2)
        assert "transfer broken" in reasons[0] and "transfer broken" in reasons[1]
        if succeeds:
            assert "timed out" in reasons[2]
        stored = [p.name for p in (cache.root / "sha256").rglob("*.whl")]
        assert stored == ([WHEEL] if succeeds else [])
        assert list((cache.root / "tmp").iterdir()) == []


def test_retry_after_hint_is_capped_and_the_log_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with FakeIndex() as index:
        index.add("demo", WHEEL, CONTENT)
        index.fail("demo", status(429, retry_after="120"))
        client = IndexClient(index.url, backoff_base=0.01, attempts=2, max_retry_after=0.2)
        with caplog.at_level(logging.WARNING, logger="harness.supply.index"):
            assert [f.filename for f in client.project_files("demo")] == [WHEEL]
        assert index.hits("demo") == 2
    [line] = [r.getMessage() for r in caplog.records if r.name == "harness.supply.index"]
    # the 120 s the server asked for is capped to 0.2 s, and the log shows the real wait
    assert f"{index.url}demo/: attempt 1/2 failed (HTTP 429 Too Many Requests)" in line
    assert line.endswith("retrying in 0.20s")
