"""Eight processes ask for the same pins, install trees and venvs at the same moment.

Each worker is a real python process doing what `harness run` workers do: prepare the pins
(select, download through the loopback index, verify, unpack), assemble a merge venv from the
shared trees and import from it. Downloads are counted on the wire, unpacks by wrapping
`harness.supply.wheel._build_tree` in each worker so it appends one line per tree it builds to a shared
file (O_APPEND writes of one short line are atomic).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fake_index import FakeIndex, slow

from harness.supply.wheel import COMPLETE_MARKER
from harness.supply.wheelbuilder import make_wheel, wheel_filename

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKERS = 8

# Two wheels share the namespace `shared_ns`, one is a plain package: the venv needs both a
# namespace projection and a regular one.
WHEELS = {
    "nsa": {"shared_ns/a.py": "VALUE = 'a'\n"},
    "nsb": {"shared_ns/b.py": "VALUE = 'b'\n"},
    "solo": {"solo/__init__.py": "VALUE = 'solo'\n"},
}
IMPORT_CHECK = (
    "import shared_ns.a, shared_ns.b, solo; print(shared_ns.a.VALUE, shared_ns.b.VALUE, solo.VALUE)"
)

WORKER = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    from pathlib import Path

    import harness.supply.wheel as wheel_module
    from harness import supply
    from harness.engine.assemble import assemble
    from harness.supply.interpreters import resolve
    from harness.model import Pin, WheelFile

    pins_json, go, builds, out, check = sys.argv[1:6]
    real_build = wheel_module._build_tree

    def counted_build(wheel_path, wheel, sha256, trees_root, final):
        real_build(wheel_path, wheel, sha256, trees_root, final)
        with open(builds, "a") as log:
            log.write(sha256 + "\\n")

    wheel_module._build_tree = counted_build
    pins = [Pin(n, v, (WheelFile(f, s, z),)) for n, v, f, s, z in json.loads(pins_json)]
    host = resolve(sys.executable)
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.005)
    prepared = supply.prepare(pins, host)
    assembly = assemble(prepared, host, Path(out), engine="merge", policy="warning")
    shown = subprocess.run(
        [str(assembly.venv.python), "-c", check], capture_output=True, text=True, check=True
    ).stdout
    markers = {}
    for p in prepared:
        st = os.stat(p.tree.root / ".complete")
        markers[p.facts.sha256] = [str(p.tree.root), st.st_ino, st.st_mtime_ns]
    print(json.dumps({"import": shown, "trees": markers}), flush=True)
    """
)


def test_eight_processes_share_one_download_one_unpack_and_all_venvs_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_root, trees_root = tmp_path / "cache", tmp_path / "trees"
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(cache_root))
    monkeypatch.setenv("HARNESS_TREES", str(trees_root))
    monkeypatch.delenv("HARNESS_OFFLINE", raising=False)
    go, builds = tmp_path / "go", tmp_path / "builds.log"
    with FakeIndex() as index:
        pins = []
        for name, files in WHEELS.items():
            content = make_wheel(name, "1.0", files)
            filename = wheel_filename(name, "1.0")
            index.add(name, filename, content)
            # the first body pauses half-way, so the downloader holds the lock while the
            # seven others queue on it rather than finding the file already there
            index.fail(filename, slow(0.4, body=True))
            pins.append([name, "1.0", filename, hashlib.sha256(content).hexdigest(), len(content)])
        env = {
            **os.environ,
            "HARNESS_INDEX_URL": index.url,
            "HARNESS_RETRY_BASE": "0.01",
        }
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    json.dumps(pins),
                    str(go),
                    str(builds),
                    str(tmp_path / f"venv-{i}"),
                    IMPORT_CHECK,
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(WORKERS)
        ]
        for worker in workers:  # every worker imported and waiting: they start together
            assert worker.stdout is not None
            line = worker.stdout.readline().strip()
            assert line == "ready", worker.stderr.read() if worker.stderr else ""
        go.touch()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=180)
            assert worker.returncode == 0, err
            reports.append(json.loads(out))
        for _name, _version, filename, _sha, _size in pins:
            assert index.hits(filename) == 1, filename  # one download for eight processes
        for name in WHEELS:
            # the page is read only to resolve a URL, which only the downloader does
            assert index.hits(name) == 1, name

    shas = sorted(pin[3] for pin in pins)
    # one unpack per file across all processes
    assert sorted(builds.read_text().split()) == shas
    # all eight venvs import every module, each from its own wheel
    assert [r["import"] for r in reports] == ["a b solo\n"] * WORKERS
    # every worker saw the very same tree (same marker inode and time): nobody rebuilt one
    for sha in shas:
        seen = {tuple(r["trees"][sha]) for r in reports}
        marker = (trees_root / sha / COMPLETE_MARKER).stat()
        assert seen == {(str(trees_root / sha), marker.st_ino, marker.st_mtime_ns)}
    # nothing half-done left anywhere
    assert sorted(p.name for p in trees_root.iterdir()) == sorted([*shas, "locks"])
    assert list((cache_root / "tmp").iterdir()) == []
    stored = sorted(p.parent.name for p in (cache_root / "sha256").rglob("*.whl"))
    assert stored == shas
