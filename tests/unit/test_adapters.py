"""The adapter protocol (docs/adapters.md) from the harness's side, with adapters the tests write.

`exec:` adapters are small scripts that build a real (empty) venv, refuse, crash, print garbage
or lie; entry-point adapters come from a tiny third-party wheel installed into a temporary
directory, found by discovery and run through the host subprocess. No pex or uv involved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from installed import installed_env
from packaging.requirements import Requirement

from harness import adapters
from harness.adapters import AdapterError, Outcome, Refused, build, make_request
from harness.adapters._common import ToolFailed, Wheel
from harness.adapters.pex_engines import _pex_warnings, _refuse_or_fail, pex_order
from harness.cases.words import prepare_args
from harness.cli import main
from harness.errors import HarnessError
from harness.supply.interpreters import query
from harness.supply.wheelbuilder import make_wheel, write_wheel


@pytest.fixture(scope="module")
def host():
    return query(sys.executable)


@pytest.fixture
def prepared(tmp_path, monkeypatch, host):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    base = write_wheel(tmp_path / "w", "base-dist", "1.0", {"base_dist/__init__.py": ""})
    top = write_wheel(tmp_path / "w", "top-dist", "2.0", {"top_dist/__init__.py": ""})
    return prepare_args([str(base), str(top)], host)


@pytest.fixture
def request_for(tmp_path, host, prepared):
    def make(engine: str) -> dict:
        run = tmp_path / "run"
        run.mkdir(exist_ok=True)
        support = [prepared[0].label]
        return make_request(engine, None, host, prepared, support, run / "venv", run / "store")

    return make


# --------------------------------------------------------------------------- exec: adapters

PROLOGUE = """\
import json, os, subprocess, sys
req = json.load(sys.stdin)
out = req["out"]
labels = [w["label"] for w in req["wheels"]]
def answer(status, code, **fields):
    body = {"schema": 1, "status": status, "venv": None, "python": None, "message": "",
            "warnings": [], "applied_order": []}
    body.update(fields)
    print(json.dumps(body))
    sys.exit(code)
def make_venv():
    subprocess.run([req["interpreter"]["executable"], "-m", "venv", "--without-pip", out],
                   check=True, stdout=sys.stderr)
