"""Host side of the runtime probe: run `harness/observe/probe.py` inside a venv's interpreter.

The probe file is executed by the target interpreter as a script (`-E -s -B`, a fresh empty working
directory, a minimal environment), never imported into it, so the answer describes the venv and
nothing of the harness's own process leaks in (no PYTHONPATH, no VIRTUAL_ENV, no cwd entry).
The JSON it prints is parsed into the frozen dataclasses below; field names are the JSON keys
(docs/probe-schema.md), so `harness.model.to_json(report)` reproduces the document.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

PROBE_SCRIPT = Path(__file__).resolve().with_name("probe.py")
SCHEMA_VERSION = 1
STATUSES = ("found", "not-found", "error")
KINDS = ("module", "extension", "package", "namespace", "builtin", "frozen")
_TAIL = 2000


class ProbeError(HarnessError):
    """The probe could not run or did not answer with a valid report."""


@dataclass(frozen=True)
class ErrorReport:
    """An exception seen while resolving or importing: its type name and message."""

    type: str
    message: str


@dataclass(frozen=True)
class ModuleReport:
    """Where one dotted name comes from at runtime, in one mode (`resolve` or `import`)."""

    name: str
    mode: str
    status: str  # found | not-found | error
    kind: str | None  # module | extension | package | namespace | builtin | frozen
    origin: str | None  # spec.origin as the import system sees it
    origin_realpath: str | None  # realpath(origin) for file-backed kinds
    file: str | None  # __file__ (import) or what __file__ would be (resolve)
    loader: str | None  # loader class, e.g. "_frozen_importlib_external.SourceFileLoader"
    search_locations: tuple[str, ...] | None  # __path__ for packages and namespaces
    search_locations_realpaths: tuple[str, ...] | None
    preloaded: bool  # already in sys.modules after interpreter start-up (a .pth import line)
    error: ErrorReport | None

    @property
    def found(self) -> bool:
        return self.status == "found"


@dataclass(frozen=True)
class ScriptReport:
    """One console script resolved through its own code, its entry point's call left out.

    `status`: `resolved` (the object it would call was reached), `error` (resolving raised:
    the module does not import, an attribute is missing), `unparsed` (not Python, or no final
    `sys.exit(F())` to stop at: nothing can be said), `missing` (the file cannot be read).
    """

    name: str | None
    path: str | None
    module: str | None  # the entry point module the caller expects it to import
    status: str
    object: str | None  # `module.qualname` of the resolved object
    object_file: str | None  # realpath of the code it runs (functions, methods, classes)
    module_file: str | None  # realpath of `module` as imported while resolving
    error: ErrorReport | None


@dataclass(frozen=True)
class BytecodeReport:
    """A `.pyc` header checked by the target interpreter against the source on disk."""

    pyc: str
    source: str
    header: str  # fresh | stale | unknown (hash-based with another interpreter's magic)


@dataclass(frozen=True)
class PathEntry:
    """One `sys.path` entry as the interpreter has it after start-up."""

    entry: str
    realpath: str
    exists: bool


@dataclass(frozen=True)
class DistributionReport:
    """One distribution `importlib.metadata.distributions()` yields (duplicates included)."""

    name: str | None  # the metadata `Name`
    normalized_name: str | None  # PEP 503
    version: str | None
    path: str | None  # the .dist-info / .egg-info directory
    realpath: str | None
    order: int  # discovery order: the first of a name is what `distribution(name)` returns


@dataclass(frozen=True)
class InterpreterReport:
    """The interpreter the probe ran in, as it reports itself."""

    executable: str
    realpath: str
    version: tuple[int, ...]
    implementation: str
    cache_tag: str | None
    platform: str
    prefix: str
    base_prefix: str
    exec_prefix: str
    extension_suffixes: tuple[str, ...]
    source_suffixes: tuple[str, ...]
    bytecode_suffixes: tuple[str, ...]

    @property
    def short_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@dataclass(frozen=True)
class ProbeReport:
    """The probe's whole answer for one venv."""

    schema: int
    interpreter: InterpreterReport
    sys_path: tuple[PathEntry, ...]
    site_packages: tuple[str, ...]
    meta_path: tuple[str, ...]
    removed_script_dir: str | None
    modules_at_start: tuple[str, ...]
    modules_after_resolve: tuple[str, ...]
    distributions: tuple[DistributionReport, ...]
    modules: tuple[ModuleReport, ...]  # sorted by (name, mode)
    scripts: tuple[ScriptReport, ...] = ()  # request order
    bytecode: tuple[BytecodeReport, ...] = ()  # request order

    def module(self, name: str, mode: str | None = None) -> ModuleReport:
        """The report for `name`; without `mode`, the import-mode one wins if both exist."""
        matches = [m for m in self.modules if m.name == name and (mode is None or m.mode == mode)]
        if not matches:
            asked = f"{name!r}" + (f" in {mode} mode" if mode else "")
            raise KeyError(f"the probe was not asked about {asked}")
        return sorted(matches, key=lambda m: m.mode != "import")[0]

    def distributions_named(self, name: str) -> tuple[DistributionReport, ...]:
        """Every copy of a distribution, in discovery order (name compared PEP 503-normalized)."""
        from packaging.utils import canonicalize_name

        wanted = canonicalize_name(name)
        return tuple(d for d in self.distributions if d.normalized_name == wanted)


