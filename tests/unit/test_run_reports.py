"""`harness run` as CI uses it: JSON and JUnit reports, exit statuses, shards, bad interpreters."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

import pytest

from harness.cli import main

PASSING = r"""
description = "two namespace portions"
[[wheels]]
name = "ns-one"
version = "1.0"
[wheels.synthetic]
files = { "shared/one.py" = "" }
[[wheels]]
name = "ns-two"
version = "1.0"
[wheels.synthetic]
files = { "shared/two.py" = "" }
[[expect.module]]
name = "shared.two"
owner = "ns-two"
explanation = "each wheel's module lies in its own namespace portion"
"""

FAILING = PASSING.replace('owner = "ns-two"', 'owner = "ns-one"')


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    root = tmp_path / "cases"
    for name, text in {"a-pass": PASSING, "b-fail": FAILING, "c-pass": PASSING}.items():
        (root / name).mkdir(parents=True)
        (root / name / "case.toml").write_text(text)
    return root


def run(corpus, *extra):
    return main(["run", "--cases-dir", str(corpus), "--python", sys.executable, "-j", "1", *extra])


def test_json_and_junit_reports(corpus, tmp_path):
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    assert run(corpus, "--json", str(report), "--junit", str(junit)) == 1  # b-fail has a finding
    doc = json.loads(report.read_text())
    assert doc["schema"] == 1 and doc["ok"] is False
    assert [(r["case"], r["status"]) for r in doc["results"]] == [
        ("a-pass", "pass"),
        ("b-fail", "fail"),
        ("c-pass", "pass"),
    ]
    (finding,) = doc["results"][1]["findings"]
    assert (finding["rule"], finding["subject"], finding["case"]) == (
        "expect-module",
        "shared.two",
        "b-fail",
    )
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failed = [tc for tc in suite.iter("testcase") if tc.find("failure") is not None]
    assert [tc.get("classname") for tc in failed] == ["harness.b-fail"]
    assert "shared.two" in failed[0].find("failure").text


def test_passing_cases_exit_zero(corpus, capsys):
    assert run(corpus, "a-pass", "c-pass") == 0
    assert "a-pass: 1/1 passed" in capsys.readouterr().out


def test_shards_split_the_work_deterministically_and_completely(corpus, tmp_path):
    seen = []
    for k in (1, 2):
        path = tmp_path / f"s{k}.json"
        run(corpus, "--shard", f"{k}/2", "--json", str(path))
        seen.append([r["case"] for r in json.loads(path.read_text())["results"]])
    assert seen == [["a-pass", "c-pass"], ["b-fail"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--python", "2.1"], "2.1"),
        (["--shard", "3/2"], "--shard"),
        (["no-such-case"], "unknown case"),
    ],
)
def test_usage_errors_exit_two(corpus, capsys, args, message):
    assert main(["run", "--cases-dir", str(corpus), *args]) == 2
    assert message in capsys.readouterr().err


def test_summary_states_coverage_and_why_each_cell_did_not_run(corpus, capsys, tmp_path):
    (corpus / "d-later").mkdir()
    (corpus / "d-later" / "case.toml").write_text('python = ">=3.99"\n' + PASSING)
    report = tmp_path / "r.json"
    assert run(corpus, "a-pass", "d-later", "--json", str(report)) == 0
    out = capsys.readouterr().out
    assert "coverage: 1/2 case x interpreter cells run (50.0%)" in out
    assert "1 cell skipped: the case supports Python >=3.99" in out
    assert "    d-later: " in out
    cov = json.loads(report.read_text())["coverage"]
    assert (cov["cells"], cov["run"]) == (2, 1)
    assert [(c["case"], c["status"]) for c in cov["not_run"]] == [("d-later", "skip")]


def test_summary_counts_an_accepted_refusal_apart_from_passes():
    # why: a refusal the case accepts is neither a pass nor a failure; the line says so
    from harness.run.report import summary_by_case
    from harness.run.runner import Result

    results = [
        Result("c", "3.11.7", "merge", "pass"),
        Result("c", "3.11.7", "pex3-venv", "refused", refusal_accepted=True),
        Result("c", "3.11.7", "uv", "refused", refusal_accepted=False),
    ]
    assert summary_by_case(results) == "c: 1/2 passed, 1 refused as the case accepts"
