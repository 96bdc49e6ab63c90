"""The corpus as pytest tests: every case × interpreter through the same runner as `harness run`.

Interpreters come from HARNESS_PYTHONS (comma-separated specs, e.g. `3.9,3.13`; default `all`:
every CPython `harness pythons` finds, so the test command is a matrix run; `default` = the
interpreter running pytest). Each parameter runs the case under the engine under
test and under every variant it `detects`, and fails with the findings rendered in full.
"""

from __future__ import annotations

import os

import pytest

from harness.cases import discover_cases
from harness.config import env_flag
from harness.run import report, runner
from harness.supply.interpreters import resolve_many

pytestmark = pytest.mark.e2e

CASES = discover_cases()
INTERPRETERS = resolve_many([s for s in os.environ.get("HARNESS_PYTHONS", "all").split(",") if s])


@pytest.mark.parametrize("interpreter", INTERPRETERS, ids=lambda i: ".".join(map(str, i.version)))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case, interpreter):
    if not case.supports(interpreter.version):
        pytest.skip(f"{case.name} supports Python {case.python}")
    if case.slow and not env_flag("HARNESS_SLOW"):
        pytest.skip("slow case: set HARNESS_SLOW=1")
    unit = runner.Unit(case, interpreter, runner.engines_for(case, "merge"), slow_ok=True)
    results = runner.run_unit(unit)
    assert results, "the runner returned no result"
    bad = [r for r in results if not r.ok]
    assert not bad, "\n" + report.details(results)
    assert {r.engine for r in results} == {"merge", *case.detects}
