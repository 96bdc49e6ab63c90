"""A case file's text → its TOML document, remembered with the text.

Parsing TOML is cheap; importing `tomllib` (with `datetime`) is not, next to a warm `harness
assemble`. So what tomllib made of a text is remembered as JSON, named by `config.memo_name`
of the text and holding the text itself, and a case file read before is not parsed again.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from harness.errors import CaseFileError

# Bump when what a document is remembered as changes.
DOCUMENT_FORMAT = "harness-toml-document 1"
# The parser a remembered document came from: tomllib is the standard library's (tomli before
# 3.11), so a newer Python's TOML rules never answer for an older one.
_PARSER = "python{}.{}".format(*sys.version_info[:2])


def documents_dir() -> Path:
    """Where parsed case documents are remembered: `<cache>/case-documents/<name>.json`, named
    by `config.memo_name` of the text (each holds the text it was parsed from)."""
    from harness import config

    return config.cache_dir() / "case-documents"


def toml_document(text: str, path: Path) -> dict[str, Any]:
    """The TOML document `text` (read from `path`, named in errors) as tomllib parses it.

    What tomllib made of a text is remembered with the text, as JSON, when JSON holds it
    exactly (no dates, no NaN), so a case file read before is not parsed again and tomllib
    (~4 ms to import, with datetime) is imported only for a text not seen before. A text that
    does not parse is never remembered: it fails the same way every time.
    """
    from harness.config import memo_name

    memo = documents_dir() / f"{memo_name(text)}.json"
    try:
        remembered = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        remembered = None
    if (
        isinstance(remembered, dict)
        and remembered.get("format") == DOCUMENT_FORMAT
        and remembered.get("parser") == _PARSER
        and remembered.get("text") == text
        and isinstance(remembered.get("document"), dict)
    ):
        return remembered["document"]
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the host is 3.11; tomli is the same parser for 3.10
        import tomli as tomllib
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseFileError(f"{path}: TOML syntax error: {exc}") from exc
    _remember_document(memo, text, document)
    return document


def _remember_document(memo: Path, source: str, document: dict[str, Any]) -> None:
    """Best effort and atomic; only a document JSON gives back as it is (`_json_exact`)."""
    if not _json_exact(document):
        return
    try:
        text = json.dumps(
            {"format": DOCUMENT_FORMAT, "parser": _PARSER, "text": source, "document": document}
        )
    except (TypeError, ValueError):
        return  # a date or time: not JSON
    if json.loads(text)["document"] != document:
        return
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f"{memo.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, memo)
    except OSError:
        return


def _json_exact(value: Any) -> bool:
    """Only values whose JSON reads back as the same type and value: tables with string keys,
    arrays, strings, integers, booleans and finite floats (a TOML date or time is no JSON
    value; NaN and the infinities are no standard JSON)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return value is None or isinstance(value, (str, int, bool))


__all__ = ["DOCUMENT_FORMAT", "documents_dir", "toml_document"]
