"""Empty venvs for a target interpreter, shared by the materializer and the flat oracle.

Both the engine under test (`harness.engine.materialize`) and the oracle that judges it
(`harness.oracle`) start from the same empty venv, so this module lives outside
`harness.engine`: the oracle must not import the engine's code.

The venv is virtualenv's, made once per interpreter and reproduced after that: virtualenv (no
seed packages, no activators) writes the same handful of entries for every destination, and only
pyvenv.cfg's `command` line names the destination. So the first venv for an interpreter is made
by virtualenv into a skeleton under `<cache>/venv-skeletons/` (keyed by the interpreter binary's
realpath, size and mtime, virtualenv's version and the options), and every venv is a copy of that
skeleton with the `command` line naming its own path: byte for byte what virtualenv writes,
without importing virtualenv (~70 ms) and running its interpreter discovery (~40 ms) in every
process that builds a venv.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

from harness.errors import MaterializeError
from harness.model import STATE_DIR, Interpreter  # STATE_DIR: `<venv>/.harness/`, venv-owned

_VIRTUALENV_LOCK = threading.Lock()


_OPTIONS = ("--no-seed", "--no-periodic-update", "--no-vcs-ignore", "--activators", "", "--quiet")
SKELETON_FORMAT = 1
_COMPLETE = ".complete"


def create_virtualenv(interpreter: Interpreter, out: Path) -> None:
    """A virtualenv venv at `out` for `interpreter`: no seed packages, no network, no
    activators, no .gitignore; copied from the interpreter's skeleton (module docstring), which
    virtualenv makes the first time."""
    out = Path(os.path.abspath(out))
    skeleton = _skeleton(interpreter)
    if skeleton is None:
        _run_virtualenv(interpreter, out)
        return
    try:
        _copy_skeleton(skeleton, out)
    except OSError as exc:
        raise MaterializeError(f"cannot create the venv {out} from {skeleton}: {exc}") from exc


def _run_virtualenv(interpreter: Interpreter, out: Path) -> None:
    """virtualenv in-process. `cli_run` takes a few ms per venv once virtualenv has queried the
    interpreter (about 0.1 s the first time per process); a subprocess pays ~0.2 s every time."""
    import virtualenv  # deferred: ~70 ms to import, only skeleton builders need it

    args = [str(out), "--python", interpreter.executable, *_OPTIONS]
    try:
        with _VIRTUALENV_LOCK:  # virtualenv keeps process-wide caches
            virtualenv.cli_run(args, setup_logging=False)
    except (RuntimeError, OSError, SystemExit) as exc:
        raise MaterializeError(
            f"virtualenv could not create {out} for {interpreter.executable}: {exc}"
        ) from exc


def _virtualenv_version() -> str:
    """The version of the virtualenv `import virtualenv` would load, from the dist-info beside
    it; `importlib.metadata` answers the same but costs ~15 ms per process (its imports, and a
    scan of every `sys.path` entry), which a warm `harness assemble` pays for nothing else."""
    import importlib.util

    spec = importlib.util.find_spec("virtualenv")
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        try:
            found = [
                name
                for name in os.listdir(site)
                if name.startswith("virtualenv-") and name.endswith(".dist-info")
            ]
        except OSError:
            found = []
        if len(found) == 1:
            try:
                with open(os.path.join(site, found[0], "METADATA"), encoding="utf-8") as metadata:
                    for line in metadata:
                        if line.startswith("Version:"):
                            return line.partition(":")[2].strip()
                        if not line.strip():
                            break  # the end of the headers
            except OSError:
                pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("virtualenv")
    except PackageNotFoundError:
        return "unknown"


def _skeleton_key(interpreter: Interpreter) -> tuple[str, str] | None:
    """(directory name, key) of the interpreter's skeleton: the key is everything the venv
    virtualenv writes depends on, the name `config.memo_name` of it (the marker holds the key)."""
    from harness.config import memo_name

    try:
        info = os.stat(interpreter.executable)
    except OSError:
        return None
    material = json.dumps(
        [
            SKELETON_FORMAT,
            os.path.realpath(interpreter.executable),
            info.st_size,
            info.st_mtime_ns,
            _virtualenv_version(),
            list(_OPTIONS),
        ]
    )
    return memo_name(material), material


def _is_complete(skeleton: Path, key: str) -> bool:
    """The skeleton was built to the end, for this key."""
    try:
        return json.loads((skeleton / _COMPLETE).read_text()).get("key") == key
    except (OSError, ValueError, AttributeError):
        return False


def _skeleton(interpreter: Interpreter) -> Path | None:
    """The interpreter's skeleton venv, made once (under a lock) with virtualenv; None when the
    cache cannot hold one (then every venv is made by virtualenv directly)."""
    from harness import config

    named = _skeleton_key(interpreter)
    if named is None:
        return None
    name, key = named
    root = config.cache_dir() / "venv-skeletons"
    skeleton = root / name
    if _is_complete(skeleton, key):
        return skeleton / "venv"
    import filelock

    try:
        root.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(root / f"{name}.lock", timeout=600):
            if _is_complete(skeleton, key):
                return skeleton / "venv"
            if skeleton.exists():
                shutil.rmtree(skeleton)  # a build killed before its marker (or another key's)
            building = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
            try:
                _run_virtualenv(interpreter, building / "venv")
                (building / _COMPLETE).write_text(
                    json.dumps(
                        {
                            "interpreter": interpreter.executable,
                            "venv": str(building / "venv"),
                            "key": key,
                        }
                    )
                    + "\n"
                )
                os.rename(building, skeleton)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
    except (OSError, filelock.Timeout) as exc:
        import logging

        logging.getLogger("harness.supply.venvs").debug("no venv skeleton in %s: %s", root, exc)
        return None
    return skeleton / "venv"


def _copy_skeleton(skeleton: Path, out: Path) -> None:
    """Recreate `skeleton` at `out` (new or empty): directories, symlinks as they are, files
    with their modes; pyvenv.cfg's `command` line names `out`, as virtualenv would write it."""
    built = json.loads((skeleton.parent / _COMPLETE).read_text())["venv"]
    out.mkdir(parents=True, exist_ok=True)
    for current, dirnames, filenames in os.walk(skeleton):
        base = Path(current)
        target = out / base.relative_to(skeleton)
        for name in sorted(dirnames + filenames):
            source, dest = base / name, target / name
            info = source.lstat()
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(source), dest)
            elif stat.S_ISDIR(info.st_mode):
                dest.mkdir()
                dest.chmod(stat.S_IMODE(info.st_mode))
            elif name == "pyvenv.cfg" and base == skeleton:
                lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
                dest.write_text(
                    "".join(
                        line.replace(built, str(out)) if line.startswith("command") else line
                        for line in lines
                    ),
                    encoding="utf-8",
                )
                dest.chmod(stat.S_IMODE(info.st_mode))
            else:
                shutil.copyfile(source, dest)
                dest.chmod(stat.S_IMODE(info.st_mode))
        dirnames[:] = [d for d in dirnames if not (base / d).is_symlink()]


def site_packages_of(venv: Path, interpreter: Interpreter) -> Path:
    """`<venv>/lib/pythonX.Y/site-packages` of a venv virtualenv made for `interpreter`."""
    candidate = venv / "lib" / f"python{interpreter.short_version}" / "site-packages"
    if candidate.is_dir():
        return candidate
    found = sorted((venv / "lib").glob("python*/site-packages"))
    if len(found) == 1:
        return found[0]
    raise MaterializeError(
        f"virtualenv made {venv} but its site-packages is not at {candidate} (found: "
        f"{[str(p) for p in found]})"
    )


__all__ = ["STATE_DIR", "create_virtualenv", "site_packages_of"]
