"""Package index client: PEP 691 JSON simple API, PEP 503 HTML fallback, streaming downloads.

One `requests.Session` per thread (a Session is not documented as thread-safe), timeouts on
connect and read, and our own bounded retry loop with exponential backoff on connection errors,
timeouts, 429 (honouring `Retry-After`, capped) and 5xx. The loop is ours rather than urllib3's
`Retry` because a download that dies mid-body must restart from byte zero with a fresh hash, and
every retry must be logged (logger `harness.supply.index`) with the URL and the reason. Backoff base is
`HARNESS_RETRY_BASE` seconds (tests set it tiny). The base URL comes from
`harness.config.index_url()`: no registry host is written here. What a project page lists is
read by `harness.supply.indexpages`; the progress bar of a download is `harness.supply.progress`'s.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from harness import __version__, config
from harness.errors import IndexError_, IntegrityError
from harness.logs import lazy_logger
from harness.names import canonicalize_name
from harness.supply.indexpages import IndexFile, parse_html_page, parse_json_page
from harness.supply.progress import ProgressBar, ProgressCallback, terminal_progress

if TYPE_CHECKING:
    import requests

log = lazy_logger("harness.supply.index")


def _requests():  # type: ignore[no-untyped-def]
    """requests, imported on first network use: offline commands never pay its ~60 ms."""
    import requests

    return requests


JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Download:
    """What a download wrote: the sha256 and size computed while streaming."""

    sha256: str
    size: int


class NotFound(IndexError_):
    """HTTP 404: the index has no such project or file."""


class _Retryable(Exception):
    """An attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # only a throttled response needs it

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class IndexClient:
    """A simple-API client with timeouts and bounded, logged retries.

    `backoff_base` (default `HARNESS_RETRY_BASE` or 0.5 s) doubles per attempt up to
    `max_backoff`; a `Retry-After` is honoured up to `max_retry_after` seconds.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        attempts: int | None = None,
        backoff_base: float | None = None,
        max_backoff: float = 10.0,
        max_retry_after: float = 30.0,
    ) -> None:
        self.base_url = (base_url or config.index_url()).rstrip("/") + "/"
        self.connect_timeout = connect_timeout or _env_float("HARNESS_CONNECT_TIMEOUT", 10.0)
        self.read_timeout = read_timeout or _env_float("HARNESS_READ_TIMEOUT", 60.0)
        self.attempts = max(1, attempts or int(_env_float("HARNESS_RETRY_ATTEMPTS", 5)))
        self.backoff_base = (
            backoff_base if backoff_base is not None else _env_float("HARNESS_RETRY_BASE", 0.5)
        )
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._local = threading.local()

    # ------------------------------------------------------------------ plumbing

    @property
    def session(self) -> requests.Session:
        requests = _requests()
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = f"venv-merge-harness/{__version__}"
            self._local.session = session
        return session

    def project_url(self, name: str) -> str:
        return f"{self.base_url}{canonicalize_name(name)}/"

    def _delay(self, attempt: int, hinted: float | None) -> float:
        if hinted is not None:
            return min(hinted, self.max_retry_after)
        return min(self.backoff_base * (2 ** (attempt - 1)), self.max_backoff)

    def _attempts(self, url: str, action: Callable[[], Any]) -> Any:
        """Run `action` until it succeeds, raising IndexError_ after the last attempt."""
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except _Retryable as exc:
                if attempt == self.attempts:
                    raise IndexError_(
                        f"{url}: {exc.reason} (gave up after {self.attempts} attempts)"
                    ) from exc
                delay = self._delay(attempt, exc.delay)
                log.warning(
                    "%s: attempt %d/%d failed (%s); retrying in %.2fs",
                    url,
                    attempt,
                    self.attempts,
                    exc.reason,
                    delay,
                )
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, url: str, *, headers: dict[str, str], stream: bool) -> requests.Response:
        """One GET; transient failures become `_Retryable`, permanent ones `IndexError_`."""
        requests = _requests()
        try:
            response = self.session.get(
                url,
                headers=headers,
                stream=stream,
                timeout=(self.connect_timeout, self.read_timeout),
            )
        except requests.Timeout as exc:
            raise _Retryable(f"timed out ({type(exc).__name__}: {exc})") from exc
        except requests.exceptions.SSLError as exc:  # a certificate problem is not transient
            raise IndexError_(f"{url}: TLS failed: {exc}") from exc
        except requests.ConnectionError as exc:
            raise _Retryable(f"connection failed ({exc})") from exc
        except requests.RequestException as exc:
            raise IndexError_(f"{url}: request failed: {exc}") from exc
        status = response.status_code
        if status == 429 or 500 <= status < 600:
            hinted = retry_after_seconds(response.headers.get("Retry-After"))
            response.close()
            raise _Retryable(f"HTTP {status} {response.reason}", hinted)
        if status >= 400:
            response.close()
            error = NotFound if status == 404 else IndexError_
            raise error(f"{url}: HTTP {status} {response.reason}")
        return response

    # ------------------------------------------------------------------ simple API

    def project_files(self, name: str) -> list[IndexFile]:
        """Every file the index lists for `name` (JSON if offered, else HTML), index order."""
        requests = _requests()
        url = self.project_url(name)

        def attempt() -> list[IndexFile]:
            try:
                response = self._get(url, headers={"Accept": ACCEPT}, stream=False)
            except NotFound as exc:
                raise NotFound(f"{exc}: the index has no project named {name!r}") from exc
            try:
                body = response.content
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                raise _Retryable(f"connection broken while reading the page ({exc})") from exc
            except requests.Timeout as exc:
                raise _Retryable(f"timed out while reading the page ({exc})") from exc
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            page_url = response.url or url
            if content_type == JSON_TYPE:
                return parse_json_page(body, page_url)
            return parse_html_page(body.decode(response.encoding or "utf-8", "replace"), page_url)

        return self._attempts(url, attempt)

    # ------------------------------------------------------------------ downloads

    def download(
        self,
        url: str,
        dest: IO[bytes],
        expected_size: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Download:
        """Stream `url` into `dest`, hashing as it goes; restart from byte 0 on a retry.

        A body longer than `expected_size` stops early (IntegrityError, not retried: the index
        serves other bytes); a body shorter than its Content-Length is a broken transfer and
        is retried.
        """

        requests = _requests()

        def attempt() -> Download:
            dest.seek(0)
            dest.truncate()
            response = self._get(url, headers={"Accept": "*/*"}, stream=True)
            import hashlib  # only a download hashes

            digest = hashlib.sha256()
            written = 0
            total = expected_size
            if total is None and response.headers.get("Content-Length", "").isdigit():
                total = int(response.headers["Content-Length"])
            try:
                for chunk in response.iter_content(CHUNK):
                    written += len(chunk)
                    if expected_size is not None and written > expected_size:
                        raise IntegrityError(
                            f"{url}: the index sent more than the pinned {expected_size} bytes"
                        )
                    digest.update(chunk)
                    dest.write(chunk)
                    if on_progress:
                        on_progress(written, total)
            except (
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                raise _Retryable(
                    f"transfer broken after {written} bytes ({type(exc).__name__}: {exc})"
                ) from exc
            except requests.Timeout as exc:
                raise _Retryable(f"timed out after {written} bytes ({exc})") from exc
            finally:
                response.close()
            dest.flush()
            return Download(sha256=digest.hexdigest(), size=written)

        return self._attempts(url, attempt)


# --------------------------------------------------------------------------- defaults

_default: IndexClient | None = None
_default_lock = threading.Lock()


def default_client() -> IndexClient:
    """A process-wide client for the configured index (rebuilt if the index URL changes)."""
    global _default
    with _default_lock:
        if _default is None or _default.base_url != config.index_url():
            _default = IndexClient()
        return _default


def project_files(name: str) -> list[IndexFile]:
    return default_client().project_files(name)


def download(
    url: str,
    dest: IO[bytes],
    expected_size: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Download:
    return default_client().download(url, dest, expected_size, on_progress)


__all__ = [
    "Download",
    "IndexClient",
    "IndexFile",
    "NotFound",
    "ProgressBar",
    "default_client",
    "download",
    "parse_html_page",
    "parse_json_page",
    "project_files",
    "retry_after_seconds",
    "terminal_progress",
]
