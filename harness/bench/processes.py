"""Running what is measured: the clean environment of a timed subprocess, a command timed to
completion, a command's error, and the interleaved schedule every timed comparison uses.

Noise handling, because the numbers are taken on shared machines: every action is warmed up
untimed first (caches, page cache, virtualenv's interpreter query), and timed runs are
interleaved round-robin with the order rotated each round, so a burst of load hits every
variant alike.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.bench.users import RunAs


def interleaved(
    actions: Mapping[str, Callable[[], float]], runs: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run each action `warmup` times untimed, then `runs` rounds; each round runs every action
    once, the order rotated by one per round. Each action returns its own measured seconds
    (so setup and cleanup stay outside the measurement)."""
    names = list(actions)
    for _ in range(warmup):
        for name in names:
            actions[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            samples[name].append(actions[name]())
    return samples


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for timed subprocesses: the host's, minus what would steer Python or
    the installers away from the venv under test (PYTHON*, VIRTUAL_ENV, PIP_*, UV_*)."""
    dropped = ("PYTHON", "PIP_", "UV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    return env


def user_options(user: RunAs | None) -> dict[str, object]:
    """`subprocess.run` keyword arguments that run the child as `user` (none for the caller)."""
    return user.subprocess_options() if user else {}


def run_command(
    argv: Sequence[str], env: Mapping[str, str] | None = None, user: RunAs | None = None
) -> float:
    """Run a command to completion and return its wall time; a failure is a HarnessError
    because a benchmark of a failing command measures nothing."""
    start = time.perf_counter()
    completed = subprocess.run(
        list(argv),
        env=dict(env) if env is not None else None,
        capture_output=True,
        check=False,
        **user_options(user),  # type: ignore[arg-type]
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).decode("utf-8", "replace").strip()[-800:]
        raise HarnessError(
            f"benchmark command failed with exit status {completed.returncode}: "
            f"{' '.join(argv)}\n{tail}"
        )
    return elapsed


def command_error(
    python: Path, code: str, env: Mapping[str, str], user: RunAs | None = None
) -> str | None:
    """None when `python -c code` succeeds, else the end of what it printed."""
    completed = subprocess.run(
        [str(python), "-c", code],
        env=dict(env),
        capture_output=True,
        check=False,
        **user_options(user),  # type: ignore[arg-type]
    )
    if completed.returncode == 0:
        return None
    return (completed.stderr or completed.stdout).decode("utf-8", "replace").strip()[-300:]
