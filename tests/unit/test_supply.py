"""Wheel selection, locking and preparation against a loopback index with synthetic wheels."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_index import FakeIndex, pointed_at, slow

from harness import cli
from harness.cases import load_case
from harness.cases.words import prepare_args
from harness.errors import HarnessError, OfflineError
from harness.model import Interpreter, Pin, WheelFile
from harness.supply import choose, lock, parse_spec, prepare, select_file
from harness.supply.cache import WheelCache
from harness.supply.index import IndexClient, NotFound
from harness.supply.interpreters import compute_tags, query
from harness.supply.wheelbuilder import make_wheel

PLATFORMS = ["manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]


def made_up(major: int, minor: int) -> Interpreter:
    """An interpreter described by hand (tags computed exactly as for a real one)."""
    return Interpreter(
        executable=f"/made/up/python{major}.{minor}",
        version=(major, minor, 0),
        implementation="cpython",
        tags=compute_tags((major, minor), f"cp{major}{minor}", PLATFORMS),
    )


PY39, PY311, PY313 = made_up(3, 9), made_up(3, 11), made_up(3, 13)


def wf(filename: str) -> WheelFile:
    return WheelFile(filename, hashlib.sha256(filename.encode()).hexdigest(), 10)


DEMO = Pin(
    "demo",
    "1.0",
    (
        wf("demo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl"),
        wf("demo-1.0-cp39-cp39-manylinux_2_17_x86_64.whl"),
        wf("demo-1.0-py3-none-any.whl"),
        wf("demo-1.0-cp39-cp39-win_amd64.whl"),
    ),
)


@pytest.mark.parametrize(
    ("interp", "expected"),
    [
        (PY39, "demo-1.0-cp39-cp39-manylinux_2_17_x86_64.whl"),  # its own build beats pure
        (PY313, "demo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl"),
        (PY311, "demo-1.0-py3-none-any.whl"),  # no cp311 build: the pure wheel
    ],
    ids=["3.9", "3.13", "3.11"],
)
def test_each_interpreter_gets_its_own_file(interp: Interpreter, expected: str) -> None:
    assert select_file(DEMO, interp).filename == expected


def test_abi3_beats_pure_python() -> None:
    pin = Pin(
        "pb", "6", (wf("pb-6-py3-none-any.whl"), wf("pb-6-cp39-abi3-manylinux2014_x86_64.whl"))
    )
    assert select_file(pin, PY313).filename == "pb-6-cp39-abi3-manylinux2014_x86_64.whl"


def test_forced_file_wins_whatever_the_tags() -> None:
    forced = Pin(DEMO.name, DEMO.version, DEMO.files, filename="demo-1.0-cp39-cp39-win_amd64.whl")
    assert select_file(forced, PY313).filename == "demo-1.0-cp39-cp39-win_amd64.whl"


def test_no_fitting_file_lists_files_and_tags() -> None:
    pin = Pin("old", "1.0", (wf("old-1.0-cp27-cp27mu-manylinux1_x86_64.whl"),))
    with pytest.raises(HarnessError) as caught:
        select_file(pin, PY313)
    message = str(caught.value)
    assert "old==1.0: none of its files fits" in message
    assert "old-1.0-cp27-cp27mu-manylinux1_x86_64.whl" in message
    assert "most preferred cp313-cp313-manylinux_2_17_x86_64" in message
    assert "--python 3.13" in message


def test_choose_keeps_first_of_a_duplicate_and_refuses_a_label_clash() -> None:
    other = Pin("other", "2", (wf("other-2-py3-none-any.whl"),))
    chosen = choose([DEMO, other, DEMO], PY311)
    assert [label for label, _ in chosen] == [
        "demo-1.0-py3-none-any.whl",
        "other-2-py3-none-any.whl",
    ]
    clash = Pin("other", "2", other.files, label="demo-1.0-py3-none-any.whl")
    with pytest.raises(HarnessError, match="names two different wheels"):
        choose([DEMO, clash], PY311)


def test_parse_spec(tmp_path: Path) -> None:
    assert parse_spec("Google==1.9.3").name == "Google"
    assert parse_spec(" protobuf == 6.33.5 ").version == "6.33.5"
    local = tmp_path / "demo-1.0-py3-none-any.whl"
    local.write_bytes(b"x")
    assert parse_spec(str(local)).path == local
    for bad in ("google", "google>=1.0", "google==1.*", "==1.0", "google==not-a-version"):
        with pytest.raises(HarnessError, match=r"NAME==VERSION|PEP 440"):
            parse_spec(bad)
    with pytest.raises(HarnessError, match="no such wheel file"):
        parse_spec(str(tmp_path / "gone-1.0-py3-none-any.whl"))


# --------------------------------------------------------------------------- with an index


def demo_wheel(tag: str, marker: str = "") -> bytes:
    return make_wheel("demo", "1.0", {"demo/__init__.py": f"BUILD = {tag!r}{marker}\n"}, tag=tag)


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HARNESS_OFFLINE", raising=False)
    with FakeIndex() as served, pointed_at(served, monkeypatch):
        for tag in (
            "cp39-cp39-manylinux_2_17_x86_64",
            "cp313-cp313-manylinux_2_17_x86_64",
            "py3-none-any",
            "cp39-cp39-win_amd64",
        ):
            served.add("demo", f"demo-1.0-{tag}.whl", demo_wheel(tag))
        served.add("demo", "demo-1.0.tar.gz", b"sdist")
        for version in ("0.9", "1.1", "2.0"):
            served.add("demo", f"demo-{version}.tar.gz", b"sdist")
        served.add(
            "helper",
            "helper-3.0-py3-none-any.whl",
            make_wheel("helper", "3.0", {"helper.py": "X = 1\n"}),
        )
        yield served


def test_lock_keeps_files_any_interpreter_accepts(index: FakeIndex) -> None:
    [pin] = lock(["Demo==1.0"], [PY39, PY313])
    assert [f.filename for f in pin.files] == [
        "demo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl",
        "demo-1.0-cp39-cp39-manylinux_2_17_x86_64.whl",
        "demo-1.0-py3-none-any.whl",
    ]
    served = {f.filename: f for f in index.project_files("demo")}
    for f in pin.files:  # sha256 and size are the index's, not guessed
        assert (f.sha256, f.size) == (served[f.filename].sha256, served[f.filename].size)
    [every] = lock(["demo==1.0"], [])
    assert len(every.files) == 4  # no interpreter given: every wheel, the Windows one too


def test_lock_errors_name_the_pin(index: FakeIndex) -> None:
    with pytest.raises(HarnessError, match=r"demo==0\.9: the index has only source distributions"):
        lock(["demo==0.9"], [PY39])
    with pytest.raises(
        HarnessError,
        match=r"demo==1\.5: the index has no such version \(nearby: 0\.9, 1\.0, 1\.1, 2\.0\)",
    ):
        lock(["demo==1.5"], [PY39])
    with pytest.raises(NotFound, match="no project named 'nothere'"):
        lock(["nothere==1.0"], [])
    mac_only = Interpreter(
        "/m/python3.12", (3, 12, 0), "cpython", ("cp312-cp312-macosx_11_0_arm64",)
    )
    with pytest.raises(
        HarnessError, match=r"demo==1\.0: none of its wheels fits .*macosx_11_0_arm64"
    ):
        lock(["demo==1.0"], [mac_only])


def test_lock_for_38_keeps_only_the_pure_wheel(index: FakeIndex) -> None:
    [pin] = lock(["demo==1.0"], [made_up(3, 8)])
    assert [f.filename for f in pin.files] == ["demo-1.0-py3-none-any.whl"]


def test_html_index_without_sizes_is_measured_by_download(tmp_path: Path) -> None:
    content = demo_wheel("py3-none-any")
    with FakeIndex("html") as served:
        served.add("demo", "demo-1.0-py3-none-any.whl", content)
        cache = WheelCache(tmp_path / "c", offline=False)
        [pin] = lock(["demo==1.0"], [PY311], client=IndexClient(served.url), cache=cache)
        assert pin.files[0].size == len(content)
        assert served.hits("demo-1.0-py3-none-any.whl") == 1
        assert cache.get(pin.files[0]) is not None  # measured once, kept, verified


def test_prepare_fetches_unpacks_and_reads_facts_in_wheel_order(index: FakeIndex) -> None:
    host = query(sys.executable)
    pins = lock(["helper==3.0", "demo==1.0"], [host])
    prepared = prepare([*pins, pins[0]], host)  # helper listed twice: first position kept
    assert [p.label for p in prepared] == [
        "helper-3.0-py3-none-any.whl",
        "demo-1.0-py3-none-any.whl",
    ]
    helper, demo = prepared
    assert helper.facts.name == "helper" and helper.facts.top_levels[-1] == "helper.py"
    assert demo.facts.regular_top_levels == ("demo",)
    assert (demo.tree.site_packages / "demo" / "__init__.py").read_text() == (
        "BUILD = 'py3-none-any'\n"
    )
    assert demo.facts.sha256 == hashlib.sha256(demo.path.read_bytes()).hexdigest()


def test_prepare_args_second_time_offline_makes_no_request(
    index: FakeIndex, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    host = query(sys.executable)
    local = tmp_path / "localpkg-0.1-py3-none-any.whl"
    local.write_bytes(make_wheel("localpkg", "0.1", {"localpkg.py": ""}))
    first = prepare_args(["demo==1.0", str(local)], host)
    assert [p.label for p in first] == ["demo-1.0-py3-none-any.whl", local.name]
    seen = len(index.requests)
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    again = prepare_args(["demo==1.0", str(local)], host)
    assert [p.path for p in again] == [p.path for p in first]
    assert len(index.requests) == seen  # the locked file list was remembered; files cached
    with pytest.raises(OfflineError, match=r"helper==3\.0 was never locked or fetched"):
        prepare_args(["helper==3.0"], host)


def test_cli_lock_prints_a_fragment_the_case_parser_reads(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "lock",
        "demo==1.0",
        "helper==3.0",
        "--python",
        "default",
        "--label",
        "",
        "--label",
        "h",
    ]
    assert cli.main(argv) == 0
    fragment = capsys.readouterr().out
    case_dir = tmp_path / "cases" / "locked"
    case_dir.mkdir(parents=True)
    (case_dir / "case.toml").write_text('description = "locked"\n' + fragment)
    case = load_case(case_dir)
    assert [(p.name, p.label) for p in case.wheels] == [("demo", None), ("helper", "h")]
    assert [f.filename for f in case.wheels[0].files] == ["demo-1.0-py3-none-any.whl"]
    assert cli.main(["lock", "demo==0.9"]) == 2
    assert "only source distributions" in capsys.readouterr().err


def test_cli_fetch_reports_fetched_then_cached_then_offline_missing(
    index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["fetch", "demo==1.0", "--python", "default"]) == 0
    out = capsys.readouterr().out
    assert "fetched  demo 1.0 (demo-1.0-py3-none-any.whl)" in out and "1 fetched" in out
    assert cli.main(["fetch", "demo==1.0", "--python", "default"]) == 0
    assert "cached   demo 1.0 (demo-1.0-py3-none-any.whl)" in capsys.readouterr().out
    hits = index.hits("demo-1.0-py3-none-any.whl")
    assert cli.main(["fetch", "demo==1.0", "helper==3.0", "--offline"]) == 2
    captured = capsys.readouterr()
    assert "helper==3.0 was never locked or fetched" in captured.err
    assert "cached   demo 1.0" in captured.out
    assert index.hits("demo-1.0-py3-none-any.whl") == hits


PREPARE_WORKER = """
import json, sys, time
from pathlib import Path
from harness.supply.interpreters import query
from harness.model import Pin, WheelFile
from harness.supply import prepare

