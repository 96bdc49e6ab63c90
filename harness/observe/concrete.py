"""The concrete view: site-packages as a static tool (mypy, pyright, an IDE) sees it.

A plain walk of the directory, following symlinked directories and files, executing no `.pth`
line and following no `.pth` path line: what is on disk under site-packages is all there is.
Inside each directory the walk applies FileFinder's rules for a name `x`:

1. `x/` holding `x/__init__` + an extension, source or bytecode suffix is a regular package;
2. else a file `x<suffix>` is a module (extension suffixes first, then source, then bytecode);
3. else a bare directory `x/` is a namespace portion.

Packages and namespaces are walked into, so namespace subpackages of regular packages are listed
(they are importable at runtime too). The checker holds this view against the runtime probe
(checks.md §5.1, A1): every name here must import from the same real file at runtime.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CONCRETE_KINDS = ("package", "namespace", "module", "extension")
_SKIPPED_DIRS = ("__pycache__",)
_SKIPPED_DIR_SUFFIXES = (".dist-info", ".egg-info", ".data")


@dataclass(frozen=True, order=True)
class ConcreteModule:
    """One dotted name the tree shows, and the real thing behind it.

    `path` is relative to site-packages, POSIX, as seen through symlinks (`google/__init__.py`
    for a package, `jaraco` for a namespace directory, `six.py` for a module). `realpath` is the
    real file (packages: the real `__init__`; namespaces: the real directory). `dir_realpath` is
    the real directory of a package or namespace, which is what runtime `__path__` resolves to.
    """

    name: str
    kind: str
    path: str
    realpath: str
    dir_realpath: str | None = None


@dataclass(frozen=True)
class ConcreteView:
    """Every module and package the tree shows, sorted by name.

    `shadowed` lists what is on disk under an importable name but loses to a sibling of the
    same name (a module file beside a package, a bare directory beside a module, `x.py` beside
    `x.<ext-suffix>`); `loops` lists directories (as seen) not entered because they lead back to
    a directory already being walked.
    """

    site_packages: Path
    modules: tuple[ConcreteModule, ...]
    shadowed: tuple[ConcreteModule, ...] = ()
    loops: tuple[str, ...] = ()

    def module(self, name: str) -> ConcreteModule | None:
        for module in self.modules:
            if module.name == name:
                return module
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(module.name for module in self.modules)


@dataclass
class _Listing:
    """One directory's entries split into (followed) directories and files."""

    dirs: dict[str, os.DirEntry[str]]
    files: dict[str, os.DirEntry[str]]


def _list_dir(path: str) -> _Listing:
    dirs: dict[str, os.DirEntry[str]] = {}
    files: dict[str, os.DirEntry[str]] = {}
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                try:
                    if entry.is_dir():  # follows symlinks; broken links are neither
                        dirs[entry.name] = entry
                    elif entry.is_file():
                        files[entry.name] = entry
                except OSError:
                    continue
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        pass
    return _Listing(dirs=dirs, files=files)


def _entry_realpath(entry: os.DirEntry[str], real_parent: str) -> str:
    """realpath without a syscall per component: only symlinks need resolving."""
    if entry.is_symlink():
        return os.path.realpath(entry.path)
    return os.path.join(real_parent, entry.name)


def _skip_dir(name: str) -> bool:
    return name in _SKIPPED_DIRS or name.endswith(_SKIPPED_DIR_SUFFIXES)


