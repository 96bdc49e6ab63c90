"""The machine a benchmark ran on: cores, memory, CPU model, load and tool versions, what a
reader needs to weigh the numbers; and where the uv executable is, if anywhere."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.model import Interpreter


def machine_description(interpreters: Iterable[Interpreter] = ()) -> dict[str, object]:
    """Cores, memory, CPU model, load, tool versions: what a reader needs to weigh numbers."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except (OSError, ValueError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 1,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "load_average_1_5_15": [round(x, 2) for x in load],
        "host_python": platform.python_version(),
        "pythons": [".".join(map(str, i.version)) for i in interpreters],
        "uv": _tool_version([find_uv() or "uv", "--version"]),
        "virtualenv": _module_version("virtualenv"),
        "pip": _tool_version([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
    }


def find_uv() -> str | None:
    """The uv executable on PATH, or None (the uv rows are then skipped)."""
    return shutil.which("uv")


def _tool_version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else "n/a"


def _module_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # any lookup failure means "unknown" for a description
        return "unknown"
