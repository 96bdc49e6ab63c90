"""A warm `harness assemble` reads what earlier runs remembered instead of deriving it again,
and what it reads is what it would have derived (issue 11, item 4).

Remembered per content key, under the cache: a wheel's checked listing (per sha256, written only
for bytes that hash to it), the stamp of a cached wheel file that hashed right, the tags of an
interpreter (keyed by everything they depend on), a case file's TOML document (per text). Each is held equal to the fresh answer, shown to be used,
and shown to be ignored when its key no longer fits. Last, a warm CLI run in a new process
imports none of the modules it no longer needs. Timing is `harness bench`'s job, not a test's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import harness.supply.wheel as wheel_module
from harness import cases
from harness.cases import documents as casetoml
from harness.config import PROJECT_ROOT
from harness.errors import CaseFileError
from harness.supply import interpreters
from harness.supply.wheel import install_tree, read_facts, tree_files
from harness.supply.wheelbuilder import write_wheel

FILES = {
    "demo/__init__.py": "VALUE = 1\n",
    "demo/sub/mod.py": "X = 2\n",
    "demo_top.py": "Y = 3\n",
}


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def demo_wheel(tmp_path: Path) -> Path:
    return write_wheel(
        tmp_path / "wheels",
        "demo",
        "1.0",
        FILES,
        entry_points={"console_scripts": {"demo": "demo:main"}},
        data={"data": {"share/demo.txt": "d\n"}, "purelib": {"demo/pure.py": "P = 1\n"}},
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refuse(*_args, **_kwargs):
    raise AssertionError("a remembered answer must be used instead")


# --------------------------------------------------------------------------- wheel listings


def test_a_remembered_listing_gives_the_same_facts_without_opening_the_wheel(
    demo_wheel, private_cache, monkeypatch
):
    sha = _sha(demo_wheel)
    fresh = read_facts(demo_wheel, label="demo", sha256=sha)
    assert read_facts(demo_wheel, label="demo", sha256=sha, remember=True) == fresh
    assert (private_cache / "listings" / f"{sha}.json").is_file()

    monkeypatch.setattr(wheel_module, "_open_archive", _refuse)
    again = read_facts(demo_wheel, label="other", sha256=sha, remember=True)
    assert again == dataclasses.replace(fresh, label="other")


def test_tree_files_from_the_remembered_listing_equal_the_trees_record(
    demo_wheel, private_cache, tmp_path, monkeypatch
):
    sha = _sha(demo_wheel)
    tree = install_tree(demo_wheel, sha, tmp_path / "trees")
    parsed = tree_files(tree.root, remember=False)
    read_facts(demo_wheel, label="demo", sha256=sha, remember=True)
    monkeypatch.setattr(wheel_module, "_parse_record_text", _refuse)
    monkeypatch.setattr(wheel_module, "_tree_files_memo", {})
    assert tree_files(tree.root) == parsed
    assert any(f.subdir == "data" for f in parsed) and any(f.hash_name for f in parsed)


def test_no_listing_is_remembered_for_bytes_of_another_hash(demo_wheel, private_cache):
    wrong = "0" * 64
    read_facts(demo_wheel, label="demo", sha256=wrong, remember=True)
    assert not (private_cache / "listings" / f"{wrong}.json").exists()


def test_a_listing_for_another_file_name_or_size_is_not_used(
    demo_wheel, private_cache, tmp_path, monkeypatch
):
    sha = _sha(demo_wheel)
    read_facts(demo_wheel, label="demo", sha256=sha, remember=True)
    memo = private_cache / "listings" / f"{sha}.json"
    doc = json.loads(memo.read_text())
    memo.write_text(json.dumps({**doc, "size": doc["size"] + 1}))
    opened = []
    original = wheel_module._open_archive

    def counting(*args, **kwargs):
        opened.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(wheel_module, "_open_archive", counting)
    read_facts(demo_wheel, label="demo", sha256=sha, remember=True)
    assert len(opened) == 1  # the size no longer fits: the archive is read (and remembered)
    renamed = tmp_path / "renamed" / "demo-1.0-py2.py3-none-any.whl"
    renamed.parent.mkdir()
    renamed.write_bytes(demo_wheel.read_bytes())
    facts = read_facts(renamed, label="demo", sha256=sha, remember=True)
    assert len(opened) == 2 and facts.filename == renamed.name


def test_a_wheel_that_fails_its_checks_is_never_remembered(tmp_path, private_cache):
    path = write_wheel(tmp_path / "w", "demo", "1.0", FILES)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("demo/unlisted.py", "")  # a member RECORD does not list
    sha = _sha(path)
    for _ in range(2):
        with pytest.raises(Exception, match="RECORD has no row"):
            read_facts(path, label="demo", sha256=sha, remember=True)
    assert not (private_cache / "listings").exists()


def test_scheme_names_are_installers():
    from installer.utils import SCHEME_NAMES

    from harness.supply import archive

    assert tuple(SCHEME_NAMES) == archive.SCHEME_NAMES


# --------------------------------------------------------------------------- cached wheel files


def _cached(tmp_path: Path, demo_wheel: Path):
    from harness.supply import cache as cache_module

    cache = cache_module.WheelCache(tmp_path / "cache")
    return cache_module, cache, cache.add_local(demo_wheel)


def test_a_cached_file_hashed_by_an_earlier_process_is_not_hashed_again(
    tmp_path, demo_wheel, monkeypatch
):
    cache_module, cache, wheel_file = _cached(tmp_path, demo_wheel)
    monkeypatch.setattr(cache_module, "_verified", {})  # a new process
    monkeypatch.setattr(cache_module, "file_sha256", _refuse)
    assert cache.get(wheel_file) == cache.path_for(wheel_file)


def test_a_cached_file_written_since_it_was_hashed_is_hashed_and_refused(
    tmp_path, demo_wheel, monkeypatch
):
    cache_module, cache, wheel_file = _cached(tmp_path, demo_wheel)
    path = cache.path_for(wheel_file)
    before = path.stat()
    os.chmod(path, 0o644)
    path.write_bytes(b"X" * before.st_size)  # same size, other bytes
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # the mtime put back
    monkeypatch.setattr(cache_module, "_verified", {})  # a new process
    assert cache.get(wheel_file) is None and not path.exists()  # the ctime moved: re-hashed


# --------------------------------------------------------------------------- interpreter tags


def test_an_interpreters_tags_are_remembered_with_what_they_depend_on(private_cache, monkeypatch):
    if interpreters._tags_key({"version": [3, 11, 0], "soabi": "cpython-311-x"}) is None:
        pytest.skip("tags are remembered on glibc Linux only")
    target = os.path.realpath(sys.executable)
    monkeypatch.setattr(interpreters, "_query_cache", {})
    first = interpreters.query(target)
    memo = next((private_cache / "interpreters").glob("*.json"))
    doc = json.loads(memo.read_text())
    assert doc["tags"] == list(first.tags) and doc["tags_key"] == interpreters._tags_key(
        doc["info"]
    )
    assert first.tags == interpreters.compute_tags(first.version, interpreters.abi_tag(doc["info"]))

    monkeypatch.setattr(interpreters, "_query_cache", {})
    monkeypatch.setattr(interpreters, "compute_tags", _refuse)
    assert interpreters.query(target) == first  # the remembered tags

    monkeypatch.setattr(interpreters, "_query_cache", {})
    doc["tags_key"][1] = "0.0-another-packaging"
    memo.write_text(json.dumps(doc))
    calls = []

    def counting(version, abi, platforms=None):
        calls.append((tuple(version), abi))
        return first.tags

    monkeypatch.setattr(interpreters, "compute_tags", counting)
    assert interpreters.query(target) == first
    assert len(calls) == 1  # the key no longer fits: computed again, and remembered again
    assert json.loads(memo.read_text())["tags_key"] == interpreters._tags_key(doc["info"])


def test_the_hosts_version_resolves_to_the_host_without_asking_uv(monkeypatch):
    host = os.path.realpath(sys.executable)
    if not any(os.path.realpath(p) == host for p in interpreters._pyenv_candidates()) and not any(
        os.path.realpath(p) == host for p in interpreters._path_candidates()
    ):
        pytest.skip("the host interpreter is neither on PATH nor under pyenv")
    spec = "{}.{}".format(*sys.version_info[:2])
    monkeypatch.setattr(interpreters, "_discovered", None)
    monkeypatch.setattr(interpreters, "_uv_candidates", _refuse)
    quick = interpreters.resolve(spec)
    monkeypatch.undo()
    monkeypatch.setattr(interpreters, "_discovered", None)
    fits = [i for i in interpreters.discover() if i.version[:2] == sys.version_info[:2]]
    expected = min(fits, key=lambda i: (i.executable != host, tuple(-v for v in i.version)))
    assert quick == expected and quick.executable == host


def test_another_version_still_asks_every_source(monkeypatch):
    other = f"3.{sys.version_info[1] + 50}"  # no such interpreter: discovery runs
    asked = []
    monkeypatch.setattr(interpreters, "_discovered", None)
    monkeypatch.setattr(interpreters, "_uv_candidates", lambda: asked.append(1) or [])
    with pytest.raises(interpreters.InterpreterError, match=f"no CPython {other} found"):
        interpreters.resolve(other)
    assert asked == [1]


# --------------------------------------------------------------------------- case documents


CASE = """\
description = "two wheels"
[[wheels]]
name = "demo"
version = "1.0"
files = [{ filename = "demo-1.0-py3-none-any.whl", sha256 = "%s", size = 10 }]
""" % ("a" * 64)


def test_a_case_document_is_remembered_and_read_back_equal(tmp_path, private_cache, monkeypatch):
    case_dir = tmp_path / "cases" / "demo"
    case_dir.mkdir(parents=True)
    (case_dir / "case.toml").write_text(CASE)
    first = cases.load_case(case_dir)
    assert len(list((private_cache / "case-documents").glob("*.json"))) == 1

    monkeypatch.setitem(sys.modules, "tomllib", None)  # importing it now fails
    monkeypatch.setitem(sys.modules, "tomli", None)
    again = cases.load_case(case_dir)
    assert again == first  # every field, expectations and pins alike


def test_a_document_json_cannot_hold_is_not_remembered(tmp_path, private_cache):
    # no case key holds a date (the case parser refuses this one); the document is read first
    document = casetoml.toml_document("when = 2026-01-02\n" + CASE, tmp_path / "case.toml")
    assert document["when"].year == 2026
    assert not list((private_cache / "case-documents").glob("*.json"))


def test_a_toml_error_is_reported_as_before(tmp_path, private_cache):
    case_dir = tmp_path / "cases" / "broken"
    case_dir.mkdir(parents=True)
    (case_dir / "case.toml").write_text("description = \n")
    for _ in range(2):
        with pytest.raises(CaseFileError, match="TOML syntax error"):
            cases.load_case(case_dir)


def test_is_case_name_is_membership_in_case_names(tmp_path):
    root = tmp_path / "cases"
    for name in ("a", "b.c"):
        (root / name).mkdir(parents=True)
        (root / name / "case.toml").write_text("")
    (root / "empty").mkdir()
    (root / "a" / "nested").mkdir()
    (root / "a" / "nested" / "case.toml").write_text("")
    known = set(cases.case_names(root))
    for name in ("a", "b.c", "empty", "a/nested", ".", "..", "", "missing", "google==1.9.3"):
        assert cases.is_case_name(name, root) == (name in known), name


# --------------------------------------------------------------------------- the warm CLI


WARM_IMPORTS_NOT_NEEDED = (
    "installer",  # wheels are checked once; their listings are remembered
    "packaging.tags",  # names are read by harness.names; tags are remembered
    "packaging.utils",
    "tomllib",  # case documents are remembered
    "logging",  # loggers import it when they log
    "subprocess",  # no interpreter is asked, no bytecode compiled
    "concurrent.futures",  # nothing to download: no worker threads
    "importlib.metadata",  # virtualenv's version is read from its dist-info
    "hashlib",  # no bytes are hashed; memo names are crc32/adler32 (config.memo_name)
    "requests",
    "filelock",  # no lock is taken
    "virtualenv",  # the venv is a copy of the skeleton
    "harness.engine.faults",  # a case's detects are checked where the case is run
    "harness.cases.expectations",  # a CASE word is read for its pins only
    "packaging.specifiers",  # the case's python range is read where the case is run
    "harness.engine.merge",  # no merge in this plan
    "harness.oracle",
    "harness.supply.index",
)


def test_a_warm_assemble_imports_only_what_it_uses(tmp_path, demo_wheel):
    # A case of its own (cases/ is the corpus's): the local wheel enters the cache in a first
    # run, the case is read in a second, and the third, warm, is the one looked at.
    cases_root = tmp_path / "cases"
    (cases_root / "demo").mkdir(parents=True)
    # with a supported-python range, a fault it detects and an expectation: a warm assemble
    # reads only the pins, so none of those costs it an import
    (cases_root / "demo" / "case.toml").write_text(
        'description = "one wheel"\npython = ">=3.8"\ndetects = ["fault:first-wins-whole-tree"]\n'
        '[[expect.module]]\nname = "demo"\nowner = "demo"\nexplanation = "its only wheel"\n'
        '[[wheels]]\nname = "demo"\nversion = "1.0"\n'
        "files = [{ filename = "
        f'"{demo_wheel.name}", sha256 = "{_sha(demo_wheel)}", size = {demo_wheel.stat().st_size}'
        " }]\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HARNESS_"))},
        "HARNESS_WHEELS_CACHE": str(tmp_path / "cache"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }

    def assemble(word: str, out: str) -> list:
        code = (
            "import json, sys\n"
            "from pathlib import Path\n"
            "import harness.cases\n"
            f"harness.cases.default_cases_root = lambda: Path({str(cases_root)!r})\n"
            "from harness.cli import main\n"
            f"status = main(['assemble', {word!r}, '--python', {sys.executable!r},"
            f" '--out', {str(tmp_path / out)!r}])\n"
            "print(json.dumps([status, sorted(sys.modules)]))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        status, modules = json.loads(done.stdout.strip().splitlines()[-1])
        assert status == 0 and (tmp_path / out / "lib").is_dir(), done.stderr
        return modules

    assemble(str(demo_wheel), "v1")
    assemble("demo", "v2")
    env["HARNESS_OFFLINE"] = "1"
    loaded = set(assemble("demo", "v3"))
    assert [m for m in WARM_IMPORTS_NOT_NEEDED if m in loaded] == []
