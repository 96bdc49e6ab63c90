"""The physical merge (engine-contract.md §5), ported from upstream's site_merge tests (§9.4).

Every source tree here is made read-only after it is written (0o444 files unless a test needs a
mode, 0o555 directories), because real install trees are, and the merge must never touch them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from readonly import make_deletable

from harness.engine.merge import (
    EXISTING,
    Conflict,
    MergeError,
    cached_source,
    merge_tree,
)


def write_tree(root: Path, files: dict[str, bytes | tuple[bytes, int]]) -> Path:
    """Write `files` (rel -> bytes, or (bytes, mode)), then make every directory read-only."""
    for rel, spec in files.items():
        content, mode = spec if isinstance(spec, tuple) else (spec, 0o444)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    root.mkdir(parents=True, exist_ok=True)
    for current, dirnames, _ in os.walk(root, topdown=False):
        for name in dirnames:
            (Path(current) / name).chmod(0o555)
    root.chmod(0o555)
    return root


def listed(pairs) -> list[tuple[str, Path, list[str]]]:
    """(label, root, files) for `merge_tree`: the files a test wrote under each root play the
    part of what RECORD lists (production code never walks a live tree)."""
    out = []
    for label, root in pairs:
        files = []
        for current, _dirnames, filenames in os.walk(root):
            for name in filenames:
                files.append((Path(current) / name).relative_to(root).as_posix())
        out.append((label, Path(root), sorted(files)))
    return out


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None, int]]:
    """Mode, bytes and mtime of everything under `root`: what 'untouched' means."""
    seen: dict[str, tuple[int, bytes | None, int]] = {}
    for current, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(current) / name
            info = path.lstat()
            content = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
            seen[path.relative_to(root).as_posix()] = (info.st_mode, content, info.st_mtime_ns)
    return seen


def listing(root: Path) -> dict[str, str]:
    """rel -> 'dir' or file content as text, for whole-output assertions."""
    out: dict[str, str] = {}
    for current, dirnames, filenames in os.walk(root):
        for name in dirnames:
            out[(Path(current) / name).relative_to(root).as_posix()] = "dir"
        for name in filenames:
            path = Path(current) / name
            assert not path.is_symlink(), f"{path} is a symlink: merges are physical"
            out[path.relative_to(root).as_posix()] = path.read_text()
    return out


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _make_deletable(tmp_path: Path):
    """Give pytest back write access to the read-only source directories after each test."""
    yield
    make_deletable(tmp_path)


# --------------------------------------------------------------------------- overlay


@pytest.mark.parametrize("link", [None, False], ids=["auto-link", "copy"])
def test_later_source_overlays_earlier(tmp_path: Path, link: bool | None) -> None:
    first = write_tree(
        tmp_path / "first",
        {
            "pkg/__init__.py": b"",
            "pkg/only_first.py": b"first only",
            "pkg/distinct.py": b"from first",
            "pkg/same_644_600": (b"same", 0o644),
            "pkg/same_700_711": (b"same", 0o700),
            "pkg/exec_644_755": (b"same", 0o644),
            "pkg/was_file": b"a file in first",
            "pkg/was_dir/inner.py": b"inside first's directory",
            "pkg/union/a.py": b"a",
            "pkg/readonly.py": (b"read only", 0o444),
        },
    )
    second = write_tree(
        tmp_path / "second",
        {
            "pkg/__init__.py": b"",
            "pkg/only_second.py": b"second only",
            "pkg/distinct.py": b"from second",
            "pkg/same_644_600": (b"same", 0o600),
            "pkg/same_700_711": (b"same", 0o711),
            "pkg/exec_644_755": (b"same", 0o755),
            "pkg/was_file/inner.py": b"second made it a directory",
            "pkg/was_dir": b"second made it a file",
            "pkg/union/b.py": b"b",
        },
    )
    before = {name: snapshot(tree) for name, tree in (("first", first), ("second", second))}
    into = tmp_path / "venv" / "pkg"

    result = merge_tree(into, listed([("A", first / "pkg"), ("B", second / "pkg")]), link=link)

    # Exactly one conflict per kind, each at the path that has it; identical bytes with only
    # finer mode differences (0o644/0o600, 0o700/0o711) are not conflicts.
    assert sorted(result.conflicts, key=lambda c: c.rel) == [
        Conflict("distinct.py", "distinct", "A", "B"),
        Conflict("exec_644_755", "executable_changed", "A", "B"),
        Conflict("was_dir", "directory_to_file", "A", "B"),
        Conflict("was_file", "file_to_directory", "A", "B"),
    ]
    # Later content wins, the union keeps both sides, file/dir replacement follows the later.
    assert listing(into) == {
        "__init__.py": "",
        "distinct.py": "from second",
        "exec_644_755": "same",
        "only_first.py": "first only",
        "only_second.py": "second only",
        "readonly.py": "read only",
        "same_644_600": "same",
        "same_700_711": "same",
        "union": "dir",
        "union/a.py": "a",
        "union/b.py": "b",
        "was_dir": "second made it a file",
        "was_file": "dir",
        "was_file/inner.py": "second made it a directory",
    }
    # The later file's mode is adopted, executable or not.
    assert mode(into / "same_644_600") == 0o600
    assert mode(into / "same_700_711") == 0o711
    assert mode(into / "exec_644_755") == 0o755
    assert mode(into / "readonly.py") == 0o444
    # Owners: the last writer of every file present, nothing for removed paths.
    assert result.owners == {
        "__init__.py": "B",
        "distinct.py": "B",
        "exec_644_755": "B",
        "only_first.py": "A",
        "only_second.py": "B",
        "readonly.py": "A",
        "same_644_600": "B",
        "same_700_711": "B",
        "union/a.py": "A",
        "union/b.py": "B",
        "was_dir": "B",
        "was_file/inner.py": "B",
    }
    # Sources are untouched: modes, bytes and mtimes (hard links only change the link count).
    assert before == {"first": snapshot(first), "second": snapshot(second)}
    if link is False:
        assert (result.linked, result.copied) == (0, 19)


def test_same_file_system_links_share_the_source_inode(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "tree", {"pkg/mod.py": b"x = 1\n"})
    result = merge_tree(tmp_path / "out", listed([("A", source / "pkg")]))
    merged = tmp_path / "out" / "mod.py"
    assert merged.stat().st_ino == (source / "pkg" / "mod.py").stat().st_ino
    assert not merged.is_symlink()
    assert (result.linked, result.copied) == (1, 0)


def test_copies_keep_mtime_and_do_not_share_inodes(tmp_path: Path) -> None:
    """copy2, not copy: shipped bytecode records its source's mtime and must stay valid."""
    source = write_tree(tmp_path / "tree", {"pkg/mod.py": b"x = 1\n"})
    merge_tree(tmp_path / "out", listed([("A", source / "pkg")]), link=False)
    merged, original = tmp_path / "out" / "mod.py", source / "pkg" / "mod.py"
    assert merged.stat().st_ino != original.stat().st_ino
    assert merged.stat().st_mtime_ns == original.stat().st_mtime_ns


