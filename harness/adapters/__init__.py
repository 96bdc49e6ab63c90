"""Third-party venv engines, driven through adapters that speak a JSON protocol (docs/adapters.md).

An adapter turns one request (the interpreter, the verified wheels in wheel order, where to
build) into one venv built by some tool (pex, uv, a Bazel rule...) and answers what it built, or
that the tool refused. The harness then judges that venv with the same checks as its own
engines: it never trusts the answer beyond where the venv is.

Two ways to name an adapter:
  - an entry point of the group `harness.engines` (its name is the engine name, its object a
    callable `build(request: dict) -> dict`), run by `python -m harness.adapters.host NAME` in
    a subprocess so a crashing adapter cannot take the harness down;
  - `exec:PATH`, an executable that speaks the protocol itself (request on stdin, response on
    stdout, exit 0 built, 3 refused).

Every way an adapter can fail (crash, no answer, bad JSON, an answer that contradicts itself
or the disk) is an `AdapterError`, never a pass.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.model import ENGINES, FAULT_PREFIX, Interpreter, PreparedWheel

SCHEMA = 1
GROUP = "harness.engines"
EXEC_PREFIX = "exec:"
EXIT_BUILT = 0
EXIT_REFUSED = 3
STATUSES = ("built", "refused")
ROLES = ("support", "under-test")
_HARNESS_DIST = "venv-merge-harness"
_TAIL_LINES = 40
_TAIL_CHARS = 4000


class AdapterError(HarnessError):
    """An adapter that crashed, timed out, printed no JSON or an answer that is not true
    (a venv without bin/python, status and exit status disagreeing, unknown labels)."""


class Refused(Exception):
    """Raised by an adapter's `build()` when the tool refuses the wheel set on purpose.

    `message` is the tool's reason, verbatim enough to be useful; `warnings` and
    `applied_order` say what happened before the refusal, when anything did.
    """

    def __init__(
        self, message: str, *, warnings: Sequence[str] = (), applied_order: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.warnings = tuple(warnings)
        self.applied_order = tuple(applied_order)


@dataclass(frozen=True)
class EngineInfo:
    """One adapter as discovery sees it (`harness engines`)."""

    name: str
    source: str  # "built-in adapter" | "entry point <dist>" | "exec"
    available: bool
    why_unavailable: str
    description: str


@dataclass(frozen=True)
class Outcome:
    """What an adapter built (or why its tool refused), validated against the disk."""

    engine: str
    status: str  # "built" | "refused"
    venv: Path | None
    python: Path | None
    message: str
    warnings: tuple[str, ...]
    applied_order: tuple[str, ...]
    seconds: float

    @property
    def built(self) -> bool:
        return self.status == "built"


# --------------------------------------------------------------------------- discovery


def _dist_name(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None else ""


def _is_builtin(ep: metadata.EntryPoint) -> bool:
    from packaging.utils import canonicalize_name

    return canonicalize_name(_dist_name(ep) or "-") == _HARNESS_DIST and ep.value.startswith(
        "harness.adapters."
    )


def entry_points() -> dict[str, list[metadata.EntryPoint]]:
    """Entry points of `harness.engines` by name; when two distributions declare one name, the
    built-in comes first, then by distribution name (the first one is the one that runs)."""
    found: dict[str, list[metadata.EntryPoint]] = {}
    for ep in metadata.entry_points(group=GROUP):
        found.setdefault(ep.name, []).append(ep)
    for eps in found.values():
        eps.sort(key=lambda ep: (not _is_builtin(ep), _dist_name(ep).lower(), ep.value))
    return dict(sorted(found.items()))


def _first_doc_line(*objects: Any) -> str:
    for obj in objects:
        doc = (getattr(obj, "__doc__", None) or "").strip()
        if doc:
            return " ".join(doc.split("\n\n")[0].split())
    return ""


def load(ep: metadata.EntryPoint) -> tuple[Any, str | None]:
    """The entry point's callable and why it cannot run here (None when it can).

    Its module may define `available() -> str | None` (a reason, or None when the tool it
    needs is installed)."""
    try:
        obj = ep.load()
    except Exception as exc:
        return None, f"cannot load {ep.value}: {type(exc).__name__}: {exc}"
    if not callable(obj):
        return None, f"{ep.value} is not callable"
    module = sys.modules.get(ep.module)
    check = getattr(module, "available", None)
    if callable(check):
        try:
            reason = check()
        except Exception as exc:
            return obj, f"{ep.module}.available() raised {type(exc).__name__}: {exc}"
        if reason:
            return obj, str(reason)
    return obj, None


def discover() -> dict[str, EngineInfo]:
    """Every entry point of the group `harness.engines`, sorted by name, with availability."""
    engines = {}
    for name, eps in entry_points().items():
        ep = eps[0]
        source = "built-in adapter" if _is_builtin(ep) else f"entry point {_dist_name(ep)}"
        obj, reason = load(ep)
        if name in ENGINES or name.startswith((EXEC_PREFIX, FAULT_PREFIX)):
            reason = (
                f"the name {name!r} is reserved (an in-process engine, fault:NAME or exec:PATH)"
            )
        description = _first_doc_line(obj, sys.modules.get(ep.module))
        if len(eps) > 1:
            others = ", ".join(_dist_name(e) or e.value for e in eps[1:])
            description += f" (also declared by {others}: ignored)"
        engines[name] = EngineInfo(
            name=name,
            source=source,
            available=reason is None,
            why_unavailable=reason or "",
            description=description,
        )
    return engines


def is_external(name: str) -> bool:
    """True for `exec:PATH` and for every entry-point name that is not an in-process engine."""
    if name.startswith(EXEC_PREFIX):
        return True
    return name not in ENGINES and not name.startswith(FAULT_PREFIX) and name in entry_points()


# --------------------------------------------------------------------------- requests


def make_request(
    engine: str,
    case: str | None,
    interpreter: Interpreter,
    prepared: Sequence[PreparedWheel],
    support: Collection[str],
    out: Path,
    store: Path,
) -> dict:
    """The protocol's request (schema 1) for `prepared` in wheel order; `support` are labels."""
    labels = [p.label for p in prepared]
    unknown = sorted(set(support) - set(labels))
    if unknown:
        raise HarnessError(
            f"engine {engine!r}: support labels {', '.join(unknown)} are not among the wheels "
            f"({', '.join(labels)})"
        )
    if len(set(labels)) != len(labels):
        raise HarnessError(f"engine {engine!r}: a label appears twice in {labels}")
    return {
        "schema": SCHEMA,
        "engine": engine,
        "case": case,
        "interpreter": {
            "executable": os.path.abspath(interpreter.executable),
            "version": ".".join(str(v) for v in interpreter.version),
            "implementation": interpreter.implementation,
            "tags": list(interpreter.tags),
        },
        "wheels": [
            {
                "label": p.label,
                "name": p.facts.name,
                "version": p.facts.version,
                "role": "support" if p.label in support else "under-test",
                "path": os.path.abspath(p.path),
                "sha256": p.facts.sha256,
                "install_tree": os.path.abspath(p.tree.root) if p.tree is not None else None,
            }
            for p in prepared
        ],
        "out": os.path.abspath(out),
        "store": os.path.abspath(store),
        "offline": True,
    }


