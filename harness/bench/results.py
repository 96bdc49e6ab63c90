"""What the report says about each measure: its table (pure functions from recorded numbers to
a Table) and the JSON form of the per-case and scaling numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from harness.bench.case import FLAT, CaseRecord
from harness.bench.stats import Stats, growth, noise_floor, ratio
from harness.bench.tables import Table, fmt_ms, fmt_pct, fmt_ratio, fmt_s, fmt_us


def assembly_table(records: Sequence[CaseRecord]) -> Table:
    rows = []
    notes: dict[str, str] = {}
    for r in records:
        if not r.assembly:
            continue
        base = next(a["stats"] for a in r.assembly.values() if a["baseline"])
        uv_default = r.assembly.get("uv (default link mode)", {}).get("stats")
        for variant, a in r.assembly.items():
            s = a["stats"]
            assert isinstance(s, Stats) and isinstance(base, Stats)
            phases = a["phases"]
            assert isinstance(phases, Mapping)
            install = phases.get("install")
            notes[variant] = str(a["timed"])
            rows.append(
                (
                    f"{r.case} ({r.wheels} wheels)",
                    r.python,
                    variant,
                    fmt_ms(s.median),
                    fmt_ms(s.min),
                    fmt_ms(s.max),
                    fmt_ms(install.median if isinstance(install, Stats) else None),
                    fmt_ratio(ratio(s.median, base.median)),
                    fmt_ratio(ratio(s.median, uv_default.median))
                    if isinstance(uv_default, Stats)
                    else "-",
                )
            )
    return Table(
        "Assembly: wall time to a ready venv (warm caches)",
        (
            "Case",
            "Python",
            "Variant",
            "Median (ms)",
            "Min (ms)",
            "Max (ms)",
            "of which install (ms)",
            "vs ours",
            "vs uv default",
        ),
        tuple(rows),
        tuple(f"{k}: {v}" for k, v in notes.items()),
    )


def startup_table(records: Sequence[CaseRecord]) -> Table:
    rows = []
    statements = []
    for r in records:
        if not r.startup:
            continue
        statements.append(f'{r.case} ({r.python}): `python -c "{r.statement}"`')
        flat = r.startup[FLAT]
        for variant, why in r.failed.items():
            rows.append((r.case, r.python, variant, "-", "-", "-", "-", "-", f"not timed: {why}"))
        for variant, s in r.startup.items():
            rows.append(
                (
                    r.case,
                    r.python,
                    variant,
                    fmt_ms(s.mean),
                    fmt_ms(s.median),
                    fmt_ms(s.stddev),
                    fmt_ratio(ratio(s.median, flat.median)),
                    "-" if variant == FLAT else fmt_pct(noise_floor(s, flat), signed=False),
                    "-" if variant == FLAT else startup_verdict(s, flat),
                )
            )
    return Table(
        'Startup: `bin/python -c "import <main modules>"` per venv',
        (
            "Case",
            "Python",
            "Venv",
            "Mean (ms)",
            "Median (ms)",
            "± stddev (ms)",
            "vs flat",
            "noise floor",
            "within 5 %",
        ),
        tuple(rows),
        (
            *statements,
            "vs flat = median / flat median; noise floor = 2 × standard error of the "
            "difference of means / flat median (engine-contract.md §9.7): a difference below it is noise",
            "within 5 %: yes when the median is at most 5 % above flat's; noise when it is more "
            "but the excess is below the noise floor (cannot be told apart); no otherwise",
        ),
    )


def startup_verdict(s: Stats, flat: Stats, tolerance: float = 0.05) -> str:
    """The startup target: median within `tolerance` of flat's, judged against the noise."""
    excess = ratio(s.median, flat.median)
    if excess is None or excess - 1 <= tolerance:
        return "yes"
    floor = noise_floor(s, flat)
    return "noise" if floor is not None and excess - 1 <= floor else "no"


