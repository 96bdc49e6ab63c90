"""`harness cache verify`: every install tree still is exactly what its wheel and the harness put
there.

A tree is unpacked once, made read-only and then shared by every venv of every interpreter, so
anything that writes into it (an interpreter caching bytecode as root, a tool, a person) changes
every venv that links to it. This module re-derives what each tree must hold from facts, never
from the tree's own listing:

* every file its RECORD lists (routed as the unpack routed it), with RECORD's hash and size, and
  RECORD itself byte-equal to the wheel's when the wheel is in the cache;
* the bytecode the harness compiled on purpose (`harness.supply.bytecode`): each manifest's pyc files,
  by sha256, each one the cache file of a `.py` source RECORD lists;
* the marker, the manifests and the wheel's RECORD signatures, if it shipped any;
* nothing else: every other file or directory is `extra`, a listed file that is gone is
  `missing`, different bytes are `changed`, a write bit or a symlink is `mode`.

Each tree is checked under its lock, so a tree being compiled for another interpreter is checked
before or after, never halfway. Trees of an older format are listed as `outdated` and not
verified: nothing uses them any more (they are rebuilt the next time their wheel is prepared).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.supply.archive import SIGNATURES
from harness.supply.bytecode import (
    BYTECODE_DIR,
    BytecodeError,
    manifest_tags,
    pyc_path,
    read_manifest,
)
from harness.supply.digests import file_digest, file_sha256, hash_matches
from harness.supply.trees import (
    COMPLETE_MARKER,
    TREE_FORMAT,
    TREE_SUBDIRS,
    TreeFile,
    tree_dist_info,
    tree_format,
    tree_lock,
)
from harness.supply.wheel import tree_files

KINDS = ("extra", "missing", "changed", "mode", "unreadable")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LOCK_TIMEOUT_S = 600.0

Report = Callable[[str, str, str], None]  # (rel path, kind, detail) of one difference


@dataclass(frozen=True, order=True)
class Difference:
    """One way a tree (or cached wheel) differs from what it must be. `path` is relative to
    the tree root (`""`: the tree itself)."""

    tree: str  # the tree's directory name (its wheel's sha256), or `wheels` for cached files
    path: str
    kind: str  # one of KINDS
    detail: str

    def render(self) -> str:
        where = f"{self.tree}/{self.path}" if self.path else self.tree
        return f"{self.kind:10s} {where}: {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    trees_root: str
    trees: int  # trees of the current format that were verified
    wheels: int  # cached wheel files re-hashed
    outdated: tuple[str, ...]  # trees of an older format (not used, not verified)
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


# --------------------------------------------------------------------------- one tree


def verify_tree(root: Path, wheel: Path | None = None) -> list[Difference]:
    """Every difference between the tree at `root` and what it must hold (module docstring).

    `wheel`, when given, is the tree's wheel file: its RECORD must equal the tree's byte for
    byte (RECORD carries no hash of itself, so that is the only check it can have).
    """
    root = Path(root)
    name = root.name
    out: list[Difference] = []

    def report(path: str, kind: str, detail: str) -> None:
        out.append(Difference(name, path, kind, detail))

    try:
        dist_info = tree_dist_info(root)
        listed = tree_files(root, remember=False)
    except HarnessError as exc:
        report("", "unreadable", str(exc))
        return out

    record_rel = f"site-packages/{dist_info}/RECORD"
    expected = _expected_files(root, dist_info, listed, report)
    seen = _check_walked_files(root, expected, _needed_directories(root, expected), report)
    for rel in sorted(set(expected) - seen):
        how = expected[rel][0]
        why = "RECORD lists it" if how == "record" else "the harness wrote it"
        report(rel, "missing", f"{why}, but it is not there")

    if wheel is not None:
        _compare_record(root, record_rel, dist_info, wheel, report)
    return out


def _expected_files(
    root: Path, dist_info: str, listed: tuple[TreeFile, ...], report: Report
) -> dict[str, tuple[str, object]]:
    """rel -> how to check it: ("record", TreeFile) | ("sha256", hex) | ("present", None).

    What RECORD lists, the marker, RECORD's signatures if shipped, and each bytecode manifest
    with the pyc files it lists (a pyc no listed source compiles to is reported `changed`).
    """
    expected: dict[str, tuple[str, object]] = {COMPLETE_MARKER: ("present", None)}
    record_rel = f"site-packages/{dist_info}/RECORD"
    for item in listed:
        expected[item.rel] = ("present", None) if item.rel == record_rel else ("record", item)
    for signature in SIGNATURES:
        rel = f"site-packages/{dist_info}/{signature}"
        if os.path.lexists(root / rel):
            expected[rel] = ("present", None)
    sources = {item.path for item in listed if item.subdir == "site-packages"}
    for tag in manifest_tags(root):
        rel = f"{BYTECODE_DIR}/{tag}.json"
        expected[rel] = ("present", None)
        try:
            manifest = read_manifest(root, tag)
        except BytecodeError as exc:
            report(rel, "unreadable", str(exc))
            continue
        assert manifest is not None
        compiled = {f"site-packages/{pyc_path(s, tag)}": s for s in sources if s.endswith(".py")}
        for pyc, digest in sorted(manifest.files.items()):
            if pyc not in compiled:
                report(pyc, "changed", f"{rel} lists it, but no source RECORD lists compiles to it")
            expected[pyc] = ("sha256", digest)
    return expected


def _needed_directories(root: Path, expected: dict[str, tuple[str, object]]) -> set[str]:
    """The tree's own directories and every parent of an expected file (rel, "" the root)."""
    directories = {"", *TREE_SUBDIRS}
    if manifest_tags(root):
        directories.add(BYTECODE_DIR)
    for rel in expected:
        parts = rel.split("/")
        directories.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
    return directories


