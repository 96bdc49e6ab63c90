"""What the built-in adapters share: reading the request, running a tool, reading wheels.

Every tool runs with the command line echoed to stderr first and its own output copied there
after, so when an adapter fails, the stderr tail the harness reports shows what ran and what
the tool said.
"""

from __future__ import annotations

import email.parser
import json
import os
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# Environment variables that would point a tool at an index, a config file or another venv.
_TOOL_ENV_PREFIXES = ("UV_", "PEX_", "PIP_")
_TOOL_ENV_NAMES = ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME", "PYTHONSTARTUP")


@dataclass(frozen=True)
class Wheel:
    """One `wheels` entry of a request."""

    label: str
    name: str  # normalized
    version: str
    role: str
    path: Path
    sha256: str

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Job:
    """A request, read once."""

    engine: str
    python: str
    version: str
    tags: tuple[str, ...]
    wheels: tuple[Wheel, ...]
    out: Path
    store: Path

    @property
    def labels(self) -> list[str]:
        return [w.label for w in self.wheels]


def read_request(request: Mapping) -> Job:
    interp = request["interpreter"]
    wheels = tuple(
        Wheel(
            label=w["label"],
            name=canonicalize_name(w["name"]),
            version=w["version"],
            role=w.get("role", "under-test"),
            path=Path(w["path"]),
            sha256=w.get("sha256", ""),
        )
        for w in request["wheels"]
    )
    store = Path(request["store"])
    store.mkdir(parents=True, exist_ok=True)
    return Job(
        engine=request.get("engine", ""),
        python=interp["executable"],
        version=interp["version"],
        tags=tuple(interp.get("tags", ())),
        wheels=wheels,
        out=Path(request["out"]),
        store=store,
    )


def tool_env(**overrides: str) -> dict[str, str]:
    """This environment without the variables that configure uv, pex or pip, plus `overrides`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_TOOL_ENV_PREFIXES) and k not in _TOOL_ENV_NAMES
    }
    env.update(overrides)
    return env


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a tool, echoing its command line and its output to stderr; never raises on exit."""
    say("+ " + shlex.join(str(a) for a in argv))
    done = subprocess.run(
        [str(a) for a in argv],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    for stream in (done.stdout, done.stderr):
        if stream.strip():
            say(stream.rstrip())
    if done.returncode:
        say(f"(exit status {done.returncode})")
    return done


def output(done: subprocess.CompletedProcess[str]) -> str:
    """Both streams of a finished tool, stderr first (where uv and pex write their messages)."""
    return "\n".join(s.rstrip() for s in (done.stderr, done.stdout) if s.strip())


class ToolFailed(RuntimeError):
    """A tool failed in a way that is not a refusal: the adapter reports an error."""


def requires_dist(path: Path) -> list[Requirement]:
    """The `Requires-Dist` lines of a wheel's METADATA (its top-level `*.dist-info`)."""
    with zipfile.ZipFile(path) as archive:
        names = [
            n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        if len(names) != 1:
            raise ToolFailed(f"{path.name}: expected one *.dist-info/METADATA, found {names}")
        text = archive.read(names[0]).decode("utf-8", "replace")
    message = email.parser.Parser().parsestr(text, headersonly=True)
    requirements = []
    for line in message.get_all("Requires-Dist") or ():
        try:
            requirements.append(Requirement(line))
        except (InvalidRequirement, InvalidMarker):
            say(f"warning: {path.name}: unparseable Requires-Dist {line!r} ignored")
    return requirements


# PEP 508 marker variables, computed by the target interpreter itself.
_MARKER_ENV_CODE = """\
import json, os, platform, sys
v = sys.implementation.version
iv = "%d.%d.%d" % (v.major, v.minor, v.micro)
if v.releaselevel != "final":
    iv += v.releaselevel[0] + str(v.serial)
print(json.dumps({
    "implementation_name": sys.implementation.name,
    "implementation_version": iv,
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}))
"""


def marker_environment(python: str) -> dict[str, str]:
    done = subprocess.run(
        [python, "-I", "-c", _MARKER_ENV_CODE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode:
        raise ToolFailed(f"{python} could not report its marker environment: {done.stderr}")
    return json.loads(done.stdout)


def site_packages(prefix: Path) -> Path:
    """`<prefix>/lib/pythonX.Y/site-packages` (exactly one)."""
    found = sorted(prefix.glob("lib/python*/site-packages"))
    if len(found) != 1:
        raise ToolFailed(f"{prefix}: expected one lib/python*/site-packages, found {found}")
    return found[0]


def version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.strip().split("."):
        digits = "".join(c for c in piece if c.isdigit()) or "0"
        parts.append(int(digits))
    return tuple(parts)
