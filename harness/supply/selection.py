"""Which of a pin's wheel files an interpreter gets: pure functions over names and tags.

Selection follows the target's own tag preference order (`Interpreter.tags`), so a pin with a
cp39 and a cp313 build gives each interpreter its own file; a pin may force a file by name or
ask for the best file built for another platform. Nothing here touches the network or the disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from harness import names
from harness.errors import HarnessError
from harness.model import Interpreter, Pin, WheelFile
from harness.supply.interpreters import tags_summary

__all__ = [
    "choose",
    "compatible",
    "file_rank",
    "label_for",
    "platform_rank",
    "select_file",
    "wheel_tags",
]


def wheel_tags(filename: str) -> frozenset[str]:
    """The tags a wheel file name declares (`py2.py3-none-any` → two tags)."""
    return names.wheel_tags(filename)


@lru_cache(maxsize=32)
def _tag_rank(tags: tuple[str, ...]) -> dict[str, int]:
    return {tag: i for i, tag in enumerate(tags)}


def file_rank(filename: str, interp: Interpreter) -> int | None:
    """Position of the file's best tag in the interpreter's preference order (lower wins)."""
    ranks = _tag_rank(interp.tags)
    found = [ranks[t] for t in wheel_tags(filename) if t in ranks]
    return min(found) if found else None


def compatible(filename: str, interps: Sequence[Interpreter]) -> bool:
    """True when any interpreter accepts the file (every wheel when no interpreter is given)."""
    return not interps or any(file_rank(filename, i) is not None for i in interps)


def platform_rank(filename: str, interp: Interpreter, platform: str) -> int | None:
    """Rank of a file built for `platform` by the interpreter's own python/abi preference
    order, whatever platforms the interpreter itself accepts (None: not for this target)."""
    order: dict[tuple[str, str], int] = {}
    for tag in interp.tags:
        python, abi, _plat = tag.split("-")
        order.setdefault((python, abi), len(order))
    found = []
    for tag in wheel_tags(filename):
        python, abi, plat = tag.split("-")
        if plat == platform and (python, abi) in order:
            found.append(order[(python, abi)])
    return min(found) if found else None


def select_file(pin: Pin, interp: Interpreter) -> WheelFile:
    """The pin's file for `interp`: `pin.filename` if forced, the best file built for
    `pin.platform` if one is named, else the best-ranked one."""
    if pin.platform:
        ranked = sorted(
            (rank, wf.filename, wf)
            for wf in pin.files
            if (rank := platform_rank(wf.filename, interp, pin.platform)) is not None
        )
        if not ranked:
            raise HarnessError(
                f"{pin.name}=={pin.version}: none of its files is built for platform "
                f"{pin.platform} and this interpreter's python/abi tags. Files: "
                f"{', '.join(f.filename for f in pin.files)}. Target: {tags_summary(interp)}. "
                f"Add its {pin.platform} file for Python {interp.short_version}."
            )
        return ranked[0][2]
    if pin.filename:
        for wheel_file in pin.files:
            if wheel_file.filename == pin.filename:
                return wheel_file
        raise HarnessError(
            f"{pin.name}=={pin.version}: forced file {pin.filename} is not among its files "
            f"({', '.join(f.filename for f in pin.files)})"
        )
    ranked = sorted(
        ((rank, wf) for wf in pin.files if (rank := file_rank(wf.filename, interp)) is not None),
        key=lambda item: (item[0], item[1].filename),
    )
    if not ranked:
        raise HarnessError(
            f"{pin.name}=={pin.version}: none of its files fits the target. Files: "
            f"{', '.join(f.filename for f in pin.files) or '(none)'}. Target: "
            f"{tags_summary(interp)}. Lock a file for it (`harness lock {pin.name}=="
            f"{pin.version} --python {interp.short_version}`) or force one with `filename`."
        )
    return ranked[0][1]


def label_for(pin: Pin, wheel_file: WheelFile) -> str:
    """The name a chosen file goes by in plans and reports: the pin's label, else its file name."""
    return pin.label or wheel_file.filename


def choose(pins: Iterable[Pin], interp: Interpreter) -> list[tuple[str, WheelFile]]:
    """(label, file) per pin for `interp`; a wheel listed twice keeps its first position."""
    chosen: dict[str, WheelFile] = {}
    for pin in pins:
        wheel_file = select_file(pin, interp)
        label = label_for(pin, wheel_file)
        if label in chosen and chosen[label] != wheel_file:
            raise HarnessError(
                f"label {label!r} names two different wheels: {chosen[label].filename} "
                f"(sha256 {chosen[label].sha256}) and {wheel_file.filename} (sha256 "
                f"{wheel_file.sha256}); give one of them a distinct label"
            )
        chosen.setdefault(label, wheel_file)
    return list(chosen.items())