def _check_walked_files(
    root: Path,
    expected: dict[str, tuple[str, object]],
    directories: set[str],
    report: Report,
) -> set[str]:
    """Walk the live tree, sorted, reporting every mode, extra and content difference; the
    rel paths of the files found (what is expected and not found is `missing`)."""
    seen: set[str] = set()
    for current, dirnames, filenames in os.walk(root):
        base = Path(current)
        rel_base = base.relative_to(root).as_posix()
        prefix = "" if rel_base == "." else rel_base + "/"
        here = prefix.rstrip("/")
        if stat.S_IMODE(base.lstat().st_mode) & 0o222:
            report(here, "mode", "directory is writable; trees are read-only (0o555)")
        for dirname in sorted(dirnames):
            rel = prefix + dirname
            path = base / dirname
            if path.is_symlink():
                report(rel, "mode", f"a symlink to {os.readlink(path)!r} (trees hold no links)")
            elif rel not in directories:
                report(rel, "extra", "a directory no listed file needs")
        dirnames[:] = [d for d in sorted(dirnames) if not (base / d).is_symlink()]
        for filename in sorted(filenames):
            rel = prefix + filename
            seen.add(rel)
            path = base / filename
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                report(rel, "mode", f"a symlink to {os.readlink(path)!r} (trees hold no links)")
                continue
            if rel not in expected:
                report(rel, "extra", "neither RECORD nor a bytecode manifest lists it")
                continue
            if not stat.S_ISREG(info.st_mode):
                report(rel, "changed", f"not a regular file (mode {oct(info.st_mode)})")
                continue
            if stat.S_IMODE(info.st_mode) & 0o222:
                report(rel, "mode", "file is writable; trees are read-only (0o444/0o555)")
            _check_content(rel, path, expected[rel], report)
    return seen