class _Walker:
    def __init__(self, root: str, suffixes: Sequence[tuple[str, str]]) -> None:
        self.root = root
        self.suffixes = suffixes  # (suffix, kind), FileFinder order
        self.modules: list[ConcreteModule] = []
        self.shadowed: list[ConcreteModule] = []
        self.loops: list[str] = []

    def _file_candidates(self, listing: _Listing) -> set[str]:
        names = set()
        for filename in listing.files:
            for suffix, _kind in self.suffixes:
                if filename.endswith(suffix):
                    stem = filename[: -len(suffix)]
                    if stem.isidentifier() and stem != "__init__":
                        names.add(stem)
        return names

    def _init_file(self, listing: _Listing) -> os.DirEntry[str] | None:
        for suffix, _kind in self.suffixes:
            entry = listing.files.get("__init__" + suffix)
            if entry is not None:
                return entry
        return None

    def walk(
        self, listing: _Listing, rel: str, prefix: str, real_dir: str, stack: frozenset[str]
    ) -> None:
        dir_names = {n for n in listing.dirs if n.isidentifier() and not _skip_dir(n)}
        for name in sorted(dir_names | self._file_candidates(listing)):
            dotted = prefix + name
            rel_name = rel + name
            module_files = [
                (listing.files[name + suffix], kind)
                for suffix, kind in self.suffixes
                if name + suffix in listing.files
            ]
            dir_entry = listing.dirs.get(name) if name in dir_names else None
            child: _Listing | None = None
            init = None
            if dir_entry is not None:
                child = _list_dir(dir_entry.path)
                init = self._init_file(child)
            if dir_entry is not None and child is not None and init is not None:
                real_child = _entry_realpath(dir_entry, real_dir)
                self.modules.append(
                    ConcreteModule(
                        dotted,
                        "package",
                        f"{rel_name}/{init.name}",
                        _entry_realpath(init, real_child),
                        real_child,
                    )
                )
                self._shadow(dotted, rel, real_dir, module_files)
                self._descend(child, rel_name, dotted, real_child, stack)
            elif module_files:
                (winner, kind), losers = module_files[0], module_files[1:]
                self.modules.append(
                    ConcreteModule(
                        dotted, kind, rel + winner.name, _entry_realpath(winner, real_dir)
                    )
                )
                self._shadow(dotted, rel, real_dir, losers)
                if dir_entry is not None:
                    real_child = _entry_realpath(dir_entry, real_dir)
                    self.shadowed.append(
                        ConcreteModule(dotted, "namespace", rel_name, real_child, real_child)
                    )
            elif dir_entry is not None and child is not None:
                real_child = _entry_realpath(dir_entry, real_dir)
                self.modules.append(
                    ConcreteModule(dotted, "namespace", rel_name, real_child, real_child)
                )
                self._descend(child, rel_name, dotted, real_child, stack)

    def _shadow(
        self,
        dotted: str,
        rel: str,
        real_dir: str,
        losers: Sequence[tuple[os.DirEntry[str], str]],
    ) -> None:
        for entry, kind in losers:
            self.shadowed.append(
                ConcreteModule(dotted, kind, rel + entry.name, _entry_realpath(entry, real_dir))
            )

    def _descend(
        self, child: _Listing, rel_name: str, dotted: str, real_child: str, stack: frozenset[str]
    ) -> None:
        if real_child in stack:
            self.loops.append(rel_name)
            return
        self.walk(child, rel_name + "/", dotted + ".", real_child, stack | {real_child})


def _suffix_order(
    extension_suffixes: Sequence[str],
    source_suffixes: Sequence[str],
    bytecode_suffixes: Sequence[str],
) -> list[tuple[str, str]]:
    order = [(s, "extension") for s in extension_suffixes]
    order += [(s, "module") for s in source_suffixes]
    order += [(s, "module") for s in bytecode_suffixes]
    return order


def concrete_view(
    site_packages: Path,
    *,
    extension_suffixes: Sequence[str],
    source_suffixes: Sequence[str] = (".py",),
    bytecode_suffixes: Sequence[str] = (".pyc",),
) -> ConcreteView:
    """Walk `site_packages` and list every dotted module and package it shows.

    Suffixes are the target interpreter's (`importlib.machinery.*_SUFFIXES`, reported by the
    probe), because which `.so` names are importable depends on the interpreter.
    """
    root = os.path.abspath(site_packages)
    real_root = os.path.realpath(root)
    walker = _Walker(root, _suffix_order(extension_suffixes, source_suffixes, bytecode_suffixes))
    walker.walk(_list_dir(root), "", "", real_root, frozenset({real_root}))
    return ConcreteView(
        site_packages=Path(root),
        modules=tuple(sorted(walker.modules)),
        shadowed=tuple(sorted(walker.shadowed)),
        loops=tuple(sorted(walker.loops)),
    )


def concrete_files(site_packages: Path) -> dict[str, str]:
    """Every file reachable under `site_packages` (following symlinks): relpath → realpath.

    Directory symlinks that lead back to a directory on the current walk are not entered.
    """
    root = os.path.abspath(site_packages)
    files: dict[str, str] = {}

    def walk(path: str, rel: str, real_dir: str, stack: frozenset[str]) -> None:
        listing = _list_dir(path)
        for name, entry in listing.files.items():
            files[rel + name] = _entry_realpath(entry, real_dir)
        for name, entry in listing.dirs.items():
            real_child = _entry_realpath(entry, real_dir)
            if real_child not in stack:
                walk(entry.path, f"{rel}{name}/", real_child, stack | {real_child})

    real_root = os.path.realpath(root)
    walk(root, "", real_root, frozenset({real_root}))
    return dict(sorted(files.items()))


__all__ = ["CONCRETE_KINDS", "ConcreteModule", "ConcreteView", "concrete_files", "concrete_view"]
