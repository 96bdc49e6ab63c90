"""`[wheels.synthetic]`: a case-built wheel goes through the same cache, unpack and checks."""

from __future__ import annotations

import sys

import pytest

from harness.cases import load_case
from harness.errors import CaseFileError
from harness.supply import prepare
from harness.supply.interpreters import resolve

CASE = """
description = "synthetic"
[[wheels]]
name = "graft"
version = "1.0"
[wheels.synthetic]
files = { "pkg/sub/__init__.py" = "X = 1\\n" }
entry_points = { console_scripts = { graft-tool = "pkg.sub:main" } }
"""


def write(tmp_path, text):
    (tmp_path / "c").mkdir(exist_ok=True)
    (tmp_path / "c" / "case.toml").write_text(text)
    return tmp_path / "c"


def test_synthetic_pin_is_deterministic_and_prepares_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")  # nothing may be downloaded
    first = load_case(write(tmp_path, CASE)).wheels[0]
    again = load_case(write(tmp_path, CASE)).wheels[0]
    assert first.files == again.files and first.files[0].filename == "graft-1.0-py3-none-any.whl"
    (prepared,) = prepare([first], resolve(sys.executable))
    assert prepared.facts.namespace_top_levels == ("pkg",)
    assert prepared.facts.regular_roots == ("pkg/sub",)
    assert [cs.name for cs in prepared.facts.console_scripts] == ["graft-tool"]
    assert (prepared.tree.site_packages / "pkg/sub/__init__.py").read_text() == "X = 1\n"


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('files = { "x" = 1 }', "[[wheels]] #1: [wheels.synthetic]: key 'files': expected"),
        (
            'colour = "red"\nfiles = { "x/__init__.py" = "" }',
            "[[wheels]] #1: [wheels.synthetic]: key 'colour': unknown key",
        ),
        (
            'files = { "x/__init__.py" = "" }\nentry_points = { console_scripts = "nope" }',
            "[[wheels]] #1: [wheels.synthetic]: key 'entry_points': expected",
        ),
    ],
)
def test_bad_synthetic_specs_name_the_key(tmp_path, extra, key):
    text = (
        f'description = "d"\n[[wheels]]\nname = "g"\nversion = "1.0"\n[wheels.synthetic]\n{extra}\n'
    )
    with pytest.raises(CaseFileError) as caught:
        load_case(write(tmp_path, text))
    assert key in str(caught.value)


def test_fetch_builds_synthetic_wheels_instead_of_asking_the_index(tmp_path, monkeypatch, capsys):
    from harness import cases
    from harness.cli import main

    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")  # any index request would fail the fetch
    write(tmp_path, CASE)
    monkeypatch.setattr(cases, "default_cases_root", lambda: tmp_path)
    assert main(["fetch", "--python", sys.executable]) == 0, capsys.readouterr().err
    assert "1 cached" in capsys.readouterr().out


def test_a_synthetic_wheel_pins_no_files(tmp_path):
    text = (
        'description = "d"\n[[wheels]]\nname = "g"\nversion = "1.0"\n'
        f'files = [{{ filename = "g-1.0-py3-none-any.whl", sha256 = "{"a" * 64}", size = 1 }}]\n'
        '[wheels.synthetic]\nfiles = { "g.py" = "" }\n'
    )
    with pytest.raises(CaseFileError, match=r"\[\[wheels\]\] #1: key 'files': a synthetic wheel"):
        load_case(write(tmp_path, text))


def test_fetch_names_a_broken_case_and_still_fetches_the_others(tmp_path, monkeypatch, capsys):
    # why: bad input gets a clear error and loses nothing: one broken case file must not stop
    # the corpus' other wheels from being fetched
    from harness import cases
    from harness.cli import main

    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    write(tmp_path, CASE)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "case.toml").write_text('description = "d"\npython = "not a range"\n')
    monkeypatch.setattr(cases, "default_cases_root", lambda: tmp_path)
    assert main(["fetch", "--python", sys.executable]) == 2  # fetch: 2 when anything failed
    captured = capsys.readouterr()
    assert "1 cached" in captured.out
    assert "broken/case.toml" in captured.err and "python" in captured.err
