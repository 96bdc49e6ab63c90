"""Hostile and broken wheels (issue 7 part 1): each is refused with one WheelError naming the
wheel, the member and the rule broken, and leaves nothing behind but the unpack lock.

Every case is built by the synthetic builder with exactly one corrupt switch, so the refusal can
only come from the rule the case is about.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.errors import HarnessError, WheelError
from harness.supply.wheel import install_tree, read_facts
from harness.supply.wheelbuilder import make_wheel, record_hash, wheel_filename

CONTENT = "VALUE = 1\n"
FILES = {"pkg/__init__.py": CONTENT, "pkg/Mod.py": "A = 1\n"}
DIST_INFO = "demo-1.0.dist-info"


@dataclass(frozen=True)
class Case:
    id: str
    options: dict
    member: str  # the member the message must name ("the archive" for whole-file faults)
    fragments: tuple[str, ...]  # rule and expected/actual wording the message must hold
    files: dict = field(default_factory=lambda: dict(FILES))
    found_without_reading_bytes: bool = True  # read_facts (no extraction) sees it too


HOSTILE = [
    Case(
        "dotdot-member",
        {"extra_members": [("../evil.py", "x")]},
        "../evil.py",
        ("`..` segment", "escape the install tree"),
    ),
    Case(
        "nested-dotdot-member",
        {"extra_members": [("pkg/../../evil.py", "x")]},
        "pkg/../../evil.py",
        ("`..` segment",),
    ),
    Case(
        "absolute-member",
        {"extra_members": [("/tmp/evil.py", "x")]},
        "/tmp/evil.py",
        ("absolute", "outside the install tree"),
    ),
    Case("drive-member", {"extra_members": [("C:/evil.py", "x")]}, "C:/evil.py", ("absolute",)),
    Case(
        "backslash-member",
        {"extra_members": [("pkg\\evil.py", "x")]},
        "pkg\\evil.py",
        ("backslash",),
    ),
    Case(
        "empty-segment-member",
        {"extra_members": [("pkg//evil.py", "x")]},
        "pkg//evil.py",
        ("empty segment",),
    ),
    Case(
        "symlink-member",
        {"symlink_members": {"pkg/passwd": "/etc/passwd"}},
        "pkg/passwd",
        ("symlink", "no symlinks"),
    ),
    Case(
        "case-only-twin",
        {"extra_members": [("pkg/mod.py", "B = 2\n")]},
        "pkg/mod.py",  # sorted after `pkg/Mod.py`, so it is the second one seen
        ("differs only in case", "`pkg/Mod.py`"),
    ),
    Case(
        "duplicate-member",
        {"duplicate_members": {"pkg/__init__.py": "EVIL = 1\n"}},
        "pkg/__init__.py",
        ("appears twice", "each member appears once"),
    ),
    Case(
        "record-missing",
        {"record_missing": True},
        f"{DIST_INFO}/RECORD",
        ("RECORD is missing", f"found {DIST_INFO}"),
    ),
    Case(
        "record-hash-mismatch",
        {"record_hash_mismatch": {"pkg/__init__.py"}},
        "pkg/__init__.py",
        (
            "hash equals its RECORD hash",
            # expected (what RECORD says) and actual (what the bytes hash to)
            f"RECORD says {record_hash((CONTENT + 'tampered').encode())}",
            f"hash to {record_hash(CONTENT.encode())}",
        ),
        found_without_reading_bytes=False,
    ),
    Case(
        "record-size-mismatch",
        {"record_size_mismatch": {"pkg/__init__.py"}},
        "pkg/__init__.py",
        (
            "size equals its RECORD size",
            f"RECORD says {len(CONTENT) + 1} bytes, the archive holds {len(CONTENT)} bytes",
        ),
    ),
    Case(
        "record-row-for-absent-file",
        {"record_extra_rows": ["pkg/ghost.py"]},
        "pkg/ghost.py",
        ("every RECORD row names a file", "no such member"),
    ),
    Case(
        "member-not-in-record",
        {"unrecorded_members": [("pkg/sneaky.py", "x")]},
        "pkg/sneaky.py",
        ("every member is listed in RECORD",),
    ),
    Case(
        "record-unparseable",
        {"record_unparseable": True},
        f"{DIST_INFO}/RECORD",
        ("RECORD cannot be parsed", "expected 3 elements", "three fields per row"),
    ),
    Case(
        "record-not-utf8",
        {"record_unparseable": b"pkg/__init__.py,\xff\xfe,1\n"},
        f"{DIST_INFO}/RECORD",
        ("RECORD is not UTF-8",),
    ),
    Case(
        "not-a-zip",
        {"not_zip": True},
        "the archive",
        ("not a readable zip archive", "complete zip archive"),
    ),
    Case(
        "dist-info-names-another-distribution",
        {"dist_info_name": "other-1.0"},
        "other-1.0.dist-info",
        ("says distribution `demo`", "dist-info says `other`"),
    ),
    Case(
        "dist-info-names-another-version",
        {"dist_info_name": "demo-2.0"},
        "demo-2.0.dist-info",
        ("says version `1.0`", "dist-info says `2.0`"),
    ),
    Case(
        "wheel-version-2",
        {"wheel_version": "2.0"},
        f"{DIST_INFO}/WHEEL",
        ("Wheel-Version` 1.x", "found '2.0'"),
    ),
    Case(
        "wheel-file-missing",
        {"wheel_version": None},
        f"{DIST_INFO}/WHEEL",
        ("WHEEL file is missing",),
    ),
    Case(
        "unknown-data-category",
        {"data": {"bogus": {"x.txt": "x"}}},
        "demo-1.0.data/bogus/x.txt",
        ("not a known `.data` category", "purelib, platlib, headers, scripts, data"),
    ),
    Case(
        "two-members-one-destination",
        {"data": {"purelib": {"pkg/Mod.py": "B = 2\n"}}},
        "pkg/Mod.py",
        ("same path", "site-packages/pkg/Mod.py", "`demo-1.0.data/purelib/pkg/Mod.py`"),
    ),
    Case(
        "file-and-directory",
        {"extra_members": [("pkg/Mod.py/inner.py", "x")]},
        "pkg/Mod.py/inner.py",
        ("either a file or a directory", "site-packages/pkg/Mod.py"),
    ),
]


def _write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / "wheels" / wheel_filename("demo", "1.0")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_wheel("demo", "1.0", case.files, **case.options))
    return path


def _assert_names_everything(message: str, path: Path, case: Case) -> None:
    assert path.name in message, message
    if case.member == "the archive":
        assert "the archive" in message, message
    else:
        assert f"member `{case.member}`" in message, message
    assert "Rule broken:" in message or case.member == "the archive", message
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    assert "\n" not in message  # one paragraph


def _assert_only_locks_left(root: Path, sha: str) -> None:
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert left == ["locks", f"locks/{sha}.lock"]


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_install_tree_refuses_and_leaves_nothing(tmp_path, case):
    path = _write(tmp_path, case)
    before = path.read_bytes()
    sha = hashlib.sha256(before).hexdigest()
    root = tmp_path / "trees"
    with pytest.raises(WheelError) as caught:
        install_tree(path, sha, root)
    _assert_names_everything(str(caught.value), path, case)
    _assert_only_locks_left(root, sha)
    assert path.read_bytes() == before  # the wheel (a cached file) is untouched


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_read_facts_refuses_the_same_way(tmp_path, case):
    path = _write(tmp_path, case)
    if not case.found_without_reading_bytes:
        # Facts come from RECORD alone; the member bytes are hashed when the tree is built.
        assert read_facts(path, label="demo").top_levels
        return
    with pytest.raises(WheelError) as caught:
        read_facts(path, label="demo")
    _assert_names_everything(str(caught.value), path, case)


def test_a_zip_truncated_in_the_middle_is_refused(tmp_path):
    whole = make_wheel("demo", "1.0", FILES)
    case = Case("truncated", {"truncate": len(whole) // 2}, "the archive", ("truncated",))
    path = _write(tmp_path, case)
    assert path.stat().st_size == len(whole) // 2
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(WheelError) as caught:
        install_tree(path, sha, tmp_path / "trees")
    _assert_names_everything(str(caught.value), path, case)
    _assert_only_locks_left(tmp_path / "trees", sha)


def test_corrupt_member_bytes_behind_an_intact_directory_are_refused(tmp_path):
    # The central directory is fine, the compressed bytes of one member are not: only reading
    # the member finds it, half-way through extraction, and the half-built tree must vanish.
    files = {"pkg/__init__.py": "", "pkg/big.py": "x = 1\n" * 2000, "pkg/z.py": "z = 1\n"}
    data = bytearray(make_wheel("demo", "1.0", files))
    with zipfile.ZipFile(__import__("io").BytesIO(bytes(data))) as archive:
        info = archive.getinfo("pkg/big.py")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 2, start + 12):
        data[offset] ^= 0xFF
    path = tmp_path / wheel_filename("demo", "1.0")
    path.write_bytes(bytes(data))
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(WheelError) as caught:
        install_tree(path, sha, tmp_path / "trees")
    message = str(caught.value)
    assert path.name in message and "corrupt" in message, message
    _assert_only_locks_left(tmp_path / "trees", sha)


def test_an_invalid_wheel_file_name_is_refused(tmp_path):
    path = tmp_path / "demo.zip"
    path.write_bytes(make_wheel("demo", "1.0", FILES))
    with pytest.raises(WheelError) as caught:
        read_facts(path, label="demo")
    assert "demo.zip" in str(caught.value) and "not a valid wheel file name" in str(caught.value)


@pytest.mark.parametrize(
    "case",
    [c for c in HOSTILE if c.id in {"dotdot-member", "record-hash-mismatch", "not-a-zip"}],
    ids=lambda c: c.id,
)
def test_cli_facts_exits_2_naming_the_wheel(tmp_path, monkeypatch, capsys, case):
    from harness.cli import main

    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    path = _write(tmp_path, case)
    status = main(["facts", str(path)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("harness facts: error: ")
    assert path.name in err
    for fragment in case.fragments:
        assert fragment in err
    trees = tmp_path / "trees"
    assert not trees.exists() or all(
        p.name in {"locks"} or p.suffix == ".lock" for p in trees.rglob("*")
    )
    # the refused wheel never entered the cache: no file anywhere but locks, empty dirs and
    # the remembered answer of the interpreter (written when this process had not asked it yet)
    cache = tmp_path / "cache"
    leftovers = (
        [
            p
            for p in cache.rglob("*")
            if p.is_file() and p.suffix != ".lock" and p.parent != cache / "interpreters"
        ]
        if cache.exists()
        else []
    )
    assert leftovers == []


def test_every_refusal_is_a_harness_error_with_exit_status_2():
    assert issubclass(WheelError, HarnessError) and WheelError.exit_status == 2


def _with_record(data: bytes, rewrite) -> bytes:
    """The same wheel with RECORD's rows passed through `rewrite(row) -> row`."""
    import csv
    import io

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == f"{DIST_INFO}/RECORD":
                rows = [rewrite(row) for row in csv.reader(content.decode().splitlines())]
                text = io.StringIO()
                csv.writer(text, lineterminator="\n").writerows(rows)
                content = text.getvalue().encode()
            target.writestr(info, content)
    return out.getvalue()


