"""Pins from an exact `NAME==VERSION` or a local `.whl` file (a case name: `harness.cases.words`).

`NAME==VERSION` is locked through the index (`harness.supply.indexfiles`): every wheel file of that
version compatible with the target interpreters, with its sha256 and size. A local `.whl` is
unpacked where it lies first (so fully verified) and then copied into the cache.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from harness import names
from harness.errors import HarnessError
from harness.model import Interpreter, Pin
from harness.supply.cache import WheelCache
from harness.supply.indexfiles import to_wheel_file, version_wheels
from harness.supply.interpreters import tags_summary
from harness.supply.selection import compatible

if TYPE_CHECKING:
    from harness.supply.index import IndexClient
    from harness.supply.pinrequest import PinRequest

__all__ = ["PinRequest", "lock", "parse_spec"]


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    """A distribution name in a `NAME==VERSION` word (compiled when one is read: ~0.5 ms)."""
    return re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)


def __getattr__(name: str) -> Any:
    """`PinRequest`, defined in `harness.supply.pinrequest` (set up when first used)."""
    if name == "PinRequest":
        from harness.supply.pinrequest import PinRequest

        return PinRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_spec(arg: str) -> PinRequest:
    """`NAME==VERSION` or a path to a local `.whl` (pure: nothing is fetched here)."""
    from harness.supply.pinrequest import PinRequest

    text = arg.strip()
    if text.endswith(".whl") or (os.sep in text and "==" not in text):
        path = Path(text).expanduser()
        try:
            name, version, _build, _tags = names.parse_wheel_filename(path.name)
        except names.InvalidWheelFilename as exc:
            raise HarnessError(f"{arg}: not a valid wheel file name ({exc})") from exc
        if not path.is_file():
            raise HarnessError(f"{arg}: no such wheel file")
        return PinRequest(text=text, name=name, version=str(version), path=path)
    name, sep, version = text.partition("==")
    name, version = name.strip(), version.strip()
    if not sep or not _name_pattern().fullmatch(name) or not version or "*" in version:
        raise HarnessError(
            f"{arg!r}: expected an exact pin NAME==VERSION (e.g. google==1.9.3), a case name, "
            "or the path of a .whl file"
        )
    try:
        Version(version)
    except InvalidVersion as exc:
        raise HarnessError(f"{arg!r}: {version!r} is not a PEP 440 version") from exc
    return PinRequest(text=text, name=name, version=version)


def lock(
    requirements: Sequence[str | PinRequest],
    interps: Sequence[Interpreter] = (),
    *,
    client: IndexClient | None = None,
    cache: WheelCache | None = None,
    refresh: bool = True,
) -> list[Pin]:
    """Pins with every wheel file (sha256, size) compatible with any of `interps` (all
    wheels when none). Local `.whl` paths are hashed and copied into the cache."""
    cache = cache or WheelCache()
    pins = []
    for requirement in requirements:
        request = parse_spec(requirement) if isinstance(requirement, str) else requirement
        if request.path is not None:
            # Unpack (and so fully verify) the file where it lies first: a corrupt or hostile
            # wheel is refused before anything of it enters the cache.
            from harness.supply import wheel

            wheel.install_tree(request.path, "")
            wheel_file = cache.add_local(request.path)
            pins.append(
                Pin(
                    name=request.name,
                    version=request.version,
                    files=(wheel_file,),
                    label=wheel_file.filename,
                    filename=wheel_file.filename,
                )
            )
            continue
        wheels = version_wheels(
            request.name, request.version, client=client, cache=cache, refresh=refresh
        )
        fitting = [f for f in wheels if compatible(f.filename, interps)]
        if not fitting:
            targets = "; ".join(tags_summary(i) for i in interps)
            raise HarnessError(
                f"{request.name}=={request.version}: none of its wheels fits the requested "
                f"interpreters. Wheels: {', '.join(f.filename for f in wheels)}. Targets: {targets}"
            )
        pins.append(
            Pin(
                name=request.name,
                version=request.version,
                files=tuple(to_wheel_file(f, cache) for f in fitting),
            )
        )
    return pins