def _check_request(engine: str, request: Mapping[str, Any]) -> list[str]:
    """Caller errors, before anything runs; returns the labels in wheel order."""
    if not isinstance(request, Mapping) or request.get("schema") != SCHEMA:
        raise HarnessError(f"engine {engine!r}: the request is not a schema {SCHEMA} request")
    out = Path(request["out"])
    if not out.is_absolute() or not Path(request["store"]).is_absolute():
        raise HarnessError(f"engine {engine!r}: `out` and `store` must be absolute paths")
    if os.path.lexists(out):
        raise HarnessError(f"engine {engine!r}: {out} exists; `out` must not exist yet")
    if not out.parent.is_dir():
        raise HarnessError(f"engine {engine!r}: the parent of {out} is not a directory")
    return [w["label"] for w in request["wheels"]]


# --------------------------------------------------------------------------- running


def _command(engine: str) -> list[str]:
    if engine.startswith(EXEC_PREFIX):
        path = engine[len(EXEC_PREFIX) :]
        if not path:
            raise AdapterError(f"engine {engine!r}: exec: needs a path (exec:PATH)")
        full = os.path.abspath(os.path.expanduser(path))
        if not os.path.isfile(full) or not os.access(full, os.X_OK):
            raise AdapterError(f"engine {engine!r}: {full} is not an executable file")
        return [full]
    if engine in ENGINES or engine.startswith(FAULT_PREFIX):
        raise HarnessError(f"engine {engine!r} is an in-process engine, not an adapter")
    return [sys.executable, "-m", "harness.adapters.host", engine]


def tail(text: str, lines: int = _TAIL_LINES, chars: int = _TAIL_CHARS) -> str:
    """The end of a stream, for error messages."""
    kept = "\n".join(text.rstrip().splitlines()[-lines:])
    return kept[-chars:]


def _fail(engine: str, problem: str, stderr: str) -> AdapterError:
    end = tail(stderr)
    detail = f"; its stderr ends with:\n{end}" if end else "; its stderr is empty"
    return AdapterError(f"adapter for engine {engine!r}: {problem}{detail}")


