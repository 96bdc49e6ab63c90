"""The built-in pex and uv adapters across the corpus, judged by the same runner as `harness run`.

Every corpus case on the default interpreter (the one running pytest) × each engine, one
`runner.Unit(case, interp, (engine,))` per parameter: the flat oracle, then the engine's venv,
observed and judged from facts. What each engine must do is reasoned from how the tool installs
(docs/adapters.md, reference/external-engines.md) and the import system, never from a previous
run: uv and `pex3 venv create` are per-file installs into one site-packages, so wherever they
build they must agree with the flat oracle; the `--venv` PEX projects whole top-levels, first
claimant wins, which the checks must catch. Skips, with the reason: an adapter whose tool is
not installed, a case the interpreter is outside of, a slow case without HARNESS_SLOW=1.
"""

from __future__ import annotations

import functools

import pytest

from harness import adapters
from harness.cases import discover_cases
from harness.config import env_flag
from harness.run import report, runner
from harness.supply.interpreters import resolve

pytestmark = pytest.mark.e2e

INTERP = resolve("default")
CASES = {case.name: case for case in discover_cases()}
FLAT_LIKE = ("uv", "uv-symlink")
AZURE = "spanning-regular-azure-core-tracing"
JWT = "regular-merge-jwt-pyjwt-jwt"
# pex-venv on the whole corpus took about 100 s here (80 s of it pex, the rest the oracles),
# more than the rest of this file, so it runs on the shapes where pex's own rules act: a
# top-level the first claimant takes whole (azure, jwt, google beside protobuf's native code),
# two versions of one distribution (pex refuses), a wheel pex would drop silently (the adapter
# refuses), one file under two labels (installed once).
PEX_VENV_CASES = (
    AZURE,
    JWT,
    "two-versions-protobuf-5-6",
    "duplicate-metadata-pydantic-core-manylinux-musllinux",
    "file-top-level-six-twice",
    "native-overlay-protobuf-google",
)


@functools.cache
def _results(case_name: str, engine: str) -> tuple[runner.Result, ...]:
    """One unit, run once per process even when two tests look at it."""
    unit = runner.Unit(CASES[case_name], INTERP, (engine,), slow_ok=True)
    return tuple(runner.run_unit(unit))


def run(case_name: str, engine: str) -> tuple[runner.Result, ...]:
    """The engine's results on the case, or a skip with the reason it cannot run here."""
    info = adapters.discover().get(engine)
    assert info is not None, f"{engine} is not registered: reinstall the harness (pip install -e .)"
    if not info.available:
        pytest.skip(f"{engine}: {info.why_unavailable}")
    case = CASES[case_name]
    if not case.supports(INTERP.version):
        pytest.skip(f"{case.name} supports Python {case.python}")
    if case.slow and not env_flag("HARNESS_SLOW"):
        pytest.skip("slow case: set HARNESS_SLOW=1")
    results = _results(case_name, engine)
    # why: a unit yields exactly one result per engine it was given, and it was given one.
    assert [r.engine for r in results] == [engine], "\n" + report.details(results)
    return results


def rules_of(result: runner.Result) -> set[tuple[str, str]]:
    return {(f.rule, f.subject) for f in result.findings}


@pytest.mark.parametrize("engine", FLAT_LIKE)
@pytest.mark.parametrize("case_name", CASES)
def test_uv_is_a_flat_install(case_name, engine):
    results = run(case_name, engine)
    for r in results:
        # why: uv installs one wheel per command, in wheel order, file by file, and a later file
        # replaces an earlier one as with pip: that is the flat oracle, so wherever uv builds
        # the result is a pass; where it refuses (a wheel for another platform), the case must
        # accept the refusal (`ok`). A skip here would be a vacuous pass: not allowed.
        assert r.ok and r.status in ("pass", "refused"), "\n" + report.details(results)


@pytest.mark.parametrize("case_name", CASES)
def test_pex3_venv_passes_or_refuses(case_name):
    results = run(case_name, "pex3-venv")
    for r in results:
        # why: pex3 venv create installs every file of every wheel into one site-packages and
        # refuses any shared path whose bytes differ, so wherever it builds no file was
        # contested and the venv is the flat install; where it refuses, the case must accept it.
        assert r.status == "pass" or (r.status == "refused" and r.refusal_accepted), (
            "\n" + report.details(results)
        )


@pytest.mark.parametrize("case_name", PEX_VENV_CASES)
def test_pex_venv_builds_or_refuses(case_name):
    results = run(case_name, "pex-venv")
    # why: the adapter drives pex offline from the exact files and turns each refusal pex makes
    # into a refusal, so on every case it builds a venv the harness can judge or refuses:
    # an error would mean the adapter or the harness broke, not the engine.
    assert not [r for r in results if r.status == "error"], "\n" + report.details(results)


def test_pex_venv_hides_the_regular_azure_core_behind_the_plugins_namespace():
    (result,) = run(AZURE, "pex-venv")
    # why: PEX-INFO's requirements sort as strings, `azure-core-tracing-opentelemetry==` before
    # `azure-core==` ('-' < '='), so the plugin claims the top-level azure first and pex
    # projects it whole; azure-core goes to pex-ns-pkgs/, where runtime finds its regular
    # azure/core/__init__.py while the concrete azure/core is the plugin's namespace
    # directory: concrete and runtime disagree on azure.core (A1).
    assert result.status == "fail", "\n" + report.details([result])
    assert ("A1", "azure.core") in rules_of(result), "\n" + report.details([result])


def test_pex3_venv_collisions_ok_keeps_the_first_wheels_jwt_files():
    (result,) = run(JWT, "pex3-venv-collisions-ok")
    rules = rules_of(result)
    # why: with --collisions-ok pex keeps the first wheel's copy of a shared file, so
    # jwt/exceptions.py is PyJWT's, which has no InvalidKeyTypeError, and jwt 1.4.0's own
    # jwa.py imports that name: the case's real import of jwt.jwa fails.
    assert result.status == "fail", "\n" + report.details([result])
    assert ("import", "jwt.jwa") in rules, "\n" + report.details([result])
    # why: the same rule keeps PyJWT's jwt/__init__.py, while the case expects jwt 1.4.0's
    # (the later wheel's, as a flat install leaves it) to run for `import jwt`.
    assert ("expect-module", "jwt") in rules, "\n" + report.details([result])