# --------------------------------------------------------------------------- parsing


def _tuple_or_none(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _module(data: Mapping[str, Any]) -> ModuleReport:
    error = data["error"]
    return ModuleReport(
        name=data["name"],
        mode=data["mode"],
        status=data["status"],
        kind=data["kind"],
        origin=data["origin"],
        origin_realpath=data["origin_realpath"],
        file=data["file"],
        loader=data["loader"],
        search_locations=_tuple_or_none(data["search_locations"]),
        search_locations_realpaths=_tuple_or_none(data["search_locations_realpaths"]),
        preloaded=bool(data["preloaded"]),
        error=None if error is None else ErrorReport(type=error["type"], message=error["message"]),
    )


def _script(data: Mapping[str, Any]) -> ScriptReport:
    error = data["error"]
    return ScriptReport(
        name=data["name"],
        path=data["path"],
        module=data["module"],
        status=data["status"],
        object=data["object"],
        object_file=data["object_file"],
        module_file=data["module_file"],
        error=None if error is None else ErrorReport(type=error["type"], message=error["message"]),
    )


def parse_report(data: Mapping[str, Any]) -> ProbeReport:
    """The probe's JSON object as a `ProbeReport`; a wrong shape is a `ProbeError`."""
    if data.get("schema") != SCHEMA_VERSION:
        raise ProbeError(
            f"the probe answered with report schema {data.get('schema')!r}, expected "
            f"{SCHEMA_VERSION}; harness/observe/probe.py and harness/observe/runtime.py disagree."
        )
    try:
        interp = data["interpreter"]
        return ProbeReport(
            schema=data["schema"],
            interpreter=InterpreterReport(
                executable=interp["executable"],
                realpath=interp["realpath"],
                version=tuple(interp["version"]),
                implementation=interp["implementation"],
                cache_tag=interp["cache_tag"],
                platform=interp["platform"],
                prefix=interp["prefix"],
                base_prefix=interp["base_prefix"],
                exec_prefix=interp["exec_prefix"],
                extension_suffixes=tuple(interp["extension_suffixes"]),
                source_suffixes=tuple(interp["source_suffixes"]),
                bytecode_suffixes=tuple(interp["bytecode_suffixes"]),
            ),
            sys_path=tuple(PathEntry(**entry) for entry in data["sys_path"]),
            site_packages=tuple(data["site_packages"]),
            meta_path=tuple(data["meta_path"]),
            removed_script_dir=data["removed_script_dir"],
            modules_at_start=tuple(data["modules_at_start"]),
            modules_after_resolve=tuple(data["modules_after_resolve"]),
            distributions=tuple(DistributionReport(**d) for d in data["distributions"]),
            modules=tuple(_module(m) for m in data["modules"]),
            scripts=tuple(_script(s) for s in data.get("scripts", ())),
            bytecode=tuple(BytecodeReport(**b) for b in data.get("bytecode", ())),
        )
    except (KeyError, TypeError) as exc:
        raise ProbeError(
            f"the probe's report does not match schema {SCHEMA_VERSION}: {exc!r} "
            "(see docs/probe-schema.md)."
        ) from exc


# --------------------------------------------------------------------------- running


def probe_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal clean environment: PATH, then what the caller asks for, nothing else.

    -E already makes the interpreter ignore PYTHON* variables; leaving VIRTUAL_ENV, HOME tweaks
    and the like out too keeps packages that read them at import time from seeing the host.
    """
    clean = {"PATH": os.environ.get("PATH", os.defpath)}
    clean.update(env or {})
    return clean


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text if len(text) <= _TAIL else "..." + text[-_TAIL:]


def run_probe(
    python: Path,
    *,
    resolve: Sequence[str] = (),
    imports: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    distributions: bool = True,
    resolve_after_import: bool = False,
    scripts: Sequence[Mapping[str, str | None]] = (),
    bytecode: Sequence[Mapping[str, str]] = (),
) -> ProbeReport:
    """Run the probe in `python` (a venv's `bin/python`, not resolved: the symlink is the venv).

    `resolve` names are located without running package code; `imports` are really imported,
    after the resolve pass — or, with `resolve_after_import`, before it, so that packages whose
    `__init__` rewrites `__path__` (pkgutil.extend_path) resolve their children through the
    real `__path__` (checks.md §4.2: such packages need a real import). `env` is applied to the subprocess (the request carries it for the record).
    `scripts` (`{"name", "path", "module"}`) are resolved last, through their own code, without
    calling the entry point (docs/probe-schema.md); that imports the entry point modules.
    `bytecode` (`{"pyc", "source"}`) headers are checked against their sources by the target
    interpreter itself (its magic number keys hash-based pycs).
    """
    # Absolute before use: the probe runs in a temporary working directory, where a path
    # relative to the caller's (`./v/bin/python`) names nothing. Not resolved: the symlink is
    # the venv.
    python = Path(os.path.abspath(python))
    request = {
        "resolve": list(resolve),
        "import": list(imports),
        "env": dict(env or {}),
        "distributions": distributions,
        "resolve_after_import": resolve_after_import,
        "scripts": [dict(s) for s in scripts],
        "bytecode": [dict(b) for b in bytecode],
    }
    completed = _run_probe_script(python, request, env, timeout)
    return parse_report(_report_document(python, completed))


def _run_probe_script(
    python: Path, request: dict[str, Any], env: Mapping[str, str] | None, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """The probe run in `python` with `request` on stdin, in an empty working directory; an
    interpreter that is missing, not executable or too slow is a ProbeError."""
    # -B: whatever the venv imports, the probe never writes bytecode (install trees are
    # compiled on purpose, `harness.supply.bytecode`; a module that is not is left alone, not cached).
    command = [str(python), "-E", "-s", "-B", str(PROBE_SCRIPT)]
    with tempfile.TemporaryDirectory(prefix="harness-probe-") as workdir:
        try:
            return subprocess.run(
                command,
                input=json.dumps(request, sort_keys=True).encode("ascii"),
                capture_output=True,
                cwd=workdir,
                env=probe_environment(env),
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ProbeError(
                f"cannot run the probe: interpreter {python} does not exist ({exc.strerror})."
            ) from exc
        except PermissionError as exc:
            raise ProbeError(
                f"cannot run the probe: interpreter {python} is not executable ({exc.strerror})."
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise ProbeError(
                f"the probe in {python} did not finish within {timeout:g} s "
                f"({len(request['resolve'])} names to resolve, {len(request['import'])} to "
                f"import); stderr tail: {_tail(exc.stderr or b'')!r}"
            ) from exc


def _report_document(python: Path, completed: subprocess.CompletedProcess[bytes]) -> dict:
    """The JSON object the probe printed; a failed run or any other output is a ProbeError."""
    if completed.returncode != 0:
        raise ProbeError(
            f"the probe in {python} exited with status {completed.returncode}, expected 0 "
            f"(the interpreter or a start-up .pth file failed); stderr tail: "
            f"{_tail(completed.stderr)!r}"
        )
    try:
        data = json.loads(completed.stdout)
    except ValueError as exc:
        raise ProbeError(
            f"the probe in {python} printed something that is not one JSON document ({exc}); "
            f"something wrote to stdout before the probe ran (a .pth import line?). "
            f"stdout head: {completed.stdout[:300].decode('utf-8', 'replace')!r}; "
            f"stderr tail: {_tail(completed.stderr)!r}"
        ) from exc
    if not isinstance(data, dict):
        raise ProbeError(
            f"the probe in {python} printed a JSON {type(data).__name__}, expected an object."
        )
    return data


def resolve_scripts(
    python: Path,
    scripts: Sequence[Mapping[str, str | None]],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> tuple[ScriptReport, ...]:
    """Each console script resolved in a probe of its own: resolving imports the entry point's
    module, so one script's imports cannot change another's answer, and a module that kills
    its interpreter costs that script only (reported as an `error`)."""
    found = []
    for script in scripts:
        try:
            report = run_probe(
                python, env=env, timeout=timeout, distributions=False, scripts=[script]
            )
            found.append(report.scripts[0])
        except ProbeError as exc:
            found.append(
                ScriptReport(
                    name=script.get("name"),
                    path=script.get("path"),
                    module=script.get("module"),
                    status="error",
                    object=None,
                    object_file=None,
                    module_file=None,
                    error=ErrorReport(type="ProbeError", message=str(exc)),
                )
            )
    return tuple(found)


def venv_python(venv: Path) -> Path:
    """`<venv>/bin/python` (or `Scripts/python.exe`), checked to exist, as an absolute path
    (the caller's working directory is not the probe's)."""
    venv = Path(os.path.abspath(venv))
    for candidate in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    raise ProbeError(
        f"{venv} is not a venv: expected an interpreter at {venv / 'bin' / 'python'}, found none."
    )


__all__ = [
    "KINDS",
    "PROBE_SCRIPT",
    "STATUSES",
    "BytecodeReport",
    "DistributionReport",
    "ErrorReport",
    "InterpreterReport",
    "ModuleReport",
    "PathEntry",
    "ProbeError",
    "ProbeReport",
    "ScriptReport",
    "parse_report",
    "probe_environment",
    "resolve_scripts",
    "run_probe",
    "venv_python",
]
