"""A simple-API project page → the files it lists: PEP 691 JSON or PEP 503 HTML.

Pure functions over the page's bytes or text and its URL (relative links resolve against it);
fetching the page, with its retries, is `harness.supply.index`'s. A JSON page that is not one is an
IndexError_; an HTML page yields whatever anchors it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from harness.errors import IndexError_

__all__ = ["IndexFile", "parse_html_page", "parse_json_page"]


@dataclass(frozen=True)
class IndexFile:
    """One file the index lists for a project. `sha256`/`size` are None when not listed."""

    filename: str
    url: str
    sha256: str | None
    size: int | None
    yanked: bool = False
    requires_python: str | None = None


def _sha256_of(hashes: Any) -> str | None:
    if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
        return hashes["sha256"].lower()
    return None


def parse_json_page(body: bytes, page_url: str) -> list[IndexFile]:
    """A PEP 691 project page (`files`: filename, url, hashes, size, yanked, requires-python)."""
    import json

    try:
        document = json.loads(body)
        entries = document["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexError_(f"{page_url}: not a PEP 691 JSON project page ({exc})") from exc
    files = []
    for entry in entries:
        size = entry.get("size")
        files.append(
            IndexFile(
                filename=entry["filename"],
                url=urljoin(page_url, entry["url"]),
                sha256=_sha256_of(entry.get("hashes")),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                yanked=bool(entry.get("yanked", False)),
                requires_python=entry.get("requires-python") or None,
            )
        )
    return files


def _anchor_parser():  # type: ignore[no-untyped-def]
    """An HTML parser collecting anchors; html.parser is imported only for an HTML page (the
    JSON API and offline runs never need it)."""
    from html.parser import HTMLParser

    class _AnchorParser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.anchors: list[tuple[dict[str, str | None], str]] = []
            self._current: dict[str, str | None] | None = None
            self._text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self._current = dict(attrs)
                self._text = []

        def handle_data(self, data: str) -> None:
            if self._current is not None:
                self._text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self._current is not None:
                self.anchors.append((self._current, "".join(self._text).strip()))
                self._current = None

    return _AnchorParser()


def parse_html_page(text: str, page_url: str) -> list[IndexFile]:
    """A PEP 503 project page: anchors, `#sha256=` fragments, `data-yanked`,
    `data-requires-python` (entity-decoded). `data-dist-info-metadata` is ignored."""
    parser = _anchor_parser()
    parser.feed(text)
    parser.close()
    files = []
    for attrs, anchor_text in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(page_url, href))
        algorithm, _, digest = fragment.partition("=")
        filename = anchor_text or urlsplit(url).path.rsplit("/", 1)[-1]
        files.append(
            IndexFile(
                filename=filename,
                url=url,
                sha256=digest.lower() if algorithm == "sha256" and digest else None,
                size=None,
                yanked="data-yanked" in attrs,
                requires_python=attrs.get("data-requires-python") or None,
            )
        )
    return files