def _check_content(rel: str, path: Path, how: tuple[str, object], report: Report) -> None:
    kind, value = how
    if kind == "record":
        item = value
        if item.hash_name is None:  # type: ignore[attr-defined]
            return
        try:
            digest, size = file_digest(path, item.hash_name)  # type: ignore[attr-defined]
        except OSError as exc:
            report(rel, "unreadable", str(exc))
            return
        if not hash_matches(item.hash_name, item.hash_value, digest):  # type: ignore[attr-defined]
            report(rel, "changed", f"its bytes do not hash to RECORD's {item.hash_name}")  # type: ignore[attr-defined]
        elif item.size is not None and size != item.size:  # type: ignore[attr-defined]
            report(rel, "changed", f"RECORD says {item.size} bytes, it has {size}")  # type: ignore[attr-defined]
    elif kind == "sha256":
        try:
            actual = file_sha256(path)
        except OSError as exc:
            report(rel, "unreadable", str(exc))
            return
        if actual != value:
            report(rel, "changed", f"sha256 {actual}, the bytecode manifest says {value}")


def _compare_record(
    root: Path, record_rel: str, dist_info: str, wheel: Path, report: Report
) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            shipped = archive.read(f"{dist_info}/RECORD")
        on_disk = (root / record_rel).read_bytes()
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        report(record_rel, "unreadable", f"cannot compare with the wheel {wheel}: {exc}")
        return
    if on_disk != shipped:
        report(record_rel, "changed", f"differs from the RECORD in {wheel.name}")


# --------------------------------------------------------------------------- every tree


def _wheel_of(wheels_root: Path | None, sha256: str) -> Path | None:
    if wheels_root is None:
        return None
    found = sorted((wheels_root / "sha256" / sha256[:2] / sha256).glob("*.whl"))
    return found[0] if found else None


def verify_wheels(wheels_root: Path) -> tuple[int, list[Difference]]:
    """Re-hash every cached wheel file against the sha256 it is filed under."""
    out: list[Difference] = []
    count = 0
    base = wheels_root / "sha256"
    if not base.is_dir():
        return 0, out
    for directory in sorted(base.glob("*/*")):
        for path in sorted(directory.iterdir()):
            rel = path.relative_to(wheels_root).as_posix()
            if not path.is_file() or path.is_symlink():
                out.append(Difference("wheels", rel, "extra", "not a regular file"))
                continue
            count += 1
            actual = file_sha256(path)
            if actual != directory.name:
                out.append(
                    Difference(
                        "wheels",
                        rel,
                        "changed",
                        f"filed under sha256 {directory.name}, its bytes hash to {actual}",
                    )
                )
    return count, out


def verify_trees(trees_root: Path, wheels_root: Path | None = None) -> VerifyReport:
    """Verify every tree under `trees_root` (and every wheel under `wheels_root`, if given)."""
    trees_root = Path(trees_root)
    differences: list[Difference] = []
    outdated: list[str] = []
    verified = 0
    entries = sorted(os.listdir(trees_root)) if trees_root.is_dir() else []
    for name in entries:
        if name in ("locks", "tmp"):
            continue  # lock files; builds in flight (a peer removes its own)
        path = trees_root / name
        if not _SHA256.fullmatch(name) or path.is_symlink() or not path.is_dir():
            differences.append(Difference(name, "", "extra", "not an install tree"))
            continue
        with tree_lock(trees_root, name, holder=f"verifying {path}", timeout=_LOCK_TIMEOUT_S):
            form = tree_format(path)
            if form != TREE_FORMAT:
                outdated.append(name)
                continue
            differences += verify_tree(path, _wheel_of(wheels_root, name))
            verified += 1
    wheels = 0
    if wheels_root is not None:
        wheels, wheel_differences = verify_wheels(wheels_root)
        differences += wheel_differences
    return VerifyReport(
        trees_root=str(trees_root),
        trees=verified,
        wheels=wheels,
        outdated=tuple(outdated),
        differences=tuple(differences),
    )


__all__ = ["KINDS", "Difference", "VerifyReport", "verify_tree", "verify_trees", "verify_wheels"]
