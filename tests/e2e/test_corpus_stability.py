"""The corpus under `pytest -n 4` is stable: ten runs, every one passing, identical outcomes.

NOT run by default, in CI or locally: it runs the whole corpus ten times (minutes). Run it with

    HARNESS_STABILITY=1 python3 -m pytest tests/e2e/test_corpus_stability.py -q

(`HARNESS_STABILITY_RUNS=N` changes the number of repetitions; `HARNESS_PYTHONS` is passed on
to the corpus runs as usual.) Each repetition is a fresh `python3 -m pytest -n 4
tests/e2e/test_corpus.py -q` process, so four xdist workers race on the same cache, trees and
locks every time. The runs use a private cache (the configured cache's verified files hard-linked
in, since they are read-only and content-addressed; anything missing is downloaded into the
private copy) and private, initially empty install trees, so the first run also races on
unpacking every tree and the real cache is never written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from private_cache import private_cache

from harness import config

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not config.env_flag("HARNESS_STABILITY"),
        reason="ten full corpus runs take minutes: set HARNESS_STABILITY=1 to run them",
    ),
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def outcomes(junit_xml: Path) -> dict[str, str]:
    """test id → passed, failed, error or skipped."""
    result = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(
            kinds[0] if kinds else "", "passed"
        )
        result[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return result


def test_corpus_is_stable_under_xdist(tmp_path: Path) -> None:
    runs = int(os.environ.get("HARNESS_STABILITY_RUNS", "10"))
    cache, trees = tmp_path / "cache", tmp_path / "trees"
    private_cache(config.cache_dir(), cache)
    env = {**os.environ, "HARNESS_WHEELS_CACHE": str(cache), "HARNESS_TREES": str(trees)}
    seen: list[dict[str, str]] = []
    failures: list[str] = []
    for number in range(1, runs + 1):
        report = tmp_path / f"run-{number}.xml"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-n",
                "4",
                "tests/e2e/test_corpus.py",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={report}",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        seen.append(outcomes(report) if report.exists() else {})
        if done.returncode != 0:
            tail = "\n".join(done.stdout.splitlines()[-15:])
            failures.append(f"run {number}: exit {done.returncode}\n{tail}\n{done.stderr[-2000:]}")
    # Stability first (every run the same), then correctness (every run passing): a corpus
    # that fails the same way ten times is stable but still wrong, and is reported as such.
    assert seen[0], "run 1 collected no corpus test"
    for number, outcome in enumerate(seen[1:], start=2):
        changed = sorted(
            k for k in seen[0].keys() | outcome.keys() if seen[0].get(k) != outcome.get(k)
        )
        assert not changed, f"run {number} differs from run 1: " + ", ".join(
            f"{k} {seen[0].get(k)} -> {outcome.get(k)}" for k in changed
        )
    assert not failures, f"{len(failures)} of {runs} runs failed:\n" + "\n".join(failures)
    assert set(seen[0].values()) <= {"passed", "skipped"}, seen[0]
    # nothing half-done left by forty racing workers
    assert not (cache / "tmp").exists() or list((cache / "tmp").iterdir()) == []
    assert not (trees / "tmp").exists()
