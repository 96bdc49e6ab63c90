"""Target interpreters: find the CPythons on this machine and ask each what it is.

Each target is queried in a subprocess with a stdlib-only snippet (works on 3.8+): version,
implementation, SOABI, abiflags, `Py_GIL_DISABLED`, platform. Its supported wheel tags are then
computed here, on the host, with `packaging.tags` (`cpython_tags` + `compatible_tags`) over the
host's `platform_tags()`. That is correct because the target runs on this same machine: same
architecture and C library, so the manylinux/musllinux/macOS platform list is the same; only
the interpreter and ABI differ, and those come from the target itself. A target whose
`sysconfig.get_platform()` or pointer size differs from the host's (a 32-bit build, say) is
refused rather than given wrong tags.

Both answers are remembered on disk (`<cache>/interpreters/`): the snippet's, keyed by the
target binary (realpath, size, mtime), and on glibc Linux the tags computed from it, keyed by
everything `platform_tags()` reads besides (packaging's version, the host binary, the glibc
version, the host platform, an installed `_manylinux` override). A warm run then neither starts
the target nor imports `packaging.tags` (~10 ms with logging, platform and subprocess).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import sys
import sysconfig
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import InterpreterError
from harness.logs import lazy_logger
from harness.model import Interpreter

log = lazy_logger("harness.supply.interpreters")

MIN_VERSION = (3, 8)  # the oldest target the snippet, virtualenv and the corpus support

QUERY_SNIPPET = """\
import json, struct, sys, sysconfig
print(json.dumps({
    "executable": sys.executable,
    "version": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "soabi": sysconfig.get_config_var("SOABI") or "",
    "abiflags": getattr(sys, "abiflags", ""),
    "gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "debug": bool(sysconfig.get_config_var("Py_DEBUG")),
    "platform": sysconfig.get_platform(),
    "pointer_bits": struct.calcsize("P") * 8,
}))
"""

# The tags' memo format: bump when what `compute_tags` returns for the same inputs changes.
TAGS_FORMAT = 1

_NAME = r"python3(\.\d+)?t?"  # an interpreter's file name (compiled by `re` on first use)
_VERSION_SPEC = re.compile(r"(?:python)?(\d+)\.(\d+)(?:\.(\d+))?")

_query_cache: dict[tuple[str, int], Interpreter] = {}
_query_lock = threading.Lock()
_discovered: list[Interpreter] | None = None
_discover_lock = threading.Lock()


def abi_tag(info: dict) -> str:
    """The interpreter's own ABI tag: `cpython-313t-x86_64…` SOABI → `cp313t`."""
    soabi = info.get("soabi") or ""
    if soabi.startswith("cpython-"):
        return "cp" + soabi.split("-")[1]
    major, minor = info["version"][:2]
    flags = ("t" if info.get("gil_disabled") else "") + ("d" if info.get("debug") else "")
    return f"cp{major}{minor}{flags}"


def compute_tags(
    version: Sequence[int], abi: str, platforms: Iterable[str] | None = None
) -> tuple[str, ...]:
    """Supported tags, most preferred first, for a CPython `version` with `abi`."""
    from packaging import tags as packaging_tags  # ~10 ms: only when tags are not remembered

    python_version = (int(version[0]), int(version[1]))
    platform_list = list(platforms if platforms is not None else packaging_tags.platform_tags())
    ordered = [
        *packaging_tags.cpython_tags(python_version, [abi], platform_list),
        *packaging_tags.compatible_tags(
            python_version, f"cp{python_version[0]}{python_version[1]}", platform_list
        ),
    ]
    return tuple(dict.fromkeys(str(tag) for tag in ordered))