def test_missing_sources_are_skipped(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "tree", {"pkg/mod.py": b""})
    result = merge_tree(
        tmp_path / "out", listed([("gone", tmp_path / "absent"), ("A", source / "pkg")])
    )
    assert result.owners == {"mod.py": "A"}
    assert result.conflicts == ()


def test_output_directories_are_writable_so_the_venv_can_be_deleted(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "tree", {"pkg/sub/mod.py": b""})
    merge_tree(tmp_path / "out", listed([("A", source / "pkg")]))
    assert mode(tmp_path / "out" / "sub") == 0o755  # not the source's 0o555


def test_symlink_inside_a_source_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "tree" / "pkg"
    source.mkdir(parents=True)
    (source / "real.py").write_text("")
    (source / "alias.py").symlink_to("real.py")
    with pytest.raises(MergeError, match="symlink"):
        merge_tree(tmp_path / "out", listed([("A", source)]))


def test_existing_content_is_overlaid_as_an_earlier_source(tmp_path: Path) -> None:
    into = tmp_path / "out"
    into.mkdir()
    (into / "mod.py").write_text("old")
    source = write_tree(tmp_path / "tree", {"pkg/mod.py": b"new"})
    result = merge_tree(into, listed([("A", source / "pkg")]))
    assert result.conflicts == (Conflict("mod.py", "distinct", EXISTING, "A"),)
    assert (into / "mod.py").read_text() == "new"


def test_conflict_message_names_both_sources() -> None:
    message = Conflict("jwt/__init__.py", "distinct", "PyJWT", "jwt").describe("/v/jwt")
    assert message == (
        "Package collision while merging /v/jwt: `jwt/__init__.py` is provided by both PyJWT "
        "and jwt (distinct)."
    )


# --------------------------------------------------------------------------- bytecode


