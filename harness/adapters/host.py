"""`python -m harness.adapters.host NAME`: run the entry-point adapter NAME on one request.

Reads the request (JSON) from stdin, calls the adapter's `build(request)` and writes its
answer as one JSON object on stdout: exit 0 built, 3 refused (`Refused` raised or status
refused), 1 the adapter raised or answered something that is not an object, 2 the host's own
usage errors (no such adapter, unavailable, unreadable request). While the adapter runs, file
descriptor 1 points at stderr, so nothing the adapter or the tools it starts print can spoil
the answer.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence

from harness.adapters import EXIT_BUILT, EXIT_REFUSED, SCHEMA, Refused, entry_points, load

EXIT_ADAPTER_FAILED = 1
EXIT_USAGE = 2


def _complain(name: str, text: str) -> None:
    print(f"harness adapter host ({name}): {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m harness.adapters.host NAME < request.json", file=sys.stderr)
        return EXIT_USAGE
    name = args[0]
    sys.stdout.flush()
    answer_fd = os.dup(1)
    os.dup2(2, 1)  # from here on, fd 1 is stderr: only the answer goes to the saved stdout
    try:
        request = json.load(sys.stdin)
    except ValueError as exc:
        _complain(name, f"the request on stdin is not JSON: {exc}")
        return EXIT_USAGE
    eps = entry_points().get(name)
    if not eps:
        known = ", ".join(entry_points()) or "none"
        _complain(name, f"no adapter named {name!r} in the entry-point group (known: {known})")
        return EXIT_USAGE
    build, reason = load(eps[0])
    if build is None or reason:
        _complain(name, f"engine {name!r} is not available: {reason}")
        return EXIT_USAGE
    try:
        answer = build(request)
    except Refused as refusal:
        answer = {
            "schema": SCHEMA,
            "status": "refused",
            "venv": None,
            "python": None,
            "message": refusal.message,
            "warnings": list(refusal.warnings),
            "applied_order": list(refusal.applied_order),
        }
    except Exception:
        _complain(name, f"the adapter {eps[0].value} raised:")
        traceback.print_exc()
        return EXIT_ADAPTER_FAILED
    if not isinstance(answer, dict):
        _complain(name, f"build() returned a {type(answer).__name__}, not a dict")
        return EXIT_ADAPTER_FAILED
    answer = {"schema": SCHEMA, "message": "", "warnings": [], **answer}
    if answer.get("status") == "refused":
        answer = {"venv": None, "python": None, "applied_order": [], **answer}
    try:
        text = json.dumps(answer, sort_keys=True)
    except (TypeError, ValueError) as exc:
        _complain(name, f"build() returned a dict that is not JSON-serialisable: {exc}")
        return EXIT_ADAPTER_FAILED
    with os.fdopen(answer_fd, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    status = answer.get("status")
    if status == "built":
        return EXIT_BUILT
    if status == "refused":
        return EXIT_REFUSED
    _complain(name, f"build() answered status {status!r} (expected built or refused)")
    return EXIT_ADAPTER_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