"""

BEHAVIOURS = {
    "builds": """
        make_venv()
        answer("built", 0, venv=out, python=os.path.join(out, "bin", "python"),
               message="plain venv", warnings=["nothing installed"], applied_order=labels)
    """,
    "refuses": """
        print("the tool explains itself on stderr", file=sys.stderr)
        answer("refused", 3, message="tool: two wheels collide on pkg/__init__.py")
    """,
    "crashes": """
        print("tool: about to fail", file=sys.stderr)
        raise ZeroDivisionError("the adapter divided by zero")
    """,
    "garbage": """
        print("Installed 2 packages in 3ms")
        print("{ not json")
    """,
    "lies-no-python": """
        os.makedirs(out)
        answer("built", 0, venv=out, python=os.path.join(out, "bin", "python"),
               applied_order=labels)
    """,
    "lies-unknown-label": """
        make_venv()
        answer("built", 0, venv=out, python=os.path.join(out, "bin", "python"),
               applied_order=labels + ["ghost-1.0-py3-none-any.whl"])
    """,
    "lies-exit-status": """
        answer("refused", 0, message="refused, but exits as if built")
    """,
    "sleeps": """
        import time
        time.sleep(60)
    """,
}


def exec_adapter(directory: Path, behaviour: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"adapter-{behaviour}"
    body = textwrap.dedent(BEHAVIOURS[behaviour])
    script.write_text(f"#!{sys.executable}\n{PROLOGUE}{body}", encoding="utf-8")
    script.chmod(0o755)
    return script


def test_exec_adapter_that_builds_a_venv(tmp_path, request_for, prepared):
    engine = f"exec:{exec_adapter(tmp_path / 'bin', 'builds')}"
    request = request_for(engine)
    outcome = build(engine, request)
    assert isinstance(outcome, Outcome)
    assert outcome.status == "built" and outcome.built
    assert outcome.venv == Path(request["out"])
    assert outcome.python == Path(request["out"]) / "bin" / "python"
    assert outcome.python.exists()
    assert outcome.applied_order == tuple(p.label for p in prepared)
    assert outcome.warnings == ("nothing installed",)
    assert outcome.seconds > 0
    assert Path(request["store"]).is_dir()  # created for the adapter before it runs


def test_exec_adapter_that_refuses(tmp_path, request_for):
    engine = f"exec:{exec_adapter(tmp_path / 'bin', 'refuses')}"
    outcome = build(engine, request_for(engine))
    assert outcome.status == "refused"
    assert outcome.message == "tool: two wheels collide on pkg/__init__.py"
    assert outcome.venv is None and outcome.python is None


def test_relative_exec_path_is_taken_from_the_callers_directory(tmp_path, request_for, monkeypatch):
    exec_adapter(tmp_path / "bin", "refuses")
    monkeypatch.chdir(tmp_path)
    outcome = build("exec:bin/adapter-refuses", request_for("exec:bin/adapter-refuses"))
    assert outcome.status == "refused"


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        # a crash: the exit status and the end of its stderr, traceback included
        ("crashes", ["failed with exit status 1", "ZeroDivisionError", "tool: about to fail"]),
        # garbage on stdout: quoted, so the user sees what the adapter printed
        ("garbage", ["not one JSON object", "{ not json"]),
        # built without bin/python: the venv is not a venv
        ("lies-no-python", ["has no bin/python"]),
        # a label the request does not have
        ("lies-unknown-label", ["labels the request does not have", "ghost-1.0-py3-none-any"]),
        # status and exit status disagree
        ("lies-exit-status", ["status 'refused' with exit status 0 (expected 3)"]),
    ],
)
def test_exec_adapter_failures_are_adapter_errors_naming_the_engine(
    tmp_path, request_for, behaviour, expected
):
    engine = f"exec:{exec_adapter(tmp_path / 'bin', behaviour)}"
    with pytest.raises(AdapterError) as caught:
        build(engine, request_for(engine))
    text = str(caught.value)
    assert engine in text
    for fragment in expected:
        assert fragment in text, text


def test_a_hanging_adapter_is_killed_at_the_timeout(tmp_path, request_for):
    engine = f"exec:{exec_adapter(tmp_path / 'bin', 'sleeps')}"
    with pytest.raises(AdapterError, match=r"no answer after 1 s \(killed\)"):
        build(engine, request_for(engine), timeout=1)


def test_exec_path_that_is_not_executable(tmp_path, request_for):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    engine = f"exec:{script}"
    with pytest.raises(AdapterError, match="is not an executable file"):
        build(engine, request_for(engine))


# --------------------------------------------------------------------------- requests


def test_make_request_carries_the_wheels_in_order_with_roles(tmp_path, host, prepared):
    request = make_request(
        "exec:x", "a-case", host, prepared, [prepared[0].label], tmp_path / "v", tmp_path / "s"
    )
    assert request["schema"] == 1 and request["offline"] is True and request["case"] == "a-case"
    assert request["interpreter"]["version"] == ".".join(map(str, host.version))
    assert request["interpreter"]["tags"] == list(host.tags)
    assert [(w["name"], w["version"], w["role"]) for w in request["wheels"]] == [
        ("base-dist", "1.0", "support"),
        ("top-dist", "2.0", "under-test"),
    ]
    for wheel, prep in zip(request["wheels"], prepared, strict=True):
        assert os.path.isabs(wheel["path"]) and wheel["path"].endswith(".whl")
        assert wheel["sha256"] == prep.facts.sha256
        assert Path(wheel["install_tree"], "site-packages").is_dir()
    json.dumps(request)  # plain JSON all the way down


def test_make_request_refuses_support_labels_it_does_not_have(tmp_path, host, prepared):
    with pytest.raises(HarnessError, match="support labels nope"):
        make_request("exec:x", None, host, prepared, ["nope"], tmp_path / "v", tmp_path / "s")


def test_build_refuses_an_out_directory_that_exists(tmp_path, request_for):
    engine = f"exec:{exec_adapter(tmp_path / 'bin', 'builds')}"
    request = request_for(engine)
    Path(request["out"]).mkdir()
    with pytest.raises(HarnessError, match="must not exist yet"):
        build(engine, request)


def test_is_external():
    assert adapters.is_external("exec:/anything")
    assert not adapters.is_external("merge")
    assert not adapters.is_external("no-such-engine-anywhere")


# --------------------------------------------------------------------------- entry points

TOY_ENGINES = '''\
"""Toy engines for the harness's adapter tests."""
import os, subprocess
from harness.adapters import Refused