@pytest.mark.parametrize(
    ("bytecode", "source"),
    [
        # Upstream's cache-source vectors (the `__pycache__` rows; legacy rows are sourceless).
        ("ns/__pycache__/test_one.cpython-311.pyc", "ns/test_one.py"),
        ("ns/__pycache__/test_one.cpython-311.opt-1.pyc", "ns/test_one.py"),
        ("pkg/__pycache__/test_api.v1.cpython-311.pyc", "pkg/test_api.v1.py"),
        ("pkg/__pycache__/test_api.v1.cpython-311.opt-1.pyc", "pkg/test_api.v1.py"),
        ("pkg/__pycache__/test_api.v1.cpython-311.opt-é.pyc", "pkg/test_api.v1.py"),
        ("ns/__pycache__/keep.cpython-311.pyc", "ns/keep.py"),
        ("ns/__pycache__/test_one.cpython-311.opt-!.pyc", "ns/test_one.py"),
        ("ns/__pycache__/test_one.cpython-311.opt-.pyc", None),
        ("ns/__pycache__/test_one..pyc", None),
        ("ns/__pycache__/test_one..opt-1.pyc", None),
        ("ns/__pycache__/.cpython-311.pyc", None),
        ("pkg/__pycache__/..pyc", None),
        ("mod.cpython-311.opt-2.pyc", None),  # not in __pycache__
        # Our own: top-level cache dir, sourceless legacy layout, non-bytecode.
        ("__pycache__/six.cpython-311.pyc", "six.py"),
        ("ns/test_legacy.pyc", None),
        ("pkg/.pyc", None),
        ("pkg/__pycache__/mod.cpython-311.txt", None),
        ("pkg/__pycache__/mod.pyc", None),
    ],
)
def test_cached_source_vectors(bytecode: str, source: str | None) -> None:
    assert cached_source(bytecode) == source


def test_bytecode_orphaned_by_overlay_is_removed(tmp_path: Path) -> None:
    cache = "pkg/__pycache__/"
    first = write_tree(
        tmp_path / "first",
        {
            "pkg/mod.py": b"v1",
            cache + "mod.cpython-311.pyc": b"pyc of mod v1",
            "pkg/api.v1.py": b"v1",
            cache + "api.v1.cpython-311.pyc": b"pyc of api v1",
            "pkg/opt.py": b"v1",
            cache + "opt.cpython-311.opt-2.pyc": b"pyc of opt v1",
            cache + "fresh.cpython-311.pyc": b"bytecode without a source in first",
            "pkg/keep.py": b"kept",
            cache + "keep.cpython-311.pyc": b"pyc of keep",
            "pkg/sourceless.pyc": b"legacy sourceless module",
        },
    )
    second = write_tree(
        tmp_path / "second",
        {
            "pkg/mod.py": b"v2",
            cache + "mod.cpython-311.pyc": b"pyc of mod v2",
            "pkg/api.v1.py": b"v2",
            "pkg/opt.py": b"v2",
            "pkg/fresh.py": b"written for the first time",
        },
    )
    result = merge_tree(tmp_path / "out", listed([("A", first / "pkg"), ("B", second / "pkg")]))
    out = tmp_path / "out"
    # Stale: compiled from bytes that are no longer there (overlaid, dotted, opt-2, first write).
    assert sorted(result.removed_bytecode) == [
        "__pycache__/api.v1.cpython-311.pyc",
        "__pycache__/fresh.cpython-311.pyc",
        "__pycache__/mod.cpython-311.pyc",
        "__pycache__/opt.cpython-311.opt-2.pyc",
    ]
    for name in ("api.v1.cpython-311.pyc", "opt.cpython-311.opt-2.pyc", "fresh.cpython-311.pyc"):
        assert not (out / "__pycache__" / name).exists()
    # Kept: an untouched source's cache, a sourceless module, and B's own cache of mod.
    assert (out / "__pycache__/keep.cpython-311.pyc").read_text() == "pyc of keep"
    assert (out / "sourceless.pyc").read_text() == "legacy sourceless module"
    assert (out / "__pycache__/mod.cpython-311.pyc").read_text() == "pyc of mod v2"
    assert result.owners["__pycache__/mod.cpython-311.pyc"] == "B"
    assert "__pycache__/api.v1.cpython-311.pyc" not in result.owners
    # Both wheels shipped the mod cache with different bytes: still reported (invariant 15).
    assert Conflict("__pycache__/mod.cpython-311.pyc", "distinct", "A", "B") in result.conflicts


def test_bytecode_survives_identical_source(tmp_path: Path) -> None:
    first = write_tree(
        tmp_path / "first",
        {"pkg/mod.py": b"same", "pkg/__pycache__/mod.cpython-311.pyc": b"pyc"},
    )
    second = write_tree(tmp_path / "second", {"pkg/mod.py": b"same"})
    result = merge_tree(tmp_path / "out", listed([("A", first / "pkg"), ("B", second / "pkg")]))
    assert result.removed_bytecode == ()
    assert result.owners == {"__pycache__/mod.cpython-311.pyc": "A", "mod.py": "B"}
    assert result.conflicts == ()