def test_a_hex_encoded_digest_of_the_right_bytes_is_accepted(tmp_path):
    # gmsh 4.15.2 writes hex digests: same hash, other encoding; integrity is intact.
    def to_hex(row):
        if row[1]:
            content = FILES.get(row[0])
            if content is not None:
                row[1] = "sha256=" + hashlib.sha256(content.encode()).hexdigest()
        return row

    path = tmp_path / wheel_filename("demo", "1.0")
    path.write_bytes(_with_record(make_wheel("demo", "1.0", FILES), to_hex))
    tree = install_tree(path, "", tmp_path / "trees")
    assert (tree.site_packages / "pkg" / "__init__.py").read_text() == CONTENT


def test_a_hex_digest_of_other_bytes_is_still_refused(tmp_path):
    def wrong_hex(row):
        if row[0] == "pkg/__init__.py":
            row[1] = "sha256=" + hashlib.sha256(b"other").hexdigest()
        return row

    path = tmp_path / wheel_filename("demo", "1.0")
    path.write_bytes(_with_record(make_wheel("demo", "1.0", FILES), wrong_hex))
    with pytest.raises(WheelError, match=r"member `pkg/__init__\.py`.*RECORD hash"):
        install_tree(path, "", tmp_path / "trees")


@pytest.mark.parametrize(
    ("rewrite", "fragment"),
    [
        (lambda r: [r[0], "md5=abc", r[2]] if r[0] == "pkg/__init__.py" else r, "uses md5"),
        (lambda r: [r[0], "", r[2]] if r[0] == "pkg/__init__.py" else r, "empty hash"),
        (
            lambda r: [r[0], "nosuchalgo=abc", r[2]] if r[0] == "pkg/__init__.py" else r,
            "invalid hash algorithm",
        ),
        (lambda r: [r[0], r[1], "ten"] if r[0] == "pkg/__init__.py" else r, "non-integer"),
    ],
    ids=["weak-hash", "no-hash", "unknown-algorithm", "bad-size"],
)
def test_bad_record_fields_are_refused(tmp_path, rewrite, fragment):
    path = tmp_path / wheel_filename("demo", "1.0")
    path.write_bytes(_with_record(make_wheel("demo", "1.0", FILES), rewrite))
    with pytest.raises(WheelError) as caught:
        read_facts(path, label="demo")
    message = str(caught.value)
    assert path.name in message and "pkg/__init__.py" in message and fragment in message, message