def build(
    engine: str,
    request: dict,
    timeout: float = 600,
    *,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Run the adapter for `engine` on `request` in a subprocess and validate its answer.

    `env` replaces the subprocess environment (default: this process's). Raises
    `AdapterError` for anything but a truthful `built` or `refused` answer.
    """
    labels = _check_request(engine, request)
    argv = _command(engine)
    Path(request["store"]).mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # its whole process group can be killed on timeout
        )
    except OSError as exc:
        raise AdapterError(f"adapter for engine {engine!r}: cannot run {argv[0]}: {exc}") from exc
    try:
        stdout, stderr = proc.communicate(json.dumps(request).encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        raise _fail(
            engine, f"no answer after {timeout:g} s (killed)", stderr.decode("utf-8", "replace")
        ) from None
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise
    seconds = time.monotonic() - start
    return _validate(
        engine,
        labels,
        proc.returncode,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
        seconds,
    )


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _validate(
    engine: str, labels: Sequence[str], rc: int, stdout: str, stderr: str, seconds: float
) -> Outcome:
    if rc < 0:
        raise _fail(engine, f"killed by signal {-rc}", stderr)
    if rc not in (EXIT_BUILT, EXIT_REFUSED):
        raise _fail(engine, f"failed with exit status {rc}", stderr)
    text = stdout.strip()
    if not text:
        raise _fail(engine, f"exit status {rc} but no answer on stdout", stderr)
    try:
        answer = json.loads(text)
    except ValueError:
        raise _fail(
            engine, f"its stdout is not one JSON object: {tail(text, 5, 300)!r}", stderr
        ) from None
    if not isinstance(answer, dict):
        raise _fail(engine, f"its answer is a JSON {type(answer).__name__}, not an object", stderr)
    if answer.get("schema") != SCHEMA:
        raise _fail(
            engine,
            f"it answers schema {answer.get('schema')!r}; the harness speaks {SCHEMA}",
            stderr,
        )
    status = answer.get("status")
    if status not in STATUSES:
        raise _fail(engine, f"unknown status {status!r} (expected built or refused)", stderr)
    expected_rc = EXIT_BUILT if status == "built" else EXIT_REFUSED
    if rc != expected_rc:
        raise _fail(
            engine, f"status {status!r} with exit status {rc} (expected {expected_rc})", stderr
        )
    message = answer.get("message", "")
    warnings = answer.get("warnings", [])
    order = answer.get("applied_order", [])
    if not isinstance(message, str):
        raise _fail(engine, "`message` is not a string", stderr)
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise _fail(engine, "`warnings` is not a list of strings", stderr)
    if not isinstance(order, list) or not all(isinstance(x, str) for x in order):
        raise _fail(engine, "`applied_order` is not a list of labels", stderr)
    unknown = [x for x in order if x not in labels]
    if unknown:
        raise _fail(
            engine,
            f"applied_order names labels the request does not have: {', '.join(unknown)} "
            f"(request: {', '.join(labels)})",
            stderr,
        )
    twice = sorted({x for x in order if order.count(x) > 1})
    if twice:
        raise _fail(engine, f"applied_order names {', '.join(twice)} more than once", stderr)
    venv = python = None
    if status == "built":
        venv, python = _built_paths(engine, answer, stderr)
    return Outcome(
        engine=engine,
        status=status,
        venv=venv,
        python=python,
        message=message,
        warnings=tuple(warnings),
        applied_order=tuple(order),
        seconds=seconds,
    )


def _built_paths(engine: str, answer: Mapping[str, Any], stderr: str) -> tuple[Path, Path]:
    venv, python = answer.get("venv"), answer.get("python")
    if not isinstance(venv, str) or not os.path.isabs(venv):
        raise _fail(engine, f"status built but `venv` is {venv!r}, not an absolute path", stderr)
    if not os.path.isdir(venv):
        raise _fail(engine, f"status built but the venv {venv} is not a directory", stderr)
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        raise _fail(engine, f"status built but {venv} has no bin/python", stderr)
    if not isinstance(python, str) or not os.path.isabs(python):
        raise _fail(
            engine, f"status built but `python` is {python!r}, not an absolute path", stderr
        )
    if os.path.dirname(os.path.normpath(python)) != os.path.join(os.path.normpath(venv), "bin"):
        raise _fail(engine, f"`python` {python} is not in the venv's bin/ ({venv})", stderr)
    if not (os.path.exists(python) and os.access(python, os.X_OK)):
        raise _fail(engine, f"`python` {python} does not exist or is not executable", stderr)
    return Path(venv), Path(python)


__all__ = [
    "EXEC_PREFIX",
    "EXIT_BUILT",
    "EXIT_REFUSED",
    "GROUP",
    "SCHEMA",
    "AdapterError",
    "EngineInfo",
    "Outcome",
    "Refused",
    "build",
    "discover",
    "entry_points",
    "is_external",
    "make_request",
]