def test_later_wheel_bytecode_survives_earlier_source(tmp_path: Path) -> None:
    first = write_tree(tmp_path / "first", {"pkg/mod.py": b"m", "pkg/other.py": b"o"})
    second = write_tree(
        tmp_path / "second",
        {
            "pkg/__pycache__/mod.cpython-311.pyc": b"later mod",
            "pkg/__pycache__/other.cpython-311.opt-1.pyc": b"later other",
        },
    )
    result = merge_tree(tmp_path / "out", listed([("A", first / "pkg"), ("B", second / "pkg")]))
    assert result.removed_bytecode == ()
    assert listing(tmp_path / "out")["__pycache__/mod.cpython-311.pyc"] == "later mod"
    assert listing(tmp_path / "out")["__pycache__/other.cpython-311.opt-1.pyc"] == "later other"


def test_a_wheels_own_bytecode_survives_its_source(tmp_path: Path) -> None:
    """The sorted walk meets `__pycache__/` before `mod.py`'s siblings; order must not matter."""
    only = write_tree(
        tmp_path / "only",
        {"pkg/mod.py": b"m", "pkg/__pycache__/mod.cpython-311.pyc": b"own"},
    )
    result = merge_tree(tmp_path / "out", listed([("A", only / "pkg")]))
    assert result.removed_bytecode == ()
    assert (tmp_path / "out/__pycache__/mod.cpython-311.pyc").read_text() == "own"


# --------------------------------------------------------------------------- properties

_NAMES = st.sampled_from(["a.py", "b.py", "d/c.py", "d/e.py", "bin.sh"])
_SOURCE = st.dictionaries(
    _NAMES, st.tuples(st.sampled_from([b"x", b"y", b""]), st.sampled_from([0o644, 0o755]))
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sources=st.lists(_SOURCE, min_size=1, max_size=3))
def test_union_last_wins_and_conflicts_iff_contents_differ(
    tmp_path_factory: pytest.TempPathFactory, sources: list[dict[str, tuple[bytes, int]]]
) -> None:
    """Invariants 14 and 15 over random file sets (no file/directory clashes by construction)."""
    base = tmp_path_factory.mktemp("prop")
    roots = [write_tree(base / f"s{i}", spec) for i, spec in enumerate(sources)]
    labels = [f"W{i}" for i in range(len(roots))]
    result = merge_tree(base / "out", listed(zip(labels, roots, strict=True)))

    expected_owner: dict[str, int] = {}
    expected_conflicts: set[tuple[str, str, str, str]] = set()
    for index, spec in enumerate(sources):
        for rel, (content, file_mode) in spec.items():
            if rel in expected_owner:
                earlier_content, earlier_mode = sources[expected_owner[rel]][rel]
                previous = labels[expected_owner[rel]]
                if earlier_content != content:
                    expected_conflicts.add((rel, "distinct", previous, labels[index]))
                elif (earlier_mode & 0o111) != (file_mode & 0o111):
                    expected_conflicts.add((rel, "executable_changed", previous, labels[index]))
            expected_owner[rel] = index
    assert result.owners == {rel: labels[i] for rel, i in sorted(expected_owner.items())}
    assert {(c.rel, c.kind, c.previous, c.current) for c in result.conflicts} == expected_conflicts
    for rel, index in expected_owner.items():
        content, file_mode = sources[index][rel]
        assert (base / "out" / rel).read_bytes() == content
        assert bool(mode(base / "out" / rel) & 0o111) == bool(file_mode & 0o111)
    make_deletable(base)


# ------------------------------------------------ the policy (engine-contract.md §6.3)


@pytest.mark.parametrize("policy", ["error", "warning", "ignore"])
def test_merge_conflicts_meet_the_policy_once_the_venv_is_written(
    tmp_path: Path, policy: str
) -> None:
    # why: conflicts are known only after merging, so `harness.engine.policy.enforce_on_venv`
    # judges the written venv: error fails (the venv stays), warning reports every conflict and
    # the oracle's notes, ignore reports nothing (engine-contract.md §6.3). The materializer
    # applies no policy.
    from harness.engine.materialize import Venv
    from harness.engine.policy import enforce_on_venv
    from harness.errors import PolicyError

    conflict = Conflict("jwt/api.py", "distinct", "a", "b")
    venv = Venv(
        tmp_path,
        tmp_path / "bin/python",
        tmp_path / "site",
        "merge",
        merge_conflicts=(conflict,),
        notes=("a note",),
    )
    described = conflict.describe(venv.site_packages)
    if policy == "error":
        with pytest.raises(PolicyError, match=r"jwt/api\.py"):
            enforce_on_venv(venv, policy)
        clean = Venv(tmp_path, tmp_path / "bin/python", tmp_path / "site", "flat", notes=("n",))
        assert enforce_on_venv(clean, policy) == ["n"]
    else:
        expected = [described, "a note"] if policy == "warning" else []
        assert enforce_on_venv(venv, policy) == expected
