"""A third-party engine, installed as a package, runs a corpus through `harness run` unchanged.

The adapter distribution is written here the way an outsider would write it: one module, two
entry points in the group `harness.engines`, no import from the harness. It makes a real venv
(`python -m venv --without-pip` with the request's interpreter) and installs the request's wheel
files into its site-packages with pypa/installer, pip-like: one wheel after another, a later
file replacing an earlier one. `reversed` does the same in the reverse order. The wheel is built
here, installed with pypa/installer into a temporary directory and put on PYTHONPATH for the
`harness` subprocesses, exactly as `pip install` would make it visible; the corpus is two small
cases of case-built (`[wheels.synthetic]`) wheels, so everything runs offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from installed import installed_env

from harness.supply.wheelbuilder import make_wheel

DIST = "pip-like-engines"
IN_ORDER = "pip-like"
REVERSED = "pip-like-reversed"

ADAPTER = '''\
"""A pip-like engine: a plain venv, each wheel installed with pypa/installer."""
import json
import os
import subprocess
import sys

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile


class ReplacingDestination(SchemeDictionaryDestination):
    """installer refuses to overwrite a file; pip replaces it: so does this engine."""

    def write_to_fs(self, scheme, path, stream, is_executable):
        target = os.path.join(self.scheme_dict[scheme], path)
        if os.path.lexists(target) and not os.path.isdir(target):
            os.unlink(target)
        return super().write_to_fs(scheme, path, stream, is_executable)


def _install(request, wheels):
    out = request["out"]
    subprocess.run(
        [request["interpreter"]["executable"], "-m", "venv", "--without-pip", out], check=True
    )
    python = os.path.join(out, "bin", "python")
    asked = "import json, sys, sysconfig; print(json.dumps([sysconfig.get_path('purelib'), "
    asked += "'%d.%d' % sys.version_info[:2]]))"
    done = subprocess.run([python, "-c", asked], check=True, capture_output=True, text=True)
    site, short = json.loads(done.stdout)
    for wheel in wheels:
        scheme = {
            "purelib": site,
            "platlib": site,
            "scripts": os.path.join(out, "bin"),
            "headers": os.path.join(out, "include", "site", "python" + short, wheel["name"]),
            "data": out,
        }
        destination = ReplacingDestination(scheme, interpreter=python, script_kind="posix")
        with WheelFile.open(wheel["path"]) as source:
            install(source, destination, {"INSTALLER": b"pip-like-engines\\n"})
        print("installed", wheel["label"], file=sys.stderr)
    return {
        "status": "built",
        "venv": out,
        "python": python,
        "message": "%d wheels installed" % len(wheels),
        "applied_order": [w["label"] for w in wheels],
    }


def build(request):
    """Every wheel in the request's order, a later file replacing an earlier one, as pip."""
    return _install(request, request["wheels"])


def build_reversed(request):
    """Every wheel in the reverse of the request's order (a deliberately wrong engine)."""
    return _install(request, list(reversed(request["wheels"])))