def build(request):
    """A plain venv, nothing installed (the toy engine)."""
    out = request["out"]
    print("noise on stdout that must not spoil the answer")
    subprocess.run([request["interpreter"]["executable"], "-m", "venv", "--without-pip", out],
                   check=True)
    return {"status": "built", "venv": out, "python": os.path.join(out, "bin", "python"),
            "applied_order": [w["label"] for w in request["wheels"]]}

def refuse(request):
    """Always refuses."""
    raise Refused("toy tool: pkg/__init__.py collides", warnings=["checked 2 wheels"])

def crash(request):
    """Always crashes."""
    raise RuntimeError("toy adapter exploded")
'''

TOY_MISSING = '''\
"""An engine whose tool is not installed."""

def available():
    return "toy-tool is not installed (pip install toy-tool)"

def build(request):
    raise AssertionError("never called: the host checks available() first")
'''


@pytest.fixture(scope="module")
def third_party(tmp_path_factory):
    """A third-party adapter distribution installed into its own directory; the environment
    that makes it visible (PYTHONPATH) to subprocesses."""
    root = tmp_path_factory.mktemp("third-party")
    wheel = root / "toy_engines-1.0-py3-none-any.whl"
    wheel.write_bytes(
        make_wheel(
            "toy-engines",
            "1.0",
            {"toy_engines.py": TOY_ENGINES, "toy_missing_tool.py": TOY_MISSING},
            entry_points={
                "harness.engines": {
                    "toy": "toy_engines:build",
                    "toy-refuses": "toy_engines:refuse",
                    "toy-crashes": "toy_engines:crash",
                    "toy-missing": "toy_missing_tool:build",
                }
            },
        )
    )
    return installed_env(wheel, root)


def test_third_party_adapter_is_listed_by_harness_engines(third_party):
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "engines", "--json"],
        env=third_party,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = {row["name"]: row for row in json.loads(done.stdout)["engines"]}
    toy = listed["toy"]
    assert (toy["kind"], toy["source"], toy["available"]) == (
        "adapter",
        "entry point toy-engines",
        True,
    )
    assert toy["description"] == "A plain venv, nothing installed (the toy engine)."
    missing = listed["toy-missing"]
    assert missing["available"] is False
    assert missing["why_unavailable"] == "toy-tool is not installed (pip install toy-tool)"
    assert {"merge", "whole-tree", "pth", "flat"} <= set(listed)
    assert listed["merge"]["kind"] == "in-process"


def test_third_party_adapter_builds_through_the_host(third_party, request_for, prepared):
    request = request_for("toy")
    outcome = build("toy", request, env=third_party)
    assert outcome.status == "built"
    assert outcome.python == Path(request["out"]) / "bin" / "python"
    assert outcome.applied_order == tuple(p.label for p in prepared)
    assert outcome.message == "" and outcome.warnings == ()  # filled in by the host


def test_third_party_refusal_through_the_host(third_party, request_for):
    outcome = build("toy-refuses", request_for("toy-refuses"), env=third_party)
    assert outcome.status == "refused"
    assert outcome.message == "toy tool: pkg/__init__.py collides"
    assert outcome.warnings == ("checked 2 wheels",)


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("toy-crashes", "RuntimeError: toy adapter exploded"),
        ("toy-missing", "engine 'toy-missing' is not available: toy-tool is not installed"),
        ("toy-nonexistent", "no adapter named 'toy-nonexistent'"),
    ],
)
def test_third_party_failures_through_the_host(third_party, request_for, engine, expected):
    with pytest.raises(AdapterError) as caught:
        build(engine, request_for(engine), env=third_party)
    assert f"engine {engine!r}" in str(caught.value)
    assert expected in str(caught.value)


def test_refused_carries_what_happened_before():
    refusal = Refused("no", warnings=["w"], applied_order=["a"])
    assert (str(refusal), refusal.warnings, refusal.applied_order) == ("no", ("w",), ("a",))


# --------------------------------------------------------------------------- built-ins


def test_builtin_adapters_are_declared_as_entry_points(capsys):
    found = adapters.discover()
    for name in ("uv-symlink", "uv", "pex-venv", "pex3-venv", "pex3-venv-collisions-ok"):
        assert found[name].source == "built-in adapter", name
        assert found[name].description
        assert found[name].available or found[name].why_unavailable
        assert adapters.is_external(name)
    assert main(["engines"]) == 0
    text = capsys.readouterr().out
    assert "merge" in text and "uv-symlink" in text


def _wheel(label: str, name: str, version: str = "1.0") -> Wheel:
    return Wheel(label, name, version, "under-test", Path(f"/w/{label}.whl"), "")


def test_pex_order_is_sorted_roots_each_before_its_dependencies_depth_first():
    # why: pex resolves PEX-INFO's requirements (sorted as strings) in order, each one before
    # its dependencies; a name already resolved is skipped, an excluded one never resolved,
    # and a dependency whose marker is false for the target is not followed.
    wheels = [_wheel("z", "zipp"), _wheel("a", "alpha"), _wheel("b", "beta"), _wheel("c", "core")]
    requires = {
        "a": [Requirement("core>=1"), Requirement("missing"), Requirement("zipp; extra == 'x'")],
        "c": [Requirement("zipp; python_version >= '3'")],
        "b": [Requirement("zipp")],
    }
    env = {"python_version": "3.11", "python_full_version": "3.11.7"}
    roots = ["alpha==1.0", "beta==1.0", "core==1.0", "zipp==1.0"]
    assert pex_order(roots, wheels, {"missing"}, requires, env) == ["a", "c", "z", "b"]


def test_pex_warnings_are_read_from_pythons_warning_display():
    stderr = (
        "/x/pex/venv/installer.py:293: PEXWarning: Encountered collisions populating /v:\n"
        "1. /v/a.py was provided by:\n"
        "\tsha1:1 -> /r/one/a.py\n"
        "  pex_warnings.warn(message)\n"
    )
    assert _pex_warnings(stderr) == [
        "pex: Encountered collisions populating /v:\n1. /v/a.py was provided by:\n"
        "\tsha1:1 -> /r/one/a.py"
    ]


@pytest.mark.parametrize(
    ("stderr", "refused"),
    [
        # one collision is "collision", several "collisions": both are pex refusing the set
        ("Encountered collision populating /v from resolved requirements:\n1. /v/bin/x", True),
        ("Encountered collisions populating /v from resolved requirements:\n1. ...", True),
        ("Dependency on protobuf not satisfied, 2 incompatible candidates found:", True),
        # anything else is the tool failing, not refusing: an adapter error
        ("Traceback (most recent call last):\nOSError: [Errno 28] No space left", False),
    ],
)
def test_pex_failures_are_refusals_only_when_pex_refuses_the_set(stderr, refused):
    done = subprocess.CompletedProcess(["pex3"], 1, stdout="", stderr=stderr)
    expected = Refused if refused else ToolFailed
    with pytest.raises(expected) as caught:
        _refuse_or_fail("pex3 venv create", done)
    assert stderr in str(caught.value)
