"""No race: two `harness run --python all -j 2` and a `harness bench` matrix, started together
over one cache, finish without an error and with identical reports; the trees are intact after.

NOT run by default (three whole-corpus matrices at once take minutes on two cores). Run it with

    HARNESS_RACE=1 python3 -m pytest tests/e2e/test_no_race.py -q

The three processes share a private cache (the configured cache's verified wheels hard-linked
in, as tests/e2e/test_corpus_stability.py does) and private, initially empty install trees, so
they race on unpacking every tree, on compiling each tree for every interpreter, and on reading
trees while a peer compiles them for another interpreter (where `harness bench` once crashed on a
vanishing `__pycache__/*.pyc.<n>`). Offline: nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from private_cache import private_cache

from harness import config
from harness.supply.treeverify import verify_trees

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not config.env_flag("HARNESS_RACE"),
        reason="three whole-corpus matrices at once take minutes: set HARNESS_RACE=1 to run them",
    ),
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def without_timings(value):
    """The report with every `seconds` field dropped (the only non-deterministic part,
    docs/report-schema.md)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_two_matrix_runs_and_a_bench_over_one_cache(tmp_path: Path) -> None:
    cache, trees = tmp_path / "cache", tmp_path / "trees"
    private_cache(config.cache_dir(), cache)
    env = {
        **os.environ,
        "HARNESS_WHEELS_CACHE": str(cache),
        "HARNESS_TREES": str(trees),
        "HARNESS_OFFLINE": "1",
    }
    harness = [sys.executable, "-m", "harness"]
    commands = {
        "run-a": [
            *harness,
            "run",
            "--python",
            "all",
            "-j",
            "2",
            "--json",
            str(tmp_path / "a.json"),
        ],
        "run-b": [
            *harness,
            "run",
            "--python",
            "all",
            "-j",
            "2",
            "--json",
            str(tmp_path / "b.json"),
        ],
        "bench": [
            *harness,
            "bench",
            "--only",
            "matrix",
            "-j",
            "2",
            "--json",
            str(tmp_path / "bench.json"),
        ],
    }
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in commands}
    processes = {
        name: subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT
        )
        for name, argv in commands.items()
    }
    codes = {name: process.wait(timeout=3600) for name, process in processes.items()}
    for log in logs.values():
        log.close()

    def tail(name: str) -> str:
        return "\n".join((tmp_path / f"{name}.log").read_text().splitlines()[-30:])

    for name in ("run-a", "run-b"):
        assert (tmp_path / f"{name[-1]}.json").exists(), tail(name)
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    errors = [
        f"{r['case']} {r['interpreter']} {r['engine']}: {r['detail']}"
        for r in a["results"] + b["results"]
        if r["status"] == "error"
    ]
    assert not errors, "\n".join(errors)
    assert without_timings(a) == without_timings(b)
    assert codes["run-a"] == codes["run-b"], (codes, tail("run-a"), tail("run-b"))
    assert codes["run-a"] == 0, tail("run-a")

    bench = json.loads((tmp_path / "bench.json").read_text())
    assert codes["bench"] == 0 and not bench["errors"], (bench["errors"], tail("bench"))
    assert bench["matrix"]["units"] > 0 and "error" not in bench["matrix"]["statuses"]

    report = verify_trees(trees, cache)
    assert report.ok, "\n".join(d.render() for d in report.differences)
    assert not (trees / "tmp").exists()
    assert not (cache / "tmp").exists() or list((cache / "tmp").iterdir()) == []