'''

# Two wheels ship the regular package `overlay` with different files: both an __init__.py and a
# shared.py, each a module of its own. A flat install overlays the two trees in wheel order.
OVERLAY = """\
description = "two distributions ship the regular package overlay/: both have __init__.py and shared.py (different bytes), each has one module of its own"
imports = ["overlay.shared", "overlay.only_first", "overlay.only_second"]

[[wheels]]
name = "overlay-first"
version = "1.0"
[wheels.synthetic]
files = { "overlay/__init__.py" = "FROM = 'first'\\n", "overlay/shared.py" = "WHO = 'first'\\n", "overlay/only_first.py" = "A = 1\\n" }

[[wheels]]
name = "overlay-second"
version = "1.0"
[wheels.synthetic]
files = { "overlay/__init__.py" = "FROM = 'second'\\n", "overlay/shared.py" = "WHO = 'second'\\n", "overlay/only_second.py" = "B = 2\\n" }

[[expect.module]]
name = "overlay"
owner = "overlay-second"
explanation = "both wheels write overlay/__init__.py and the later wheel's file replaces the earlier one"

[[expect.module]]
name = "overlay.shared"
owner = "overlay-second"
explanation = "both wheels write overlay/shared.py and the later wheel's file replaces the earlier one"

[[expect.module]]
name = "overlay.only_first"
owner = "overlay-first"
explanation = "only the first wheel ships it, and an overlay deletes nothing, so it stays in overlay/'s one __path__ entry"

[[expect.module]]
name = "overlay.only_second"
owner = "overlay-second"
explanation = "only the second wheel ships it, in the one directory that is overlay's __path__"
"""

# Two portions of one PEP 420 namespace, no file in common: the order cannot change any file.
PORTIONS = """\
description = "two distributions each ship one regular package under the PEP 420 namespace ns/; no file in common"
imports = ["ns.alpha", "ns.beta"]

[[wheels]]
name = "ns-alpha"
version = "1.0"
[wheels.synthetic]
files = { "ns/alpha/__init__.py" = "A = 1\\n" }

[[wheels]]
name = "ns-beta"
version = "1.0"
[wheels.synthetic]
files = { "ns/beta/__init__.py" = "B = 2\\n" }

[[expect.module]]
name = "ns.alpha"
owner = "ns-alpha"
explanation = "ns has no __init__.py, so its namespace __path__ covers site-packages/ns, where alpha/ is"

[[expect.module]]
name = "ns.beta"
owner = "ns-beta"
explanation = "the same namespace directory holds beta/, from the other wheel"
"""

CASES = {"overlay-regular-synthetic": OVERLAY, "namespace-portions-synthetic": PORTIONS}


@pytest.fixture(scope="module")
def third_party(tmp_path_factory):
    """The adapter distribution installed into its own directory; the environment that makes
    it and the synthetic corpus visible to `harness` subprocesses (offline, own caches)."""
    root = tmp_path_factory.mktemp("pip-like-engines")
    wheel = root / "pip_like_engines-1.0-py3-none-any.whl"
    wheel.write_bytes(
        make_wheel(
            DIST,
            "1.0",
            {"pip_like_engines.py": ADAPTER},
            entry_points={
                "harness.engines": {
                    IN_ORDER: "pip_like_engines:build",
                    REVERSED: "pip_like_engines:build_reversed",
                }
            },
        )
    )
    env = installed_env(wheel, root)
    env["HARNESS_WHEELS_CACHE"] = str(root / "cache")
    env["HARNESS_TREES"] = str(root / "trees")
    env["HARNESS_OFFLINE"] = "1"  # synthetic wheels are built, never downloaded
    return env


@pytest.fixture(scope="module")
def cases_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    for name, text in CASES.items():
        (root / name).mkdir()
        (root / name / "case.toml").write_text(text, encoding="utf-8")
    return root


def harness(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(third_party, cases_dir) -> dict[str, tuple[int, list[dict], str]]:
    """`harness run` of both cases under each engine: (exit status, results, stderr)."""
    out = {}
    for engine in (IN_ORDER, REVERSED):
        done = harness(
            third_party,
            "run",
            *CASES,
            "--cases-dir",
            str(cases_dir),
            "--engine",
            engine,
            "-j",
            "1",
            "--json",
            "-",
        )
        doc = json.loads(done.stdout) if done.stdout.strip() else {"results": []}
        out[engine] = (done.returncode, doc["results"], done.stderr)
    return out


def results_for(runs, engine: str) -> dict[str, dict]:
    _, results, stderr = runs[engine]
    mine = {r["case"]: r for r in results if r["engine"] == engine}
    # why: one case directory is one unit; each unit yields one result per engine asked for.
    assert set(mine) == set(CASES), stderr
    return mine


def test_the_installed_adapters_are_listed(third_party):
    done = harness(third_party, "engines", "--json")
    assert done.returncode == 0, done.stderr
    listed = {row["name"]: row for row in json.loads(done.stdout)["engines"]}
    for name in (IN_ORDER, REVERSED):
        # why: discovery reads every installed distribution's entry points of the group, and
        # PYTHONPATH puts this one's dist-info on sys.path, where importlib.metadata looks.
        assert listed[name]["kind"] == "adapter", listed.get(name)
        # why: not declared by the harness's own distribution, so named by the one that does.
        assert listed[name]["source"] == f"entry point {DIST}"
        # why: the module defines no available(), so nothing says the tool is missing.
        assert listed[name]["available"] is True
    # why: the description is the first docstring paragraph of the entry point's callable.
    assert listed[REVERSED]["description"].startswith("Every wheel in the reverse")


def test_an_in_order_pip_like_install_passes_every_case(runs):
    status, _, stderr = runs[IN_ORDER]
    # why: exit 0 means every result is ok; a pip-like in-order install is the flat oracle's
    # own definition (each wheel in order, a later file replacing an earlier one), so no
    # check can find a difference.
    assert status == 0, stderr
    for case, result in results_for(runs, IN_ORDER).items():
        # why: the same reasoning per case; `pass` and not `refused`/`skip`: it built and agreed.
        assert result["status"] == "pass", (case, result["findings"], result["detail"])
        # why: the engine reported the request's order, so the harness has no order to warn of.
        assert not any("its own order" in w for w in result["warnings"]), result["warnings"]


def test_a_reverse_order_install_fails_the_overlay_case(runs):
    status, _, stderr = runs[REVERSED]
    # why: a failing result makes `harness run` exit 1 (findings), not 0 nor 2 (usage).
    assert status == 1, stderr
    overlay = results_for(runs, REVERSED)["overlay-regular-synthetic"]
    # why: installed last, the first wheel's __init__.py and shared.py replace the second's,
    # so runtime binds files of another owner than in the flat install.
    assert overlay["status"] == "fail", overlay
    rules = {(f["rule"], f["subject"]) for f in overlay["findings"]}
    # why: [[expect.module]] with an owner applies to every engine; overlay.shared now binds
    # overlay-first's shared.py, not overlay-second's.
    assert ("expect-module", "overlay.shared") in rules, rules
    # why: the package `overlay` runs overlay-first's __init__.py here and overlay-second's
    # in the flat install, and the case declares no such difference (A5); its submodules'
    # differences are reported under it.
    assert ("A5", "overlay") in rules, rules
    # why: each side's own module still sits in the one overlay/ directory: the reverse order
    # changes which shared file wins, it loses no file.
    assert not any(s in ("overlay.only_first", "overlay.only_second") for _, s in rules), rules
    # why: the engine answered with the order it really used, which is not the request's.
    assert any("its own order" in w for w in overlay["warnings"]), overlay["warnings"]


def test_a_reverse_order_install_passes_where_no_file_is_shared(runs):
    portions = results_for(runs, REVERSED)["namespace-portions-synthetic"]
    # why: with no path written by both wheels, every order leaves the same files, so the
    # harness judges the reverse install equal to the flat one: it judges files, not order.
    assert portions["status"] == "pass", (portions["findings"], portions["detail"])
