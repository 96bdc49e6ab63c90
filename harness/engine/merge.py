"""Physical merge of one package directory shipped by several wheels (engine-contract.md §5).

A regular package that spans wheels (PyJWT + jwt both ship `jwt/__init__.py`) cannot be unioned
at import time: Python binds a regular package's `__path__` to the first directory found. So the
contributions are overlaid on disk, in wheel order, into one real directory, the shape a flat
`pip install` would leave.

Rules (the contract, engine-contract.md §5, and invariants 14-16, checks.md §6.14-§6.16):

* sources are `(label, directory, files)` overlaid in order, where `files` are the paths under
  the directory that the wheel's RECORD lists (plus the bytecode the harness compiled into the
  tree on purpose, `harness.supply.bytecode`). The live directory is never walked: what a merged
  directory holds is a function of the wheels, not of whatever an interpreter or a tool left in
  a tree. A source with no files is skipped (a platform wheel may lack the directory); each is
  visited as a sorted walk would (per directory: its subdirectories, then its files, then each
  subdirectory in turn). A listed path that is missing is an error: the tree and its RECORD
  disagree;
* files are hard links when the destination and the source share a file system (install trees
  are large and read-only: linking costs no bytes), copies (`copy2`, mtime kept so shipped
  bytecode stays valid) otherwise or when the kernel refuses the link; never symlinks, because a
  merged directory must be physically one directory;
* the later file wins; a conflict is recorded for different bytes (`distinct`), the same bytes
  with a different executable status (`executable_changed`; any x bit vs none, finer mode
  differences ignored), an existing file replaced by a directory (`file_to_directory`) and an
  existing directory replaced by a file (`directory_to_file`);
* when `pkg/mod.py` is written (first time, or replaced by different bytes) every
  `pkg/__pycache__/mod.*.pyc` merged from an *earlier* source is deleted: it was compiled from
  other bytes. Identical re-supply keeps it, a later source's bytecode survives, a sourceless
  `.pyc` (outside `__pycache__`) survives;
* bytecode the harness compiled (`derived`) follows its source and is never reported as a
  conflict itself: it is a function of its source, whose own conflict (if any) says it all;
* sources are never modified; they may be read-only (0o444 files, 0o555 directories). Linked
  files keep the source inode's mode, which is exactly the mode the rules adopt (the later
  file's), so no chmod is ever applied to a destination file: a chmod would reach the tree.

Symlinks inside a source are refused (`MergeError`): wheels cannot carry symlinks, so one in an
install tree means the tree was not produced by the installer, and following it could pull
files from outside the tree into the venv.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import MaterializeError

CONFLICT_KINDS = ("distinct", "executable_changed", "file_to_directory", "directory_to_file")

# Content that was already in `into` before the merge started has no wheel label.
EXISTING = "(existing)"

# errno values for which a hard link is impossible but a copy works.
_LINK_FALLBACK_ERRNOS = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP}
)
_EXEC_BITS = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
_CHUNK = 1 << 16


class MergeError(MaterializeError):
    """A source that cannot be merged as is (a symlink or special file inside it)."""


@dataclass(frozen=True)
class MergeSource:
    """One contribution to a merge: `files` (POSIX paths relative to `root`) as RECORD lists them
    under `root`, plus compiled bytecode; `derived` names the files among them that the harness
    compiled (never reported as conflicts)."""

    label: str
    root: Path
    files: tuple[str, ...]
    derived: frozenset[str] = frozenset()


def _as_source(source: MergeSource | tuple) -> MergeSource:
    if isinstance(source, MergeSource):
        return source
    label, root, files, *rest = source
    derived = frozenset(rest[0]) if rest else frozenset()
    return MergeSource(label, Path(root), tuple(files), derived)


@dataclass(frozen=True)
class Conflict:
    """`rel` (relative to the merge root) was supplied by `previous` and then `current`.

    `file_to_directory`: a file was there and a directory replaced it; `directory_to_file`: the
    reverse. `distinct`: different bytes. `executable_changed`: same bytes, x bit differs.
    """

    rel: str
    kind: str
    previous: str
    current: str

    def describe(self, into: str | Path = "") -> str:
        """The upstream message shape, so users of both tools recognise it."""
        where = f" {into}" if str(into) else ""
        return (
            f"Package collision while merging{where}: `{self.rel}` is provided by both "
            f"{self.previous} and {self.current} ({self.kind.replace('_', ' ')})."
        )


@dataclass(frozen=True)
class MergeResult:
    """What a merge wrote: every file present at the end and who supplied it, and conflicts."""

    owners: dict[str, str] = field(hash=False)  # POSIX relpath -> label, sorted by path
    conflicts: tuple[Conflict, ...] = ()  # in discovery order (deterministic)
    removed_bytecode: tuple[str, ...] = ()  # stale `__pycache__` files deleted, in order
    linked: int = 0  # files written as hard links
    copied: int = 0  # files written as copies


def cached_source(rel: str) -> str | None:
    """The source file a `__pycache__` bytecode path was compiled from, or None.

    The cache tag is stripped right to left: `pkg/__pycache__/api.v1.cpython-311.pyc` ->
    `pkg/api.v1.py`, `mod.cpython-311.opt-2.pyc` -> `mod.py`. Malformed names (`mod..pyc`,
    `mod.cpython-311.opt-.pyc`, `.cpython-311.pyc`) and bytecode outside `__pycache__` (a
    sourceless module, which must survive) map to nothing.
    """
    parent, _, name = rel.rpartition("/")
    package, _, cache_dir = parent.rpartition("/")
    if cache_dir != "__pycache__" or not name.endswith(".pyc"):
        return None
    rest = name[: -len(".pyc")]
    stem, _, last = rest.rpartition(".")
    if last.startswith("opt-"):
        if last == "opt-" or not stem:
            return None
        stem, _, last = stem.rpartition(".")
    if not stem or not last:  # no cache tag, or nothing before it
        return None
    return f"{package}/{stem}.py" if package else f"{stem}.py"


def _is_executable(mode: int) -> bool:
    return bool(mode & _EXEC_BITS)


def _same_bytes(first: Path, second: Path) -> bool:
    """Byte equality without `filecmp`'s stat-keyed cache (files are replaced during a merge)."""
    first_stat, second_stat = first.stat(), second.stat()
    if (first_stat.st_dev, first_stat.st_ino) == (second_stat.st_dev, second_stat.st_ino):
        return True
    if first_stat.st_size != second_stat.st_size:
        return False
    with first.open("rb") as a, second.open("rb") as b:
        while True:
            block_a, block_b = a.read(_CHUNK), b.read(_CHUNK)
            if block_a != block_b:
                return False
            if not block_a:
                return True


