"""Empty venvs for a target interpreter, shared by the materializer and the flat oracle.

Both the engine under test (`harness.engine.materialize`) and the oracle that judges it
(`harness.oracle`) start from the same empty venv, so this module lives outside
`harness.engine`: the oracle must not import the engine's code.
"""

from __future__ import annotations

import threading
from pathlib import Path

from harness.errors import MaterializeError
from harness.model import Interpreter

# `<venv>/.harness/`: the plan and manifest a later `harness check VENV` reads. Wheels may not
# write there.
STATE_DIR = ".harness"

_VIRTUALENV_LOCK = threading.Lock()


def create_virtualenv(interpreter: Interpreter, out: Path) -> None:
    """virtualenv in-process: no seed packages, no network, no activators, no .gitignore.

    In-process `cli_run` takes a few ms per venv once virtualenv has queried the interpreter
    (about 0.1 s the first time per process); a subprocess pays ~0.2 s of startup every time.
    """
    import virtualenv  # deferred: ~70 ms to import, only venv writers need it

    args = [
        str(out),
        "--python",
        interpreter.executable,
        "--no-seed",
        "--no-periodic-update",
        "--no-vcs-ignore",
        "--activators",
        "",
        "--quiet",
    ]
    try:
        with _VIRTUALENV_LOCK:  # virtualenv keeps process-wide caches
            virtualenv.cli_run(args, setup_logging=False)
    except (RuntimeError, OSError, SystemExit) as exc:
        raise MaterializeError(
            f"virtualenv could not create {out} for {interpreter.executable}: {exc}"
        ) from exc


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
