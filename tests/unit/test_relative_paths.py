"""Paths as users type them: every command that takes a path accepts a relative one.

Each path argument is made absolute from the caller's working directory when the command line
is parsed, before anything runs elsewhere (the probe runs in a temporary directory, subprocesses
and workers may too). One test per command that takes a path, run from a directory where only
the relative spelling is valid; synthetic wheels, offline, the host interpreter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.cli import build_parser, main
from harness.supply.wheelbuilder import write_wheel

CASE = """
description = "a synthetic case for relative paths"
reviewed = true
[[wheels]]
name = "relpkg"
version = "1.0"
[wheels.synthetic]
files = { "relpkg/__init__.py" = "VALUE = 1\\n" }
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A private cache and trees, offline, and the working directory set to `tmp_path/work`."""
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    write_wheel(work, "relpkg", "1.0", {"relpkg/__init__.py": "VALUE = 1\n"})
    return work


WHEEL = "relpkg-1.0-py3-none-any.whl"


def test_assemble_out_is_relative_to_the_callers_directory(workdir, capsys):
    assert main(["assemble", WHEEL, "--out", "v"]) == 0
    assert (workdir / "v" / "bin" / "python").exists()
    assert f"venv: {workdir / 'v'}" in capsys.readouterr().out


def test_probe_takes_a_relative_venv(workdir, capsys):
    assert main(["assemble", WHEEL, "--out", "v"]) == 0
    capsys.readouterr()
    for spelling in ("./v", "v"):
        assert main(["probe", spelling, "relpkg", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        (module,) = report["modules"]
        assert module["status"] == "found"
        assert module["origin"] == str(
            workdir / "v" / "lib" / _pyver() / "site-packages" / "relpkg" / "__init__.py"
        )


def test_check_takes_a_relative_venv_wheels_and_cases_dir(workdir, capsys):
    assert main(["assemble", WHEEL, "--out", "v"]) == 0
    capsys.readouterr()
    assert main(["check", "v"]) == 0
    assert main(["check", "./v", "--wheels", WHEEL]) == 0
    cases = workdir / "cases" / "syn"
    cases.mkdir(parents=True)
    (cases / "case.toml").write_text(CASE)
    assert main(["check", "v", "--case", "syn", "--cases-dir", "cases"]) == 0
    assert capsys.readouterr().out.count("no findings") == 3


def test_run_writes_every_relative_output_where_the_user_asked(workdir, capsys):
    (workdir / "cases" / "syn").mkdir(parents=True)
    (workdir / "cases" / "syn" / "case.toml").write_text(CASE)
    argv = ["run", "syn", "--cases-dir", "cases", "-j", "1", "--keep", "kept"]
    argv += ["--json", "r.json", "--junit", "r.xml", "--markdown", "r.md"]
    assert main(argv) == 0
    assert json.loads((workdir / "r.json").read_text())["results"]
    assert (workdir / "r.xml").read_text().startswith("<?xml")
    assert (workdir / "r.md").read_text()
    kept = sorted(p.name for p in (workdir / "kept").iterdir())
    assert kept == [f"syn-{_pyver().removeprefix('python')}"]


def test_bench_writes_relative_outputs_and_keeps_a_relative_workdir(workdir, capsys):
    argv = ["bench", "--only", "scaling", "--sizes", "2/2/2", "--runs", "1"]
    argv += ["--startup-runs", "1", "--startup-warmup", "0"]
    argv += ["--keep", "bw", "--json", "b.json", "--markdown", "b.md"]
    assert main(argv) == 0
    assert json.loads((workdir / "b.json").read_text())["scaling"]
    assert (workdir / "b.md").read_text()
    assert (workdir / "bw" / "scaling").is_dir()


def test_new_case_reads_a_relative_lock_file_and_writes_a_relative_cases_dir(
    workdir, monkeypatch, capsys
):
    import harness.run.newcase

    seen = {}

    def draft(name, pins, support, interps):
        seen["pins"] = [(p.name, p.version) for p in pins]
        return 'description = "draft"\nreviewed = false\n'

    monkeypatch.setattr(harness.run.newcase, "draft_case", draft)
    sha = "a" * 64
    (workdir / "locks").mkdir()
    (workdir / "locks" / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "six"\nversion = "1.17.0"\n'
        'source = { registry = "https://index.invalid/simple" }\n'
        f'wheels = [{{ url = "https://index.invalid/six-1.17.0-py2.py3-none-any.whl", '
        f'hash = "sha256:{sha}", size = 11050 }}]\n'
    )
    assert main(["new-case", "drafted", "--from", "locks/uv.lock", "--cases-dir", "out"]) == 0
    assert seen["pins"] == [("six", "1.17.0")]
    assert (workdir / "out" / "drafted" / "case.toml").is_file()


def test_cache_verify_takes_a_relative_trees_directory(workdir, capsys):
    assert main(["assemble", WHEEL, "--out", "v"]) == 0
    capsys.readouterr()
    assert main(["cache", "verify", "--trees", "../trees"]) == 0
    assert f"1 tree(s) and 0 wheel file(s) verified under {workdir.parent / 'trees'}" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("argv", "attributes"),
    [
        (["probe", "v", "m"], ["venv"]),
        (["check", "v", "--cases-dir", "c"], ["venv", "cases_dir"]),
        (["assemble", "x==1", "--out", "o"], ["out"]),
        (
            [
                "run",
                "--keep",
                "k",
                "--json",
                "j",
                "--junit",
                "u",
                "--markdown",
                "m",
                "--cases-dir",
                "c",
            ],
            ["keep", "json", "junit", "markdown", "cases_dir"],
        ),
        (
            ["bench", "--keep", "k", "--json", "j", "--markdown", "m", "--cases-dir", "c"],
            ["keep", "json", "markdown", "cases_dir"],
        ),
        (["new-case", "n", "--from", "uv.lock", "--cases-dir", "c"], ["lockfile", "cases_dir"]),
        (["cache", "verify", "--trees", "t"], ["trees"]),
    ],
)
def test_every_path_argument_is_absolute_once_parsed(tmp_path, monkeypatch, argv, attributes):
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(argv)
    for attribute in attributes:
        value = getattr(args, attribute)
        assert os.path.isabs(value), (attribute, value)
        assert Path(value).parent == tmp_path, (attribute, value)


@pytest.mark.parametrize("command", ["run", "bench"])
def test_json_dash_still_means_stdout(command):
    assert build_parser().parse_args([command, "--json", "-"]).json == "-"


def _pyver() -> str:
    import sys

    return f"python{sys.version_info[0]}.{sys.version_info[1]}"
