"""A loopback package index for tests: PEP 691 JSON and PEP 503 HTML pages, files, faults.

Real HTTP on 127.0.0.1 (a threaded `http.server`), so the harness's real `requests` client,
timeouts and retry loop are what get tested. Faults are queued per target (a file name or a
project name) and consumed one per request, so "500, then OK" is `fail("x.whl", status(500))`.
Every request is counted, which is how tests prove "downloaded exactly once" or "no request".

    with FakeIndex() as index:
        served = index.add("demo", "demo-1.0-py3-none-any.whl", wheel_bytes)
        index.fail("demo-1.0-py3-none-any.whl", status(503), reset())
        monkeypatch.setenv("HARNESS_INDEX_URL", index.url)
        ...
        assert index.hits("demo-1.0-py3-none-any.whl") == 3
"""

from __future__ import annotations

import hashlib
import html
import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
from packaging.utils import canonicalize_name

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (a timeout test) leaves a broken pipe: expected, not an error."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class Fault:
    """What goes wrong with one request.

    kinds: `status` (reply `code` with `headers`), `reset` (half the body, then a TCP RST),
    `short` (Content-Length says N, fewer bytes come, clean close), `wrong-bytes` (same length,
    other bytes), `slow` (sleep `delay` before the headers), `slow-body` (headers, then sleep).
    """

    kind: str
    code: int = 500
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


def status(code: int, retry_after: str | None = None) -> Fault:
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return Fault("status", code=code, headers=headers)


def reset() -> Fault:
    return Fault("reset")


def short() -> Fault:
    return Fault("short")


def wrong_bytes() -> Fault:
    return Fault("wrong-bytes")


def slow(delay: float, *, body: bool = False) -> Fault:
    return Fault("slow-body" if body else "slow", delay=delay)


@dataclass(frozen=True)
class ServedFile:
    project: str
    filename: str
    content: bytes
    sha256: str
    url: str
    yanked: bool = False
    requires_python: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class _State:
    files: dict[str, ServedFile] = field(default_factory=dict)
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    persistent: dict[str, Fault] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    log: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeIndex:
    """`mode="json"` serves PEP 691 JSON to clients that ask for it (HTML otherwise);
    `mode="html"` is an index without PEP 691. `sizes=False` omits JSON sizes,
    `hashes=False` omits every hash, `relative_urls` makes file links relative."""

    def __init__(
        self,
        mode: str = "json",
        *,
        sizes: bool = True,
        hashes: bool = True,
        relative_urls: bool = False,
    ) -> None:
        if mode not in ("json", "html"):
            raise ValueError(mode)
        self.mode = mode
        self.sizes = sizes
        self.hashes = hashes
        self.relative_urls = relative_urls
        self.state = _State()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ set-up

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The simple-API base URL to put in HARNESS_INDEX_URL."""
        return f"{self.origin}/simple/"

    def add(
        self,
        project: str,
        filename: str,
        content: bytes,
        *,
        yanked: bool = False,
        requires_python: str | None = None,
    ) -> ServedFile:
        served = ServedFile(
            project=canonicalize_name(project),
            filename=filename,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            url=f"{self.origin}/files/{filename}",
            yanked=yanked,
            requires_python=requires_python,
        )
        with self.state.lock:
            self.state.files[filename] = served
        return served

    def fail(self, target: str, *faults: Fault) -> None:
        """Queue faults for the next requests of `target` (a file name or a project name)."""
        with self.state.lock:
            self.state.faults[self._key(target)].extend(faults)

    def fail_always(self, target: str, fault: Fault) -> None:
        with self.state.lock:
            self.state.persistent[self._key(target)] = fault

    def hits(self, target: str) -> int:
        """Requests made for `target` (file name or project name), faulty ones included."""
        with self.state.lock:
            return self.state.hits[self._key(target)]

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(path, Accept header) of every request, in arrival order."""
        with self.state.lock:
            return list(self.state.log)

    def _key(self, target: str) -> str:
        return target if target.endswith((".whl", ".tar.gz", ".zip")) else canonicalize_name(target)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ pages

    def project_files(self, project: str) -> list[ServedFile]:
        with self.state.lock:
            return sorted(
                (f for f in self.state.files.values() if f.project == canonicalize_name(project)),
                key=lambda f: f.filename,
            )

    def json_page(self, project: str) -> bytes:
        files = []
        for f in self.project_files(project):
            entry: dict[str, object] = {
                "filename": f.filename,
                "url": self._href(f),
                "hashes": {"sha256": f.sha256} if self.hashes else {},
                "requires-python": f.requires_python,
                "yanked": f.yanked,
            }
            if self.sizes:
                entry["size"] = f.size
            files.append(entry)
        return json.dumps(
            {"meta": {"api-version": "1.1"}, "name": project, "files": files}
        ).encode()

    def html_page(self, project: str) -> bytes:
        rows = []
        for f in self.project_files(project):
            href = self._href(f) + (f"#sha256={f.sha256}" if self.hashes else "")
            attrs = f'href="{html.escape(href)}"'
            if f.requires_python:
                attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
            if f.yanked:
                attrs += ' data-yanked=""'
            attrs += ' data-dist-info-metadata="sha256=00"'
            rows.append(f"    <a {attrs}>{html.escape(f.filename)}</a><br/>")
        body = "\n".join(rows)
        return (
            '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" '
            f'content="1.0"><title>Links for {project}</title></head>\n<body>\n'
            f"<h1>Links for {project}</h1>\n{body}\n</body></html>\n"
        ).encode()

    def _href(self, f: ServedFile) -> str:
        return f"../../files/{f.filename}" if self.relative_urls else f.url


