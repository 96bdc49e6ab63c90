"""A venv reduced to plain values: what observing records and judging reads (checks.md §4).

`harness.observe.venv` fills an `Observation` from the venv on disk, its interpreter and the
wheels' RECORD; `harness.judge` reads nothing else. Every field is plain data, owners
included, so judging opens no file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harness.errors import HarnessError
from harness.model import WheelFacts
from harness.observe.ownership import Owner


@dataclass(frozen=True)
class RuntimeModule:
    """One module as the venv's interpreter resolved (or imported) it."""

    name: str
    status: str  # found, not-found, error
    kind: str | None = None  # module, extension, package, namespace, builtin, frozen
    origin: str | None = None  # realpath of the origin file
    locations: tuple[str, ...] = ()  # realpaths of the search locations
    error: str | None = None  # "Type: message"


@dataclass(frozen=True)
class ConcreteModule:
    """One module as a static tool sees it by walking site-packages."""

    name: str
    kind: str  # package, namespace, module, extension
    path: str  # as seen, relative to site-packages
    realpath: str


@dataclass(frozen=True)
class Distribution:
    name: str  # normalized
    version: str
    path: str  # realpath of the dist-info


@dataclass(frozen=True)
class ScriptRun:
    """One `bin/<name>` console script resolved through its own code, the call left out."""

    name: str
    status: str  # resolved, error, unparsed (not Python / no final call), missing
    object: str | None = None  # what it would call, `module.qualname`
    object_file: str | None = None  # realpath of the code that object runs
    module: str | None = None  # the claimed entry point's module
    module_file: str | None = None  # realpath of that module as the script imported it
    error: str | None = None  # "Type: message"


@dataclass(frozen=True)
class CachedBytecode:
    """A `__pycache__/X.*.pyc` in a real directory of site-packages and the `X.py` beside it."""

    path: str  # site-packages relative
    source: str  # site-packages relative `.py` it is the cache of
    pyc_owners: tuple[str, ...]  # wheels shipping these bytes at this path (empty: none)
    source_owners: tuple[str, ...]  # wheels shipping the source's bytes (empty: none)
    header: str  # fresh, stale or unknown: the .pyc header against the source on disk


@dataclass(frozen=True)
class SharedPath:
    """A site-packages path two wheels ship differently, physically present in a real
    directory of the venv: a conflict some merge resolved, which the engine must report."""

    path: str  # site-packages relative
    wheels: tuple[str, ...]  # wheel order
    kind: str  # distinct (different bytes) or file_to_directory (a file in one, a dir in another)


@dataclass(frozen=True)
class Observation:
    """A venv reduced to plain values: what is on disk and what runtime does."""

    site_packages: str  # realpath
    concrete: Mapping[str, ConcreteModule]
    runtime: Mapping[str, RuntimeModule]  # resolve mode
    imported: Mapping[str, RuntimeModule]  # import mode, for the names a case marks
    sys_path: tuple[str, ...]  # realpaths of existing entries, in order
    distributions: tuple[Distribution, ...]
    # who owns each path the checks ask about, by RECORD content (harness.observe.ownership), decided
    # while observing so that judging reads no file: every concrete and runtime path, each
    # dist-info's WHEEL, each script's reached code, each expected file's realpath
    owners: Mapping[str, Owner | None]
    fallback_roots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # entry -> labels
    symlink_counts: Mapping[str, int] = field(default_factory=dict)  # dir -> symlinks under it
    file_kinds: Mapping[str, str | None] = field(default_factory=dict)  # dir/file/symlink/None
    prefix_kinds: Mapping[str, str | None] = field(default_factory=dict)  # under the venv prefix
    prefix_owners: Mapping[str, str | None] = field(default_factory=dict)  # label of its data tree
    scripts: Mapping[str, bool] = field(default_factory=dict)  # bin/<name> exists, executable
    script_owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # whose entry point
    script_runs: Mapping[str, ScriptRun] = field(default_factory=dict)  # every script in bin/
    bytecode: tuple[CachedBytecode, ...] = ()  # in real directories of site-packages
    shared_paths: tuple[SharedPath, ...] = ()  # conflicts a merge resolved on disk
    file_realpaths: Mapping[str, str] = field(default_factory=dict)  # expected file -> realpath

    def owner_of(self, real: str | None) -> Owner | None:
        """The owner observing recorded for `real`; a path it did not record is a bug in
        observing (judging never reads the disk to make up for it)."""
        if real is None:
            return None
        try:
            return self.owners[real]
        except KeyError:
            raise HarnessError(
                f"judging asked who owns {real}, which observing did not record "
                "(a bug in harness.observe: please report it)"
            ) from None


# --------------------------------------------------------------------------- module names


def shipped_modules(facts: WheelFacts, extension_suffixes: Sequence[str]) -> set[str]:
    """Every dotted module or package name a wheel's files make importable in a flat install."""
    names: set[str] = set()
    suffixes = sorted(extension_suffixes, key=len, reverse=True)
    for path in facts.site_paths:
        parts = path.split("/")
        if parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        leaf = parts[-1]
        if leaf.endswith(".py"):
            stem = leaf[:-3]
        else:
            suffix = next((s for s in suffixes if leaf.endswith(s)), None)
            if suffix is None:
                continue
            stem = leaf[: -len(suffix)]
        dirs = parts[:-1]
        if not all(p.isidentifier() for p in dirs) or not stem.isidentifier():
            continue
        dotted = [*dirs, stem] if stem != "__init__" else dirs
        for depth in range(1, len(dotted) + 1):
            names.add(".".join(dotted[:depth]))
    return names
