"""uv as a venv engine: `uv venv`, then one offline `uv pip install --no-deps` per wheel.

One command per wheel, in wheel order: uv installs the wheels of one command concurrently, so
which of two wheels shipping one file wins would not be defined; one at a time, the later
wheel overwrites the earlier one's files as pip does, and a second version of a distribution
replaces the first like an upgrade. uv's own refusals (a wheel for another platform,
conflicting URLs for one package) are refusals; any other failure is an adapter error.
No index is ever asked: `--offline --no-index`, exact wheel files, `UV_NO_CONFIG=1`, and the
uv cache (which the installed files may link into) in the request's store.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.adapters import Refused
from harness.adapters._common import (
    Job,
    ToolFailed,
    output,
    read_request,
    run,
    tool_env,
    version_tuple,
)

MINIMUM = (0, 13)

# uv's messages for a wheel set it will not install (as opposed to a broken tool or file).
_REFUSALS = (
    "incompatible with the current platform",
    "conflicting URLs",
    "No solution found",
    "is not a supported wheel",
)
_CHANGE = re.compile(r"^ ([+-]) (\S+)==(\S+)", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def uv_binary() -> tuple[str | None, str]:
    """(path of the uv binary or None, why not found)."""
    try:
        import uv  # the uv package on the index ships the binary and this finder

        return uv.find_uv_bin(), ""
    except ImportError:
        pass
    except FileNotFoundError as exc:
        found = shutil.which("uv")
        return found, "" if found else f"the uv package is installed but its binary is not ({exc})"
    found = shutil.which("uv")
    return found, "" if found else "uv is not installed (pip install 'venv-merge-harness[engines]')"


@functools.lru_cache(maxsize=1)
def uv_version() -> str:
    binary, _ = uv_binary()
    done = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout.split()[1] if done.returncode == 0 and done.stdout.split()[1:] else ""


def available() -> str | None:
    binary, why = uv_binary()
    if binary is None:
        return why
    version = uv_version()
    if not version:
        return f"{binary} --version did not answer"
    if version_tuple(version)[:2] < MINIMUM:
        return f"uv {version} at {binary} is too old (need >= {'.'.join(map(str, MINIMUM))})"
    return None


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _build(request: Mapping, link_mode: str | None) -> dict:
    job: Job = read_request(request)
    binary, why = uv_binary()
    if binary is None:
        raise ToolFailed(why)
    env = tool_env(
        UV_CACHE_DIR=str(job.store / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_OFFLINE="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
    )
    python = _create_venv(binary, job, env)
    mode = ["--link-mode", link_mode] if link_mode else []
    applied: list[str] = []
    warnings: list[str] = []
    installed: dict[str, str] = {}  # normalized name -> label whose files are there now
    for wheel in job.wheels:
        changes = _install_one(binary, python, mode, wheel, job, env, applied, warnings)
        if changes is None:
            continue
        for sign, name, version in changes:
            if sign == "-":
                key = canonicalize_name(name)
                previous = installed.pop(key, None)
                warnings.append(
                    f"installing {wheel.label} first uninstalled {name} {version}"
                    + (f" ({previous})" if previous else "")
                    + ", as a pip upgrade does: its files are gone from the venv"
                )
        installed[wheel.name] = wheel.label
        applied.append(wheel.label)
    return {
        "schema": 1,
        "status": "built",
        "venv": str(job.out),
        "python": str(python),
        "message": f"uv {uv_version()}: {len(applied)} of {len(job.wheels)} wheels installed, "
        f"one `uv pip install --no-deps` each, link mode {link_mode or 'uv default'}",
        "warnings": warnings,
        "applied_order": applied,
    }


def _create_venv(binary: str, job: Job, env: Mapping[str, str]) -> Path:
    """`uv venv` for the job's interpreter, offline; its `bin/python`."""
    created = run(
        [
            binary,
            "venv",
            "--no-project",
            "--no-config",
            "--offline",
            "--no-python-downloads",
            "--python",
            job.python,
            job.out,
        ],
        env=env,
        cwd=job.store,
    )
    if created.returncode:
        raise ToolFailed(f"uv venv failed (exit {created.returncode}): {output(created)}")
    return job.out / "bin" / "python"


def _install_one(
    binary: str,
    python: Path,
    mode: list[str],
    wheel,
    job: Job,
    env: Mapping[str, str],
    applied: list[str],
    warnings: list[str],
) -> list[tuple[str, str, str]] | None:
    """`uv pip install --no-deps` of one wheel file: the package changes uv reported, or None
    (and a warning) when it installed nothing for that wheel; a refusal raises `Refused`."""
    done = run(
        [
            binary,
            "pip",
            "install",
            "--python",
            python,
            *mode,
            "--no-deps",
            "--offline",
            "--no-index",
            "--no-config",
            wheel.path,
        ],
        env=env,
        cwd=job.store,
    )
    said = output(done)
    if done.returncode:
        if any(marker in said for marker in _REFUSALS):
            before = f" (installed before: {', '.join(applied)})" if applied else ""
            raise Refused(
                f"uv refused {wheel.label} ({wheel.filename}){before}: {said}",
                warnings=warnings,
                applied_order=applied,
            )
        raise ToolFailed(f"uv pip install {wheel.filename} failed (exit {done.returncode}): {said}")
    changes = _CHANGE.findall(done.stderr)
    added = [
        (n, v)
        for sign, n, v in changes
        if sign == "+" and canonicalize_name(n) == wheel.name and _same_version(v, wheel.version)
    ]
    if not added:
        warnings.append(
            f"uv installed nothing for {wheel.label} ({wheel.filename}); it said: {said}"
        )
        return None
    return changes


def build_symlink(request: Mapping) -> dict:
    """uv, per-file symlinks into uv's cache (`--link-mode symlink`), one wheel per command."""
    return _build(request, "symlink")


def build_default(request: Mapping) -> dict:
    """uv with its default link mode (hard links or copies), one wheel per command."""
    return _build(request, None)