def _from_info(info: dict, tags: Sequence[str] | None = None) -> Interpreter:
    """The interpreter `info` describes, with `tags` when they are known (remembered), else
    computed from `info`."""
    host_platform = sysconfig.get_platform()
    host_bits = struct.calcsize("P") * 8
    if info["platform"] != host_platform or info["pointer_bits"] != host_bits:
        raise InterpreterError(
            f"{info['executable']}: built for {info['platform']} ({info['pointer_bits']}-bit), "
            f"the host is {host_platform} ({host_bits}-bit); wheel tags are computed from the "
            "host's platform, so only interpreters for this platform can be targets"
        )
    version = tuple(int(v) for v in info["version"][:3])
    return Interpreter(
        executable=os.path.realpath(info["executable"]),
        version=version,  # type: ignore[arg-type]
        implementation=info["implementation"],
        tags=tuple(tags) if tags is not None else compute_tags(version, abi_tag(info)),
    )


def _tags_key(info: dict) -> list | None:
    """Everything the tags of `info` depend on, or None where that is not known cheaply (off
    glibc Linux: then they are computed every time). `platform_tags()` reads the host
    platform, the host binary (its ELF header), the glibc version and a `_manylinux` module
    that may override manylinux compatibility; the rules are packaging's, by version."""
    if sys.platform != "linux":
        return None
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
        host = os.path.realpath(sys.executable)
        host_stat = os.stat(host)
    except (AttributeError, ValueError, OSError):
        return None
    if not glibc:
        return None
    import importlib.util

    import packaging

    try:
        override = importlib.util.find_spec("_manylinux") is not None
    except (ImportError, ValueError):
        return None
    return [
        TAGS_FORMAT,
        getattr(packaging, "__version__", ""),
        host,
        host_stat.st_size,
        host_stat.st_mtime_ns,
        glibc,
        sysconfig.get_platform(),
        override,
        abi_tag(info),
        list(info["version"][:2]),
    ]


def _memo_file(path: str) -> Path:
    """Where the answer of the binary at `path` is remembered across processes."""
    from harness import config

    return config.cache_dir() / "interpreters" / f"{config.memo_name(path, QUERY_SNIPPET)}.json"


