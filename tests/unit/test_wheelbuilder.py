"""The synthetic wheel builder: well-formed by default, each corrupt switch breaks one rule.

pypa/installer's own RECORD validator is used as an independent oracle: a synthetic wheel it
accepts is a wheel an installer accepts.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import stat
import zipfile

import pytest
from installer.sources import WheelFile as InstallerWheelFile

from harness.supply.wheelbuilder import make_wheel, record_hash, wheel_filename, write_wheel

FILES = {"demo/__init__.py": "VALUE = 1\n", "demo/core.py": b"def f():\n    return 2\n"}


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _record_rows(zf: zipfile.ZipFile, dist_info: str = "demo-1.0.dist-info") -> list[list[str]]:
    return list(csv.reader(zf.read(f"{dist_info}/RECORD").decode().splitlines()))


def test_bytes_are_deterministic_so_the_sha256_is_stable():
    # Fixed timestamps, sorted members, fixed compression: two builds are byte-identical.
    first = make_wheel("demo", "1.0", FILES, entry_points={"console_scripts": {"d": "demo:f"}})
    second = make_wheel(
        "demo",
        "1.0",
        dict(reversed(FILES.items())),
        entry_points={"console_scripts": {"d": "demo:f"}},
    )
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    # ...and a one-byte change in content changes them.
    assert make_wheel("demo", "1.0", {**FILES, "demo/core.py": "x"}) != first


def test_record_lists_every_member_with_urlsafe_sha256_and_size_and_its_own_row_empty():
    zf = _zip(make_wheel("demo", "1.0", FILES))
    rows = {row[0]: row for row in _record_rows(zf)}
    names = set(zf.namelist())
    assert set(rows) == names  # every member has a row, every row a member
    for name in names - {"demo-1.0.dist-info/RECORD"}:
        content = zf.read(name)
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        assert rows[name] == [name, f"sha256={digest}", str(len(content))]
    assert rows["demo-1.0.dist-info/RECORD"] == ["demo-1.0.dist-info/RECORD", "", ""]
    # RECORD is the last member, like every wheel builder writes it.
    assert zf.namelist()[-1] == "demo-1.0.dist-info/RECORD"


def test_installer_accepts_the_well_formed_wheel(tmp_path):
    # Independent oracle: pypa/installer validates names, hashes and sizes against RECORD.
    path = write_wheel(tmp_path, "demo", "1.0", FILES, data={"scripts": {"run": "#!python\n"}})
    with InstallerWheelFile.open(path) as source:
        source.validate_record()
        assert source.dist_info_dir == "demo-1.0.dist-info"


def test_installer_rejects_the_hash_mismatch_switch(tmp_path):
    path = write_wheel(tmp_path, "demo", "1.0", FILES, record_hash_mismatch={"demo/core.py"})
    with InstallerWheelFile.open(path) as source, pytest.raises(ValueError, match=r"demo/core\.py"):
        source.validate_record()


def test_file_name_and_dist_info_are_escaped():
    assert wheel_filename("zope.interface", "5.4.0") == "zope_interface-5.4.0-py3-none-any.whl"
    assert wheel_filename("Foo-Bar", "1.0", "cp311-cp311-linux_x86_64") == (
        "Foo_Bar-1.0-cp311-cp311-linux_x86_64.whl"
    )
    zf = _zip(make_wheel("zope.interface", "5.4.0", {"zope/interface/__init__.py": ""}))
    assert "zope_interface-5.4.0.dist-info/RECORD" in zf.namelist()


def test_write_wheel_names_the_file_after_name_version_and_tag(tmp_path):
    path = write_wheel(tmp_path, "my-pkg", "2.0", FILES, tag="py2.py3-none-any")
    assert path.name == "my_pkg-2.0-py2.py3-none-any.whl"
    wheel = _zip(path.read_bytes()).read("my_pkg-2.0.dist-info/WHEEL").decode()
    # A compressed tag set expands to one Tag line per tag.
    assert "Tag: py2-none-any\nTag: py3-none-any\n" in wheel
    assert wheel.startswith("Wheel-Version: 1.0\n")


def test_dist_info_name_override_also_moves_the_data_directory():
    zf = _zip(
        make_wheel(
            "InquirerPy",
            "0.3.4",
            {"InquirerPy/__init__.py": ""},
            dist_info_name="inquirerpy-0.3.4",
            data={"data": {"share/x.json": "{}"}},
        )
    )
    assert "inquirerpy-0.3.4.dist-info/RECORD" in zf.namelist()
    assert "inquirerpy-0.3.4.data/data/share/x.json" in zf.namelist()


def test_executable_members_carry_mode_0755_and_others_0644():
    zf = _zip(
        make_wheel(
            "demo", "1.0", {**FILES, "demo/tool.sh": "#!/bin/sh\n"}, executable={"demo/tool.sh"}
        )
    )
    modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert modes["demo/tool.sh"] == stat.S_IFREG | 0o755
    assert modes["demo/core.py"] == stat.S_IFREG | 0o644


def test_entry_points_and_metadata_extra_are_written():
    zf = _zip(
        make_wheel(
            "demo",
            "1.0",
            FILES,
            entry_points={"console_scripts": {"b": "demo:b", "a": "demo.core:f"}},
            metadata_extra=["Requires-Dist: six"],
        )
    )
    text = zf.read("demo-1.0.dist-info/entry_points.txt").decode()
    assert text == "[console_scripts]\na = demo.core:f\nb = demo:b\n"
    assert "Requires-Dist: six" in zf.read("demo-1.0.dist-info/METADATA").decode()


def test_corrupt_switches_each_break_exactly_their_part():
    base = make_wheel("demo", "1.0", FILES)
    content = FILES["demo/__init__.py"].encode()

    rows = {
        r[0]: r
        for r in _record_rows(
            _zip(make_wheel("demo", "1.0", FILES, record_hash_mismatch={"demo/__init__.py"}))
        )
    }
    assert rows["demo/__init__.py"][1] != record_hash(content)
    assert rows["demo/__init__.py"][2] == str(len(content))  # size still right

    rows = {
        r[0]: r
        for r in _record_rows(
            _zip(make_wheel("demo", "1.0", FILES, record_size_mismatch={"demo/__init__.py"}))
        )
    }
    assert rows["demo/__init__.py"][1:] == [record_hash(content), str(len(content) + 1)]

    assert (
        "demo-1.0.dist-info/RECORD"
        not in _zip(make_wheel("demo", "1.0", FILES, record_missing=True)).namelist()
    )

    rows = {
        r[0]
        for r in _record_rows(
            _zip(make_wheel("demo", "1.0", FILES, record_extra_rows=["ghost.py"]))
        )
    }
    assert "ghost.py" in rows

    zf = _zip(make_wheel("demo", "1.0", FILES, duplicate_members={"demo/core.py": "evil"}))
    assert zf.namelist().count("demo/core.py") == 2

    zf = _zip(make_wheel("demo", "1.0", FILES, extra_members=[("../evil.py", "x")]))
    assert "../evil.py" in zf.namelist()
    assert "../evil.py" in {r[0] for r in _record_rows(zf)}  # recorded: only the name is hostile

    zf = _zip(make_wheel("demo", "1.0", FILES, unrecorded_members=[("demo/sneaky.py", "x")]))
    assert "demo/sneaky.py" in zf.namelist()
    assert "demo/sneaky.py" not in {r[0] for r in _record_rows(zf)}

    zf = _zip(make_wheel("demo", "1.0", FILES, symlink_members={"demo/link": "/etc/passwd"}))
    info = zf.getinfo("demo/link")
    assert stat.S_ISLNK(info.external_attr >> 16)
    assert zf.read(info) == b"/etc/passwd"

    zf = _zip(make_wheel("demo", "1.0", FILES, directory_entries=["pyarrow."]))
    assert zf.getinfo("pyarrow./").is_dir()

    zf = _zip(make_wheel("demo", "1.0", FILES, wheel_version="2.0"))
    assert zf.read("demo-1.0.dist-info/WHEEL").decode().startswith("Wheel-Version: 2.0\n")
    assert (
        "demo-1.0.dist-info/WHEEL"
        not in _zip(make_wheel("demo", "1.0", FILES, wheel_version=None)).namelist()
    )

    unparseable = _zip(make_wheel("demo", "1.0", FILES, record_unparseable=True))
    assert any(len(r) != 3 for r in _record_rows(unparseable))

    truncated = make_wheel("demo", "1.0", FILES, truncate=len(base) // 2)
    assert truncated == base[: len(base) // 2]
    assert not zipfile.is_zipfile(io.BytesIO(truncated))
    assert not zipfile.is_zipfile(io.BytesIO(make_wheel("demo", "1.0", FILES, not_zip=True)))


def test_a_synthetic_wheels_bytes_do_not_depend_on_where_its_builder_lives() -> None:
    # why: a case's synthetic wheel is identified by its sha256 like a download; bytes that
    # name the builder's module change whenever that module moves (the stage move did, through
    # the WHEEL file's Generator line), giving new trees and changing which of two
    # same-version builds a resolver such as pex keeps
    import io
    import zipfile

    from harness.supply.wheelbuilder import make_wheel

    def build() -> bytes:
        return make_wheel("six", "1.17.0", {"six.py": "__version__ = '1.17.0'\n"})

    data = build()
    assert data == build()  # the same call, the same bytes
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = b"".join(archive.read(name) for name in archive.namelist())
    assert make_wheel.__module__.encode() not in members