go, filename, sha, size = sys.argv[1:5]
host = query(sys.executable)
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.005)
[wheel] = prepare([Pin("demo", "1.0", (WheelFile(filename, sha, int(size)),))], host)
print(json.dumps([str(wheel.path), str(wheel.tree.root), wheel.facts.top_levels]), flush=True)
"""


def test_four_processes_prepare_the_same_pin_once(index: FakeIndex, tmp_path: Path) -> None:
    served = next(f for f in index.project_files("demo") if f.filename.endswith("py3-none-any.whl"))
    index.fail(served.filename, slow(0.5, body=True))  # the downloader holds the lock a while
    go = tmp_path / "go"
    args = [go, served.filename, served.sha256, served.size]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PREPARE_WORKER, *map(str, args)],
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ),  # the index fixture set HARNESS_INDEX_URL and the cache
            cwd=Path(__file__).resolve().parents[2],
        )
        for _ in range(4)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    go.touch()
    answers = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        answers.append(tuple(map(str, json.loads(out))))
    assert len(set(answers)) == 1  # same file, same tree, same facts for all four
    assert index.hits(served.filename) == 1
    cache_root = tmp_path / "cache"
    assert len([p for p in (cache_root / "sha256").rglob("*.whl")]) == 1
    trees = [p.name for p in (cache_root / "trees").iterdir() if len(p.name) == 64]
    assert trees == [served.sha256]  # one install tree, keyed by the wheel's sha256


MUSL = Pin(
    "demo",
    "1.0",
    (
        wf("demo-1.0-cp39-cp39-musllinux_1_1_x86_64.whl"),
        wf("demo-1.0-cp311-cp311-musllinux_1_1_x86_64.whl"),
        wf("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        wf("demo-1.0-cp38-abi3-musllinux_1_2_x86_64.whl"),
    ),
    platform="musllinux_1_1_x86_64",
)


@pytest.mark.parametrize(
    ("interp", "expected"),
    [
        (PY39, "demo-1.0-cp39-cp39-musllinux_1_1_x86_64.whl"),
        (PY311, "demo-1.0-cp311-cp311-musllinux_1_1_x86_64.whl"),  # not the host's manylinux
    ],
    ids=["3.9", "3.11"],
)
def test_platform_picks_each_interpreters_build_for_that_platform(interp, expected) -> None:
    assert select_file(MUSL, interp).filename == expected


def test_platform_without_a_build_for_the_interpreter_says_which_file_to_add() -> None:
    with pytest.raises(HarnessError) as caught:
        select_file(MUSL, PY313)  # the abi3 file is musllinux_1_2, another platform
    assert "musllinux_1_1_x86_64" in str(caught.value)
    assert "Python 3.13" in str(caught.value)
