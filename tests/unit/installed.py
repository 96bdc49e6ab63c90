"""A distribution installed with pypa/installer into a directory of its own, visible to
subprocesses through PYTHONPATH: how a third-party adapter package reaches `harness`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile


def installed_env(wheel: Path, root: Path) -> dict[str, str]:
    """Install `wheel` under `root/site`; the environment (this one's, plus PYTHONPATH) in
    which a subprocess imports it and finds its entry points."""
    site = root / "site"
    scheme = {key: str(root / key) for key in ("scripts", "headers", "data")}
    destination = SchemeDictionaryDestination(
        {"purelib": str(site), "platlib": str(site), **scheme},
        interpreter=sys.executable,
        script_kind="posix",
    )
    with WheelFile.open(wheel) as source:
        install(source, destination, {"INSTALLER": b"harness-tests"})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env