def syspath_table(records: Sequence[CaseRecord]) -> Table:
    rows = []
    for r in records:
        for variant, q in r.syspath.items():
            want = r.expected_roots.get(variant)
            met = q["duplicate_realpaths"] == 0 and q["site_packages_roots"] == want
            rows.append(
                (
                    r.case,
                    r.python,
                    variant,
                    str(q["entries"]),
                    str(q["site_packages_roots"]),
                    str(want) if want is not None else "-",
                    str(q["duplicate_realpaths"]),
                    "yes" if met else "no",
                )
            )
    return Table(
        "sys.path quality per venv",
        (
            "Case",
            "Python",
            "Venv",
            "sys.path entries",
            "site-packages roots",
            "target roots",
            "duplicate realpaths",
            "target met",
        ),
        tuple(rows),
        (
            "entries = non-empty sys.path entries; roots = distinct entries containing "
            "`site-packages`; duplicate realpaths = entries − distinct realpaths (engine-contract.md §9.7); "
            "target roots = 1 + the wheels the plan leaves on fallback",
        ),
    )


def scaling_table(scaling: Mapping[str, Mapping[int, Stats]]) -> Table:
    rows = []
    for measure, stats in scaling.items():
        g = growth(stats)
        for size, marginal in zip(g["sizes"], g["marginal_per_item"], strict=True):  # type: ignore[call-overload]
            s = stats[size]
            rows.append(
                (
                    measure,
                    str(size),
                    fmt_ms(s.mean),
                    fmt_ms(s.median),
                    fmt_ms(s.stddev),
                    fmt_us(s.median / size),
                    fmt_us(marginal),
                    f"{g['slope']:.2f}" if g["slope"] is not None else "-",
                )
            )
    return Table(
        "Scaling: synthetic wheel sets",
        (
            "Measure",
            "N",
            "Mean (ms)",
            "Median (ms)",
            "± stddev (ms)",
            "per item (µs)",
            "marginal per item (µs)",
            "log-log slope",
        ),
        tuple(rows),
        (
            "planner = CPU time (process_time) of plan(facts, 'merge') over mixed shapes "
            "(regular, namespace, native, file, mixed/file/regular collisions); materialize = wall "
            "time of assemble(engine=merge) incl. one virtualenv; pth startup = wall time of "
            "`bin/python -c ...` in a pth-engine venv with N fallback lines",
            "slope = least-squares slope of log(median) on log(N): ~1 linear; a fixed overhead "
            "(venv creation, interpreter start) pulls it below 1, so read the marginal cost too: "
            "constant marginal cost = linear growth",
        ),
    )


def matrix_table(matrix: Mapping[str, object], target_seconds: float = 60.0) -> Table:
    s = matrix["stats"]
    assert isinstance(s, Stats)
    statuses = matrix["statuses"]
    assert isinstance(statuses, Mapping)
    pythons = matrix["interpreters"]
    assert isinstance(pythons, Sequence)
    row = (
        f"{matrix['cases']} × {len(pythons)}",
        str(matrix["units"]),
        str(matrix["jobs"]),
        fmt_s(s.mean),
        fmt_s(s.median),
        fmt_s(s.stddev),
        str(s.n),
        ", ".join(f"{k} {v}" for k, v in statuses.items()),
        fmt_ratio(ratio(s.median, target_seconds)),
    )
    return Table(
        "Matrix: whole corpus × every interpreter found, warm",
        (
            "Cases × Pythons",
            "Units",
            "-j",
            "Mean (s)",
            "Median (s)",
            "± stddev (s)",
            "Runs",
            "Results",
            f"vs {target_seconds:.0f} s target",
        ),
        (row,),
        (
            f"interpreters: {', '.join(map(str, pythons))}; each unit builds the flat oracle and "
            "every engine the case runs (merge + its `detects` variants), probes and checks them",
        ),
    )


def case_record_json(record: CaseRecord) -> dict[str, object]:
    return {
        "case": record.case,
        "python": record.python,
        "wheels": record.wheels,
        "statement": record.statement,
        "assembly": record.assembly,
        "startup": record.startup,
        "syspath": record.syspath,
        "expected_site_packages_roots": record.expected_roots,
        "not_timed": record.failed,
    }


def scaling_json(scaling: Mapping[str, Mapping[int, Stats]]) -> dict[str, object]:
    return {
        measure: {"stats": {str(k): v for k, v in stats.items()}, "growth": growth(stats)}
        for measure, stats in scaling.items()
    }
