"""The index client against a real loopback HTTP index: both page formats, retries, faults."""

from __future__ import annotations

import email.utils
import hashlib
import io
import logging
import socket
import time

import pytest
from fake_index import FakeIndex, pointed_at, reset, short, slow, status, wrong_bytes

from harness.errors import IndexError_, IntegrityError
from harness.supply import index as index_module
from harness.supply.index import IndexClient, parse_html_page, retry_after_seconds

WHEEL = "demo-1.0-py3-none-any.whl"
CONTENT = b"demo wheel bytes " * 4096  # 68 KiB: several chunks on the wire


def client(index: FakeIndex, **options: float) -> IndexClient:
    defaults = {"backoff_base": 0.01, "attempts": 3, "read_timeout": 5.0}
    defaults.update(options)
    return IndexClient(index.url, **defaults)  # type: ignore[arg-type]


def _serve(mode: str):
    with FakeIndex(mode) as served:
        served.add("demo", WHEEL, CONTENT, requires_python=">=3.8")
        served.add("demo", "demo-1.0.tar.gz", b"sdist", yanked=True)
        yield served


@pytest.fixture
def index():
    yield from _serve("json")


@pytest.fixture(params=["json", "html"])
def any_index(request: pytest.FixtureRequest):
    """Both page formats: PEP 691 JSON, and an index that only speaks PEP 503 HTML."""
    yield from _serve(request.param)


def test_project_files_lists_every_file_with_hash_in_both_formats(any_index: FakeIndex) -> None:
    index = any_index
    files = {f.filename: f for f in client(index).project_files("Demo")}
    assert sorted(files) == ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"]
    wheel = files[WHEEL]
    assert wheel.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert wheel.url == f"{index.origin}/files/{WHEEL}"  # fragment stripped from HTML hrefs
    assert wheel.requires_python == ">=3.8"  # HTML: entity-decoded from data-requires-python
    assert not wheel.yanked and files["demo-1.0.tar.gz"].yanked
    # size is a PEP 691 v1.1 field; HTML pages never carry it
    assert wheel.size == (len(CONTENT) if index.mode == "json" else None)
    # the client asks for JSON first; the project name was normalized in the URL
    path, accept = index.requests[-1]
    assert path == "/simple/demo/" and accept.startswith("application/vnd.pypi.simple.v1+json")


def test_html_relative_links_resolve_against_the_page() -> None:
    with FakeIndex("html", relative_urls=True) as served:
        served.add("demo", WHEEL, CONTENT)
        [entry] = client(served).project_files("demo")
    assert entry.url == f"{served.origin}/files/{WHEEL}"


def test_html_parser_reads_fragments_and_ignores_metadata_attribute() -> None:
    page = (
        '<a href="https://h.invalid/p/x-1.0-py3-none-any.whl#sha256=ABC" '
        'data-dist-info-metadata="sha256=def" data-requires-python="&gt;=3.9">'
        "x-1.0-py3-none-any.whl</a>"
        '<a href="/p/x-1.0.tar.gz#md5=00">x-1.0.tar.gz</a>'
    )
    wheel, sdist = parse_html_page(page, "https://h.invalid/simple/x/")
    assert (wheel.sha256, wheel.requires_python) == ("abc", ">=3.9")
    assert sdist.sha256 is None  # only sha256 fragments count
    assert sdist.url == "https://h.invalid/p/x-1.0.tar.gz"


def test_unknown_project_is_a_clear_404(index: FakeIndex) -> None:
    with pytest.raises(index_module.NotFound, match="no project named 'nope'"):
        client(index).project_files("nope")
    assert index.hits("nope") == 1  # a 404 is not retried


def test_500_then_ok_is_retried_and_logged(
    any_index: FakeIndex, caplog: pytest.LogCaptureFixture
) -> None:
    index = any_index
    index.fail("demo", status(500), status(503))
    with caplog.at_level(logging.WARNING, logger="harness.supply.index"):
        files = client(index).project_files("demo")
    assert len(files) == 2
    assert index.hits("demo") == 3
    retries = [r.getMessage() for r in caplog.records if r.name == "harness.supply.index"]
    assert len(retries) == 2 and "HTTP 500" in retries[0] and "attempt 1/3" in retries[0]


def test_429_honours_retry_after(index: FakeIndex) -> None:
    index.fail("demo", status(429, retry_after="1"))
    started = time.monotonic()
    client(index, backoff_base=0.001).project_files("demo")
    # the wait came from Retry-After (1 s), not from the 1 ms backoff
    assert time.monotonic() - started >= 0.9
    assert index.hits("demo") == 2