def _handler_for(index: FakeIndex) -> type[BaseHTTPRequestHandler]:
    state = index.state

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = unquote(self.path.split("?", 1)[0])
            accept = self.headers.get("Accept", "")
            if path.startswith("/simple/") and path.count("/") == 3:
                key = canonicalize_name(path.split("/")[2])
                kind = "page"
            elif path.startswith("/files/"):
                key = path[len("/files/") :]
                kind = "file"
            else:
                key, kind = path, "other"
            with state.lock:
                state.log.append((path, accept))
                state.hits[key] += 1
                queued = state.faults.get(key)
                fault = queued.popleft() if queued else state.persistent.get(key)
                served = state.files.get(key)
            if kind == "page":
                if not index.project_files(key):
                    return self._send(404, b"not found", "text/plain", fault=fault)
                if index.mode == "json" and JSON_TYPE in accept:
                    return self._send(200, index.json_page(key), JSON_TYPE, fault=fault)
                return self._send(200, index.html_page(key), "text/html", fault=fault)
            if kind == "file" and served is not None:
                return self._send(200, served.content, "application/octet-stream", fault=fault)
            return self._send(404, b"not found", "text/plain", fault=fault)

        def _send(self, code: int, body: bytes, content_type: str, *, fault: Fault | None) -> None:
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault is not None and fault.kind == "status":
                code, body, content_type = fault.code, b"fault injected", "text/plain"
            if fault is not None and fault.kind == "wrong-bytes":
                body = bytes(b ^ 0xFF for b in body)
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in fault.headers if fault is not None else ():
                self.send_header(name, value)
            if fault is not None and fault.kind in ("reset", "short"):
                self.send_header("Connection", "close")
            self.end_headers()
            if fault is not None and fault.kind == "slow-body":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(fault.delay)
                self.wfile.write(body[len(body) // 2 :])
                return
            if fault is not None and fault.kind in ("reset", "short"):
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                if fault.kind == "reset":  # SO_LINGER 0: close() sends RST, not FIN
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                self.connection.close()
                return
            self.wfile.write(body)

    return Handler


@contextmanager
def pointed_at(index: FakeIndex, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIndex]:
    """Make the harness use `index` (and tiny retry backoff); restore config afterwards.

    `config.index_url` is cached for the process, so it is cleared on the way in and out.
    """
    from harness import config

    monkeypatch.setenv("HARNESS_INDEX_URL", index.url)
    monkeypatch.setenv("HARNESS_RETRY_BASE", "0.01")
    config.index_url.cache_clear()
    try:
        yield index
    finally:
        config.index_url.cache_clear()