def _remembered(path: str, stamp: list[int]) -> tuple[dict, list[str] | None] | None:
    """The snippet's answer for this binary from an earlier process, if the binary is the same
    file (realpath, size, mtime): an interpreter's version, ABI and platform cannot change
    without its binary changing. With it, the tags computed from it when everything they
    depend on is still what it was (`_tags_key`), else None for the tags."""
    try:
        doc = json.loads(_memo_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("realpath") != path or doc.get("stamp") != stamp:
        return None
    if doc.get("snippet") != QUERY_SNIPPET:
        return None  # another question's answer (or a file named alike)
    info = doc.get("info")
    if not isinstance(info, dict):
        return None
    tags = doc.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return info, None
    try:
        key = _tags_key(info)
    except (KeyError, TypeError, IndexError):
        key = None
    return info, tags if key is not None and doc.get("tags_key") == key else None


def _remember(path: str, stamp: list[int], info: dict, tags: Sequence[str] = ()) -> None:
    """Best effort (a read-only cache just asks again next time); atomic, so a reader never
    sees half a file. `tags` are kept when their key can be told (`_tags_key`)."""
    memo = _memo_file(path)
    doc: dict = {"realpath": path, "stamp": stamp, "snippet": QUERY_SNIPPET, "info": info}
    key = _tags_key(info) if tags else None
    if key is not None:
        doc.update(tags_key=key, tags=list(tags))
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f"{memo.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
        os.replace(partial, memo)
    except OSError as exc:
        log.debug("cannot remember the answer of %s: %s", path, exc)


def query(executable: str | os.PathLike[str]) -> Interpreter:
    """Ask `executable` what it is: cached per realpath + mtime for this process, and on disk
    (`<cache>/interpreters/`, keyed by realpath, size and mtime) across processes, so a warm
    `harness assemble` starts no interpreter just to learn its version.

    Runs with `-I` (isolated: implies `-E` and `-s`, and keeps the working directory off
    `sys.path`) so neither environment variables nor user site-packages change the answer.
    """
    path = os.path.realpath(executable)
    try:
        info_stat = os.stat(path)
    except OSError as exc:
        raise InterpreterError(f"{executable}: no such interpreter ({exc.strerror})") from exc
    key = (path, info_stat.st_mtime_ns)
    stamp = [info_stat.st_size, info_stat.st_mtime_ns]
    with _query_lock:
        if key in _query_cache:
            return _query_cache[key]
    remembered = _remembered(path, stamp)
    if remembered is not None:
        info, tags = remembered
        try:
            interpreter = _from_info(info, tags)
        except (InterpreterError, KeyError, TypeError, ValueError):
            pass  # an answer the current code cannot use: ask again
        else:
            if tags is None and _tags_key(info) is not None:
                _remember(path, stamp, info, interpreter.tags)  # the tags, for the next run
            with _query_lock:
                _query_cache[key] = interpreter
            return interpreter
    import subprocess  # only an interpreter not remembered is asked

    try:
        completed = subprocess.run(
            [str(executable), "-I", "-c", QUERY_SNIPPET],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InterpreterError(f"{executable}: could not run it: {exc}") from exc
    if completed.returncode != 0:
        tail = (completed.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise InterpreterError(
            f"{executable}: the interpreter query failed with exit status "
            f"{completed.returncode}: {tail} (a CPython 3.8 or newer is expected)"
        )
    try:
        info = json.loads(completed.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise InterpreterError(
            f"{executable}: unreadable interpreter query output {completed.stdout[:200]!r}"
        ) from exc
    interpreter = _from_info(info)
    _remember(path, stamp, info, interpreter.tags)
    with _query_lock:
        _query_cache[key] = interpreter
    return interpreter


# --------------------------------------------------------------------------- discovery


def pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _is_shim(path: Path) -> bool:
    """pyenv shims pick a version by configuration; the real binaries are listed instead."""
    return path.parent.name == "shims" and "pyenv" in str(path.parent)


def _path_candidates() -> list[Path]:
    found = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        directory = Path(entry or ".")
        if not directory.is_dir():
            continue
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        found += [directory / n for n in names if re.fullmatch(_NAME, n)]
    return found


def _pyenv_candidates() -> list[Path]:
    versions = pyenv_root() / "versions"
    if not versions.is_dir():
        return []
    return [p for p in sorted(versions.glob("*/bin/python3*")) if re.fullmatch(_NAME, p.name)]


def _uv_candidates() -> list[Path]:
    uv = shutil.which("uv")
    if not uv:
        return []
    import subprocess

    try:
        completed = subprocess.run(
            [uv, "python", "list", "--only-installed", "--output-format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        entries = json.loads(completed.stdout) if completed.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        log.debug("uv python list failed: %s", exc)
        return []
    return [
        Path(e["path"])
        for e in entries
        if isinstance(e, dict) and e.get("path") and e.get("implementation") == "cpython"
    ]


def candidates() -> list[Path]:
    """Executables worth asking, one per realpath, pyenv shims excluded."""
    by_realpath: dict[str, Path] = {}
    for path in [*_path_candidates(), *_pyenv_candidates(), *_uv_candidates()]:
        if _is_shim(path) or not os.access(path, os.X_OK) or not path.is_file():
            continue
        by_realpath.setdefault(os.path.realpath(path), path)
    return list(by_realpath.values())


def discover(refresh: bool = False) -> list[Interpreter]:
    """Every CPython ≥ 3.8 found on PATH, under pyenv and by uv; one per binary, by version."""
    global _discovered
    with _discover_lock:
        if _discovered is not None and not refresh:
            return list(_discovered)

        def ask(path: Path) -> Interpreter | None:
            try:
                return query(path)
            except InterpreterError as exc:
                log.debug("skipping %s: %s", path, exc)
                return None

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(ask, candidates()))
        unique: dict[str, Interpreter] = {}
        for interp in answers:
            if interp is None or interp.implementation != "cpython":
                continue
            if interp.version[:2] < MIN_VERSION:
                continue
            unique.setdefault(interp.executable, interp)
        _discovered = sorted(unique.values(), key=lambda i: (i.version, i.executable))
        return list(_discovered)


def _listing(found: Sequence[Interpreter]) -> str:
    return ", ".join(f"{'.'.join(map(str, i.version))} {i.executable}" for i in found) or "none"


def _host_if_it_fits(wanted: tuple[int, ...]) -> Interpreter | None:
    """The interpreter running harness, when it is `wanted` and discovery finds it on PATH or
    under pyenv: `resolve` prefers the host among the interpreters that fit, so the answer is
    the host whatever else is installed, and nothing else needs asking (`uv python list`
    alone takes most of a second here)."""
    host = os.path.realpath(sys.executable)
    if not any(
        os.path.realpath(path) == host
        and not _is_shim(path)
        and os.access(path, os.X_OK)
        and path.is_file()
        for path in [*_pyenv_candidates(), *_path_candidates()]
    ):
        return None
    try:
        interp = query(host)
    except InterpreterError:
        return None
    if (
        interp.implementation != "cpython"
        or interp.version[:2] < MIN_VERSION
        or interp.executable != host
        or interp.version[: len(wanted)] != wanted
    ):
        return None
    return interp


def resolve(spec: str) -> Interpreter:
    """An interpreter from `default`, `X.Y`, `X.Y.Z`, `pythonX.Y` or a path."""
    spec = spec.strip()
    if spec == "default":
        return query(sys.executable)
    match = _VERSION_SPEC.fullmatch(spec)
    if match:
        wanted = tuple(int(g) for g in match.groups() if g is not None)
        host_fits = _host_if_it_fits(wanted)
        if host_fits is not None:
            return host_fits
        found = discover()
        fits = [i for i in found if i.version[: len(wanted)] == wanted]
        if not fits:
            too_old = (
                f"; CPython older than {'.'.join(map(str, MIN_VERSION))} is not a supported "
                "target (the probe and virtualenv need it)"
                if wanted[:2] < MIN_VERSION
                else ""
            )
            raise InterpreterError(
                f"no CPython {spec} found on PATH, under {pyenv_root()} or by uv "
                f"(found: {_listing(found)}); install it or pass the interpreter's path{too_old}"
            )
        host = os.path.realpath(sys.executable)
        return min(fits, key=lambda i: (i.executable != host, tuple(-v for v in i.version)))
    path = Path(spec).expanduser()
    if not path.exists() and os.sep not in spec:
        located = shutil.which(spec)
        if located:
            path = Path(located)
    if not path.exists():
        raise InterpreterError(
            f"unknown interpreter {spec!r}: not a file, and not `default`, `all`, `X.Y`, "
            f"`X.Y.Z` or `pythonX.Y` (found: {_listing(discover())})"
        )
    return query(path)


def resolve_many(specs: Sequence[str] | None) -> list[Interpreter]:
    """Each spec resolved, `all` expanded to `discover()`, duplicates dropped (first kept).

    No specs means the default interpreter (the one running the harness).
    """
    resolved: dict[str, Interpreter] = {}
    for spec in specs or ["default"]:
        for interp in discover() if spec.strip() == "all" else [resolve(spec)]:
            resolved.setdefault(interp.executable, interp)
    return list(resolved.values())


def tags_summary(interp: Interpreter) -> str:
    """A short description of what an interpreter accepts, for selection errors."""
    abis: dict[str, None] = {}
    platforms: dict[str, None] = {}
    for tag in interp.tags:
        _python, abi, platform = tag.split("-", 2)
        abis.setdefault(abi)
        platforms.setdefault(platform)
    shown = list(platforms)
    platform_text = ", ".join(shown[:4]) + (f" … ({len(shown)} in all)" if len(shown) > 4 else "")
    return (
        f"CPython {'.'.join(map(str, interp.version))} at {interp.executable} accepts "
        f"{len(interp.tags)} tags, most preferred {interp.tags[0] if interp.tags else '-'}; "
        f"ABIs {', '.join(abis)}; platforms {platform_text}"
    )


__all__ = [
    "MIN_VERSION",
    "QUERY_SNIPPET",
    "abi_tag",
    "candidates",
    "compute_tags",
    "discover",
    "query",
    "resolve",
    "resolve_many",
    "tags_summary",
]