def test_retry_after_is_capped(index: FakeIndex) -> None:
    index.fail("demo", status(429, retry_after="3600"))
    started = time.monotonic()
    IndexClient(index.url, backoff_base=0.01, max_retry_after=0.2).project_files("demo")
    assert time.monotonic() - started < 5


def test_retry_after_values() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 50 < retry_after_seconds(later) <= 60  # type: ignore[operator]


def test_persistent_5xx_gives_up_with_url_and_status(index: FakeIndex) -> None:
    index.fail_always("demo", status(502))
    with pytest.raises(IndexError_, match=r"/simple/demo/: HTTP 502 .*gave up after 3 attempts"):
        client(index).project_files("demo")
    assert index.hits("demo") == 3


def test_other_4xx_is_not_retried(index: FakeIndex) -> None:
    index.fail("demo", status(403))
    with pytest.raises(IndexError_, match="HTTP 403"):
        client(index).project_files("demo")
    assert index.hits("demo") == 1


def test_download_reset_mid_body_restarts_from_zero(index: FakeIndex) -> None:
    index.fail(WHEEL, reset())
    sink = io.BytesIO()
    got = client(index).download(f"{index.origin}/files/{WHEEL}", sink, len(CONTENT))
    # the half body of the first attempt must not stay in front of the second
    assert sink.getvalue() == CONTENT
    assert (got.sha256, got.size) == (hashlib.sha256(CONTENT).hexdigest(), len(CONTENT))
    assert index.hits(WHEEL) == 2


def test_short_body_every_time_is_an_error(index: FakeIndex) -> None:
    index.fail_always(WHEEL, short())
    with pytest.raises(IndexError_, match=r"transfer broken .*gave up after 3 attempts"):
        client(index).download(f"{index.origin}/files/{WHEEL}", io.BytesIO(), len(CONTENT))
    assert index.hits(WHEEL) == 3


def test_longer_body_than_pinned_stops_without_retry(index: FakeIndex) -> None:
    with pytest.raises(IntegrityError, match="more than the pinned 10 bytes"):
        client(index).download(f"{index.origin}/files/{WHEEL}", io.BytesIO(), 10)
    assert index.hits(WHEEL) == 1  # other bytes will not become the pinned ones by retrying


def test_wrong_bytes_are_reported_by_hash_not_hidden(index: FakeIndex) -> None:
    index.fail(WHEEL, wrong_bytes())
    got = client(index).download(f"{index.origin}/files/{WHEEL}", io.BytesIO(), len(CONTENT))
    # the client reports what it received; the cache compares it with the pin
    assert got.sha256 != hashlib.sha256(CONTENT).hexdigest() and got.size == len(CONTENT)


def test_slow_server_times_out(index: FakeIndex) -> None:
    index.fail_always("demo", slow(3.0))
    started = time.monotonic()
    with pytest.raises(IndexError_, match="timed out"):
        client(index, read_timeout=0.3, attempts=2).project_files("demo")
    assert time.monotonic() - started < 2.5  # two 0.3 s timeouts, not two 3 s waits


def test_slow_body_within_timeout_succeeds(index: FakeIndex) -> None:
    index.fail(WHEEL, slow(0.2, body=True))
    sink = io.BytesIO()
    client(index).download(f"{index.origin}/files/{WHEEL}", sink, len(CONTENT))
    assert sink.getvalue() == CONTENT


def test_connection_refused_names_the_url() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple/"
    with pytest.raises(IndexError_, match=rf"127\.0\.0\.1:{port}/simple/demo/: connection failed"):
        IndexClient(url, backoff_base=0.001, attempts=2).project_files("demo")


def test_default_client_follows_configured_index(
    index: FakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pointed_at(index, monkeypatch):
        assert index_module.default_client().base_url == index.url
        assert WHEEL in {f.filename for f in index_module.project_files("demo")}


def test_progress_callback_sees_the_total(index: FakeIndex) -> None:
    seen: list[tuple[int, int | None]] = []
    client(index).download(
        f"{index.origin}/files/{WHEEL}",
        io.BytesIO(),
        len(CONTENT),
        lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (len(CONTENT), len(CONTENT))


def test_progress_bar_draws_and_ends_the_line() -> None:
    out = io.StringIO()
    bar = index_module.ProgressBar("demo.whl", out)
    bar(50, 100)
    bar(100, 100)
    assert out.getvalue().endswith("\n") and "demo.whl" in out.getvalue()
    assert index_module.terminal_progress("x") is None  # pytest's stderr is not a terminal
