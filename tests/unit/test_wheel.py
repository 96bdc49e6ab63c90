"""Install trees and archive facts of synthetic wheels (issue 2 parts 7-8).

Each test builds its wheel in memory, so the expected tree follows from the inputs: a member
lands where PEP 427 routes it, with the bytes it was given.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import zipfile
from pathlib import Path

import pytest

import harness.supply.trees as trees_module
from harness.errors import IntegrityError, WheelError
from harness.facts import derive_facts
from harness.model import ConsoleScript
from harness.supply.wheel import install_tree, is_complete_tree, read_facts, wheel_dist_info
from harness.supply.wheelbuilder import write_wheel

FILES = {
    "demo/__init__.py": "VALUE = 1\n",
    "demo/_speed.abi3.so": b"\x7fELF fake",
    "demo_ext.pth": "import sys\n",
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def full_wheel(tmp_path: Path) -> Path:
    return write_wheel(
        tmp_path / "wheels",
        "demo",
        "1.0",
        FILES,
        entry_points={"console_scripts": {"demo": "demo.cli:main"}, "gui_scripts": {"g": "demo:g"}},
        data={
            "purelib": {"demo/pure.py": "P = 1\n"},
            "platlib": {"demo/plat.py": "Q = 1\n"},
            "scripts": {"demo-run": "#!python\nprint('hi')\n"},
            "headers": {"demo.h": "int x;\n"},
            "data": {"share/demo/config.json": "{}\n"},
        },
        executable={"demo-1.0.data/scripts/demo-run"},
    )


def test_round_trip_wheel_to_tree_to_facts(full_wheel, tmp_path):
    sha = _sha(full_wheel)
    tree = install_tree(full_wheel, sha, tmp_path / "trees")
    assert tree.root == (tmp_path / "trees" / sha).absolute()
    assert (tree.site_packages / "demo" / "__init__.py").read_text() == "VALUE = 1\n"
    assert (tree.site_packages / "demo" / "_speed.abi3.so").read_bytes() == b"\x7fELF fake"

    facts = read_facts(full_wheel, label="demo-1", sha256=sha)
    assert facts.label == "demo-1" and facts.sha256 == sha
    assert facts.filename == "demo-1.0-py3-none-any.whl"
    assert (facts.name, facts.version, facts.dist_info) == ("demo", "1.0", "demo-1.0.dist-info")
    assert facts.top_levels == ("demo", "demo-1.0.dist-info", "demo_ext.pth")
    assert facts.regular_top_levels == ("demo", "demo_ext.pth")
    assert facts.native_roots == ("demo",)
    assert facts.root_pth_files == ("demo_ext.pth",)
    # gui_scripts are not console scripts.
    assert facts.console_scripts == (ConsoleScript("demo", "demo.cli", "main"),)
    assert facts.data_files == ("share/demo/config.json",)
    # .data/purelib and platlib are site-packages paths; scripts and headers are not.
    assert "demo/pure.py" in facts.site_paths and "demo/plat.py" in facts.site_paths
    assert not any("demo-run" in p or p.endswith(".h") for p in facts.site_paths)

    # The tree holds exactly the site-packages paths the facts list (RECORD == tree).
    on_disk = sorted(
        str(p.relative_to(tree.site_packages)) for p in tree.site_packages.rglob("*") if p.is_file()
    )
    assert on_disk == list(facts.site_paths)


def test_data_members_are_routed_by_category(full_wheel, tmp_path):
    tree = install_tree(full_wheel, _sha(full_wheel), tmp_path / "trees")
    assert (tree.site_packages / "demo" / "pure.py").read_text() == "P = 1\n"
    assert (tree.site_packages / "demo" / "plat.py").read_text() == "Q = 1\n"
    # Scripts keep their bytes: the tree is interpreter-independent, no shebang rewrite.
    assert (tree.scripts / "demo-run").read_text() == "#!python\nprint('hi')\n"
    assert (tree.headers / "demo.h").read_text() == "int x;\n"
    assert (tree.data / "share" / "demo" / "config.json").read_text() == "{}\n"
    # No `.data` directory survives in site-packages.
    assert not (tree.site_packages / "demo-1.0.data").exists()
    assert _listing(tree.root) == sorted(
        [
            ".complete",
            "data",
            "data/share",
            "data/share/demo",
            "data/share/demo/config.json",
            "headers",
            "headers/demo.h",
            "scripts",
            "scripts/demo-run",
            "site-packages",
            "site-packages/demo",
            "site-packages/demo/__init__.py",
            "site-packages/demo/_speed.abi3.so",
            "site-packages/demo/plat.py",
            "site-packages/demo/pure.py",
            "site-packages/demo-1.0.dist-info",
            "site-packages/demo-1.0.dist-info/METADATA",
            "site-packages/demo-1.0.dist-info/RECORD",
            "site-packages/demo-1.0.dist-info/WHEEL",
            "site-packages/demo-1.0.dist-info/entry_points.txt",
            "site-packages/demo_ext.pth",
        ]
    )


def test_tree_is_read_only_and_executable_bits_are_kept(full_wheel, tmp_path):
    tree = install_tree(full_wheel, _sha(full_wheel), tmp_path / "trees")
    mode = lambda p: stat.S_IMODE(os.lstat(p).st_mode)  # noqa: E731
    assert mode(tree.scripts / "demo-run") == 0o555  # zip mode 0o755 → executable, read-only
    assert mode(tree.site_packages / "demo" / "__init__.py") == 0o444
    for directory in [tree.root, *(p for p in tree.root.rglob("*") if p.is_dir())]:
        assert mode(directory) == 0o555, directory
    for path in tree.root.rglob("*"):
        assert mode(path) & 0o222 == 0, path
    if os.geteuid() != 0:  # root ignores permission bits; the mode check above still holds
        with pytest.raises(PermissionError):
            (tree.site_packages / "demo" / "__init__.py").write_text("changed")


def test_a_complete_tree_is_reused_without_extracting_again(full_wheel, tmp_path, monkeypatch):
    sha = _sha(full_wheel)
    first = install_tree(full_wheel, sha, tmp_path / "trees")
    inode = os.stat(first.site_packages / "demo" / "__init__.py").st_ino

    def refuse(*_args, **_kwargs):
        raise AssertionError("a complete tree must not be extracted again")

    monkeypatch.setattr(trees_module, "extract", refuse)
    second = install_tree(full_wheel, sha, tmp_path / "trees")
    assert second == first
    assert os.stat(second.site_packages / "demo" / "__init__.py").st_ino == inode


def test_sha256_defaults_to_the_file_hash_and_trees_dir_to_config(
    full_wheel, tmp_path, monkeypatch
):
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "configured"))
    tree = install_tree(full_wheel)
    assert tree.root == (tmp_path / "configured" / _sha(full_wheel)).resolve()
    assert is_complete_tree(tree.root, _sha(full_wheel))


def test_an_incomplete_leftover_and_a_killed_build_are_removed_and_rebuilt(full_wheel, tmp_path):
    sha = _sha(full_wheel)
    root = tmp_path / "trees"
    # A tree at the final place without its marker (a build from a killed or older harness).
    (root / sha / "site-packages" / "junk").mkdir(parents=True)
    os.chmod(root / sha / "site-packages", 0o555)  # read-only leftovers must not block removal
    # A temporary build directory left by a SIGKILLed unpack of the same wheel.
    (root / "tmp" / f"{sha}-dead").mkdir(parents=True)
    (root / "tmp" / f"{sha}-dead" / "half.py").write_text("")

    tree = install_tree(full_wheel, sha, root)
    assert not (tree.site_packages / "junk").exists()
    assert (tree.site_packages / "demo" / "__init__.py").is_file()
    assert is_complete_tree(tree.root, sha)
    assert sorted(p.name for p in root.iterdir()) == sorted(["locks", sha])  # tmp/ cleaned up


def test_a_sha256_the_file_does_not_have_is_refused_and_leaves_nothing(full_wheel, tmp_path):
    wrong = "0" * 64
    with pytest.raises(IntegrityError) as caught:
        install_tree(full_wheel, wrong, tmp_path / "trees")
    message = str(caught.value)
    assert wrong in message and _sha(full_wheel) in message and full_wheel.name in message
    assert _listing(tmp_path / "trees") == ["locks", f"locks/{wrong}.lock"]
    with pytest.raises(WheelError, match="64 hex digits"):
        install_tree(full_wheel, "../../etc", tmp_path / "trees")


def test_dist_info_is_read_from_the_archive_not_the_file_name(tmp_path):
    # InquirerPy 0.3.4 ships `inquirerpy-0.3.4.dist-info`: the `.data` stem follows the archive.
    path = write_wheel(
        tmp_path,
        "InquirerPy",
        "0.3.4",
        {"InquirerPy/__init__.py": ""},
        dist_info_name="inquirerpy-0.3.4",
        data={"data": {"share/inquirerpy/theme.json": "{}"}},
    )
    assert path.name == "InquirerPy-0.3.4-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        assert wheel_dist_info(archive) == "inquirerpy-0.3.4.dist-info"
    facts = read_facts(path, label="inq")
    assert facts.dist_info == "inquirerpy-0.3.4.dist-info"
    assert facts.name == "inquirerpy"
    assert facts.data_files == ("share/inquirerpy/theme.json",)
    tree = install_tree(path, _sha(path), tmp_path / "trees")
    assert (tree.data / "share" / "inquirerpy" / "theme.json").is_file()
    assert not (tree.site_packages / "inquirerpy-0.3.4.data").exists()


@pytest.mark.parametrize(
    ("name", "dist_info_name"),
    [
        ("zope.interface", "zope.interface-5.4.0"),  # dots kept in the dist-info
        ("Foo_Bar", "foo-bar-5.4.0"),  # hyphenated, lowercase: same canonical name
        ("foo", "FOO-5.4.0"),
    ],
)
def test_name_normalisation_differences_are_accepted(tmp_path, name, dist_info_name):
    path = write_wheel(tmp_path, name, "5.4.0", {"x.py": ""}, dist_info_name=dist_info_name)
    assert read_facts(path, label="x").dist_info == f"{dist_info_name}.dist-info"
    assert install_tree(path, _sha(path), tmp_path / "trees").site_packages.is_dir()


def test_directory_entries_and_record_signatures_are_allowed(tmp_path):
    # pyarrow 14.0.1 ships a zip directory entry `pyarrow./`; RECORD.jws is never in RECORD.
    path = write_wheel(
        tmp_path,
        "pyarrow",
        "14.0.1",
        {"pyarrow/__init__.py": ""},
        directory_entries=["pyarrow.", "pyarrow"],
        unrecorded_members=[("pyarrow-14.0.1.dist-info/RECORD.jws", "{}")],
    )
    tree = install_tree(path, _sha(path), tmp_path / "trees")
    assert not (tree.site_packages / "pyarrow.").exists()
    assert (tree.site_packages / "pyarrow-14.0.1.dist-info" / "RECORD.jws").is_file()
    assert read_facts(path, label="pa").regular_top_levels == ("pyarrow",)


def test_read_facts_equals_derive_facts_over_the_record_rows(full_wheel):
    # read_facts is a thin archive reader: the facts are harness.facts' over RECORD's rows.
    with zipfile.ZipFile(full_wheel) as archive:
        record = archive.read("demo-1.0.dist-info/RECORD").decode()
        entry_points = archive.read("demo-1.0.dist-info/entry_points.txt").decode()
    expected = derive_facts(
        label="L",
        dist_info="demo-1.0.dist-info",
        record=[line.split(",")[0] for line in record.splitlines()],
        entry_points_text=entry_points,
        filename=full_wheel.name,
    )
    assert read_facts(full_wheel, label="L") == expected


def _unpack_worker(wheel: str, sha: str, root: str, barrier, results) -> None:
    barrier.wait(timeout=60)  # start together so the unpacks really race
    try:
        tree = install_tree(Path(wheel), sha, Path(root))
        results.put(("ok", str(tree.root)))
    except BaseException as exc:
        results.put(("error", repr(exc)))


def test_four_processes_unpacking_the_same_wheel_make_one_tree(tmp_path):
    files = {f"big/mod{i:03d}.py": os.urandom(4096).hex() for i in range(150)}
    path = write_wheel(tmp_path / "wheels", "big", "1.0", {"big/__init__.py": "", **files})
    sha = _sha(path)
    root = tmp_path / "trees"
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=_unpack_worker, args=(str(path), sha, str(root), barrier, results))
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert outcomes == [("ok", str((root / sha).absolute()))] * 4
    assert sorted(p.name for p in root.iterdir()) == sorted(["locks", sha])  # one tree, no tmp left
    tree_files = sorted(p.relative_to(root / sha) for p in (root / sha).rglob("*.py"))
    assert len(tree_files) == 151
    assert (root / sha / "site-packages" / "big" / "mod007.py").read_text() == files[
        "big/mod007.py"
    ]