def _refuse_special(path: Path, label: str) -> os.stat_result:
    """lstat `path`; a symlink or special file inside a source is refused (module docstring)."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise MergeError(
            f"merge source of {label} contains a symlink at {path}: install trees must hold "
            f"regular files and directories only (a wheel cannot ship symlinks), so this tree "
            f"was not produced by the installer; expected a file or directory, found a link to "
            f"{os.readlink(path)!r}"
        )
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise MergeError(
            f"merge source of {label} contains {path}, which is neither a regular file nor a "
            f"directory (mode {oct(info.st_mode)}); install trees hold files and directories only"
        )
    return info


def _lstat(path: Path) -> os.stat_result | None:
    """What is at `path` itself (a link is not followed), or None where nothing is: one system
    call where `is_dir`, `is_symlink` and `exists` would make three (pathlib's tolerance)."""
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return None
        raise


def _make_dir(path: Path) -> None:
    """A real directory, 0o755 whatever the umask (deterministic, deletable output)."""
    path.mkdir()
    path.chmod(0o755)


class _Merger:
    """State of one merge; `merge_tree` is the interface."""

    def __init__(self, into: Path, link: bool | None) -> None:
        self.into = into
        self.link = link
        self.owners: dict[str, str] = {}
        self.dir_owners: dict[str, str] = {}
        self.origins: dict[str, Path] = {}  # rel -> source file it was written from
        self.conflicts: list[Conflict] = []
        self.removed: list[str] = []
        # source rel -> {bytecode rel: index of the source that wrote it}
        self.bytecode: dict[str, dict[str, int]] = {}
        # bytecode deleted as stale: rel -> (label, source file), to still report real conflicts
        self.orphaned: dict[str, tuple[str, Path]] = {}
        self.linked = 0
        self.copied = 0

    # -- bookkeeping -------------------------------------------------------------------

    def _forget_under(self, rel: str) -> None:
        """Drop every record at or below `rel` (after the path was removed from `into`)."""
        prefix = rel + "/"
        for table in (self.owners, self.dir_owners, self.origins):
            for key in [k for k in table if k == rel or k.startswith(prefix)]:
                del table[key]
        for caches in self.bytecode.values():
            for key in [k for k in caches if k == rel or k.startswith(prefix)]:
                del caches[key]

    def _previous(self, rel: str) -> str:
        return self.owners.get(rel) or self.dir_owners.get(rel) or EXISTING

    def _drop_stale_bytecode(self, source_rel: str, index: int) -> None:
        caches = self.bytecode.get(source_rel, {})
        for pyc_rel in sorted(caches):
            if caches[pyc_rel] >= index:
                continue  # the same or a later source compiled it: still valid
            target = self.into / pyc_rel
            if target.is_file() and not target.is_symlink():
                target.unlink()
            self.orphaned[pyc_rel] = (self.owners.get(pyc_rel, EXISTING), self.origins[pyc_rel])
            self.removed.append(pyc_rel)
            del caches[pyc_rel]
            self.owners.pop(pyc_rel, None)
            self.origins.pop(pyc_rel, None)

    # -- writing -----------------------------------------------------------------------

    def _place(self, source: Path, dest: Path, use_link: bool) -> None:
        if use_link:
            try:
                os.link(source, dest, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in _LINK_FALLBACK_ERRNOS:
                    raise
            else:
                self.linked += 1
                return
        shutil.copy2(source, dest, follow_symlinks=False)
        self.copied += 1

    def directory(self, rel: str, label: str) -> None:
        dest = self.into / rel
        found = _lstat(dest)
        if found is not None and not stat.S_ISDIR(found.st_mode):  # a link, or not a directory
            self.conflicts.append(Conflict(rel, "file_to_directory", self._previous(rel), label))
            dest.unlink()
            self._forget_under(rel)
            found = None
        if found is None:
            _make_dir(dest)
        self.dir_owners[rel] = label

    def file(
        self,
        rel: str,
        label: str,
        index: int,
        source: Path,
        use_link: bool,
        derived: bool = False,
        source_mode: int | None = None,
    ) -> None:
        dest = self.into / rel
        if source_mode is None:
            source_mode = source.lstat().st_mode
        write_is_new_bytes = True
        found = _lstat(dest)
        if derived and found is not None and stat.S_ISREG(found.st_mode):
            dest.unlink()  # compiled bytecode follows its source: the later one wins silently
            found = None
        elif derived and rel in self.orphaned:
            del self.orphaned[rel]
        if found is not None and stat.S_ISDIR(found.st_mode):
            self.conflicts.append(Conflict(rel, "directory_to_file", self._previous(rel), label))
            shutil.rmtree(dest)
            self._forget_under(rel)
        elif found is not None and stat.S_ISLNK(found.st_mode):
            # only pre-existing content can be a link: never the same file
            self.conflicts.append(Conflict(rel, "distinct", self._previous(rel), label))
            dest.unlink()
        elif found is not None:
            previous = self._previous(rel)
            if _same_bytes(source, dest):
                write_is_new_bytes = False
                if _is_executable(source_mode) != _is_executable(dest.stat().st_mode):
                    self.conflicts.append(Conflict(rel, "executable_changed", previous, label))
            else:
                self.conflicts.append(Conflict(rel, "distinct", previous, label))
            dest.unlink()  # unlink first: the old file may be a read-only linked inode
        elif rel in self.orphaned:
            # Stale bytecode removed earlier in this merge: still a conflict iff contents differ.
            previous, earlier_source = self.orphaned.pop(rel)
            if not _same_bytes(source, earlier_source):
                self.conflicts.append(Conflict(rel, "distinct", previous, label))
            elif _is_executable(source_mode) != _is_executable(earlier_source.stat().st_mode):
                self.conflicts.append(Conflict(rel, "executable_changed", previous, label))
        self._place(source, dest, use_link)
        self.owners[rel] = label
        self.origins[rel] = source
        self.orphaned.pop(rel, None)
        if rel.endswith(".py") and write_is_new_bytes:
            self._drop_stale_bytecode(rel, index)
        compiled_from = cached_source(rel)
        if compiled_from is not None:
            self.bytecode.setdefault(compiled_from, {})[rel] = index

    def source(self, index: int, source: MergeSource) -> None:
        label, root = source.label, source.root
        if root.is_symlink():
            _refuse_special(root, label)
        if not source.files:
            return  # nothing listed: a platform wheel may lack the directory
        if not root.is_dir():
            raise MergeError(
                f"merge source of {label}: {root} is not a directory, but {len(source.files)} "
                f"files are listed under it (e.g. {sorted(source.files)[0]}); the install tree "
                f"and its RECORD disagree"
            )
        use_link = self.link
        if use_link is None:
            use_link = root.stat().st_dev == self.into.stat().st_dev
        self._visit(index, source, "", _nest(source.files, label), use_link)

    def _visit(
        self, index: int, source: MergeSource, prefix: str, node: dict, use_link: bool
    ) -> None:
        """One directory of a source, in the order a sorted top-down walk would meet it."""
        label, root = source.label, source.root
        dirs = sorted(name for name, child in node.items() if child is not None)
        for name in dirs:
            if not stat.S_ISDIR(_listed(root / (prefix + name), label).st_mode):
                raise MergeError(
                    f"merge source of {label}: {root / (prefix + name)} is a file, but its "
                    "RECORD lists files under it"
                )
            self.directory(prefix + name, label)
        for name in sorted(name for name, child in node.items() if child is None):
            path = root / (prefix + name)
            mode = _listed(path, label).st_mode
            if not stat.S_ISREG(mode):
                raise MergeError(f"merge source of {label}: {path} is listed as a file, it is not")
            rel = prefix + name
            self.file(
                rel, label, index, path, use_link, derived=rel in source.derived, source_mode=mode
            )
        for name in dirs:
            self._visit(index, source, prefix + name + "/", node[name], use_link)


def _nest(files: Iterable[str], label: str) -> dict:
    """Relative POSIX paths as a tree: name -> subtree (a directory) or None (a file)."""
    tree: dict = {}
    for rel in files:
        parts = rel.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise MergeError(f"merge source of {label}: {rel!r} is not a relative path")
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if child is None:
                raise MergeError(f"merge source of {label}: {rel!r} lies under a listed file")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise MergeError(
                f"merge source of {label}: {rel!r} is listed as a file and a directory"
            )
        node[parts[-1]] = None
    return tree


def _listed(path: Path, label: str) -> os.stat_result:
    """lstat a listed path: missing means the tree lost a file RECORD lists; links and special
    files are refused (`_refuse_special`)."""
    try:
        return _refuse_special(path, label)
    except FileNotFoundError:
        raise MergeError(
            f"merge source of {label}: {path} is listed (by RECORD, or by the harness's bytecode "
            "manifest) but missing; the install tree has changed since it was unpacked (run "
            "`harness cache verify`)"
        ) from None


def merge_tree(
    into: Path,
    sources: Sequence[MergeSource | tuple[str, Path, Collection[str]]],
    *,
    link: bool | None = None,
) -> MergeResult:
    """Overlay `sources` (label, directory, listed files) into the real directory `into`, in
    order (a `MergeSource`, or a tuple of its fields).

    `link=None` hard-links when `into` and a source share a device (checked per source), `True`
    always tries a link and `False` always copies; a refused link falls back to a copy.
    `into` is created (with real parents) when missing; existing content is overlaid like an
    earlier source labelled `(existing)`.
    """
    into = Path(into)
    if into.is_symlink() or (into.exists() and not into.is_dir()):
        raise MergeError(
            f"merge destination {into} must be a real directory (or missing); found "
            f"{'a symlink' if into.is_symlink() else 'a file'}: writing through it would modify "
            f"what it points at"
        )
    into.mkdir(parents=True, exist_ok=True)
    merger = _Merger(into, link)
    for index, source in enumerate(sources):
        merger.source(index, _as_source(source))
    return MergeResult(
        owners=dict(sorted(merger.owners.items())),
        conflicts=tuple(merger.conflicts),
        removed_bytecode=tuple(merger.removed),
        linked=merger.linked,
        copied=merger.copied,
    )


__all__ = [
    "CONFLICT_KINDS",
    "EXISTING",
    "Conflict",
    "MergeError",
    "MergeResult",
    "MergeSource",
    "cached_source",
    "merge_tree",
]
