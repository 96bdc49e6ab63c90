"""Distribution names and wheel file names, read without importing `packaging.tags`.

`packaging.utils` imports `packaging.tags` at load time, and with it logging, platform,
subprocess and the manylinux/musllinux probes: ~10 ms in every process, which a warm
`harness assemble` (about 70 ms in all) pays only to normalize names and to read the tags a
wheel file name declares. This module does both:

* `canonicalize_name` is PEP 503's normalization (`re.sub(r"[-_.]+", "-", name).lower()`),
  computed as `packaging.utils.canonicalize_name` computes it;
* `parse_wheel_filename` reads a file name of the plain shape (`name-version(-build)?-py-abi-
  platform.whl`, ASCII, every tag component non-empty) itself and returns what
  `packaging.utils.parse_wheel_filename` returns for it, with the tags as strings
  (`str(Tag)`: lower case). Any other name, and any name whose version packaging refuses, is
  handed to packaging: an unusual name gets packaging's answer, an invalid one packaging's
  `InvalidWheelFilename` with packaging's message.

`InvalidWheelFilename` here is packaging's own class, imported when it is first looked up
(an `except names.InvalidWheelFilename:` clause looks it up only when something is raised).
`tests/unit/test_names.py` holds both functions equal to packaging's over the corpus's file
names and a set of odd ones.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion, Version

# Every part of the plain shape, so the tag string holds exactly the last two dashes.
_PLAIN_WHEEL = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?)"
    r"-(?P<version>[A-Za-z0-9.!+_]+)"
    r"(?:-(?P<build>[0-9][A-Za-z0-9._]*))?"
    r"-(?P<tags>[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+)"
    r"\.whl",
    re.ASCII,
)
_BUILD = r"(\d+)(.*)\Z"  # packaging.utils' build tag rule (PEP 427), compiled when first used


def canonicalize_name(name: str) -> str:
    """The PEP 503 normalized form of a distribution name (`Foo_Bar.baz` -> `foo-bar-baz`)."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


def parse_wheel_filename(
    filename: str,
) -> tuple[str, Version, tuple[()] | tuple[int, str], frozenset[str]]:
    """(normalized name, version, build tag, tags as strings) of a wheel file name, as
    `packaging.utils.parse_wheel_filename` gives them; raises packaging's
    `InvalidWheelFilename` for a name packaging refuses."""
    plain = _plain(filename)
    if plain is not None:
        return plain
    from packaging.utils import parse_wheel_filename as parse

    name, version, build, tags = parse(filename)
    return name, version, build, frozenset(str(tag) for tag in tags)


def wheel_tags(filename: str) -> frozenset[str]:
    """The tags a wheel file name declares (`py2.py3-none-any` -> two tags)."""
    return parse_wheel_filename(filename)[3]


def _plain(
    filename: str,
) -> tuple[str, Version, tuple[()] | tuple[int, str], frozenset[str]] | None:
    match = _PLAIN_WHEEL.fullmatch(filename)
    if match is None or "__" in match["name"]:
        return None
    components = [part.split(".") for part in match["tags"].split("-")]
    if any("" in parts for parts in components):
        return None
    interpreters, abis, platforms = components
    if not all(interpreter.isidentifier() for interpreter in interpreters):
        return None
    try:
        version = Version(match["version"])
    except InvalidVersion:
        return None
    build: tuple[()] | tuple[int, str] = ()
    if match["build"] is not None:
        found = re.match(_BUILD, match["build"], re.ASCII)
        if found is None:  # pragma: no cover - the pattern above starts with a digit
            return None
        build = (int(found.group(1)), found.group(2))
    tags = frozenset(
        f"{interpreter}-{abi}-{platform}".lower()
        for interpreter in interpreters
        for abi in abis
        for platform in platforms
    )
    return canonicalize_name(match["name"]), version, build, tags


def __getattr__(name: str) -> Any:
    if name == "InvalidWheelFilename":
        from packaging.utils import InvalidWheelFilename

        return InvalidWheelFilename
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["canonicalize_name", "parse_wheel_filename", "wheel_tags"]  # and InvalidWheelFilename
