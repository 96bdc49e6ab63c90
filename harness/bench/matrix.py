"""The matrix: wall time of the whole corpus × interpreters through `runner.run_units`, warm."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.bench.stats import Stats
from harness.model import Interpreter

if TYPE_CHECKING:
    from harness.cases.case import Case


def bench_matrix(
    cases: Sequence[Case], interpreters: Sequence[Interpreter], jobs: int, runs: int = 1
) -> dict[str, object]:
    """Wall time of the whole corpus × interpreters through `runner.run_units`, warm."""
    from harness import supply
    from harness.run import runner

    units = []
    for case in cases:
        for interp in interpreters:
            units.append(runner.Unit(case, interp, runner.engines_for(case, "merge")))
            if case.supports(interp.version):
                supply.prepare([*case.support, *case.wheels], interp)
    samples = []
    statuses: dict[str, int] = {}
    for _ in range(runs):
        start = time.perf_counter()
        results = runner.run_units(units, jobs=jobs)
        samples.append(time.perf_counter() - start)
        statuses = {}
        for result in results:
            statuses[result.status] = statuses.get(result.status, 0) + 1
    return {
        "cases": len(cases),
        "interpreters": [".".join(map(str, i.version)) for i in interpreters],
        "units": len(units),
        "jobs": jobs,
        "stats": Stats.of(samples),
        "statuses": dict(sorted(statuses.items())),
    }
