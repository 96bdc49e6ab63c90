"""Benchmarks: assembly against uv and pip, startup against a flat venv, sys.path quality,
scaling of the planner, the materializer and the `.pth` fallback, and the matrix wall time.

The measuring functions run real subprocesses and real venvs; everything that turns samples into
numbers and numbers into tables is a pure function, so `tests/unit/test_bench.py` can check the
arithmetic and the rendering on known inputs. Performance itself is never asserted by a test:
it is what `harness bench` reports (engine-contract.md §9.7: the upstream methodology this
follows).

Noise handling, because the numbers are taken on shared machines: every variant is warmed up
untimed first (caches, page cache, virtualenv's interpreter query), timed runs are interleaved
round-robin with the order rotated each round (so a burst of load hits every variant alike),
tables report the median next to the mean and sample standard deviation, and startup ratios
come with the seed's noise floor (2 × the standard error of the difference of means).

One idea per module, every public name re-exported here (`from harness import bench; bench.X`):

- `stats`      the arithmetic: mean, median, stddev, ratios, noise floor, growth (pure)
- `processes`  timed subprocesses: clean environment, run_command, the interleaved schedule
- `users`      `--as-user`: RunAs, resolving the user, handing venvs over, reachability
- `scratch`    the work directory and removing what a timed run wrote
- `tables`     Table, the cell formats and the markdown/JSON renderers (pure)
- `machine`    the machine description and where uv is
- `synthetic`  seeded synthetic wheel sets, their facts, `.whl` files, private trees
- `startup`    the startup statement and the sys.path quality probe
- `assembly`   assembly variants (ours, uv, pip) and timing them
- `case`       one case on one interpreter → CaseRecord
- `scaling`    planner, materializer and `.pth` startup over synthetic sets
- `matrix`     the whole corpus × interpreters through the runner
- `results`    each measure's table and JSON form (pure)

`harness.commands.bench` imports this package only inside `run`, so `harness --help` does not
pay for it.
"""

from __future__ import annotations

from harness.bench.assembly import Variant, assembly_variants, measure_assembly, time_assembly
from harness.bench.case import (
    FLAT,
    CaseRecord,
    CaseVenvs,
    RuntimeNumbers,
    bench_case,
    build_venvs,
    measure_runtime,
)
from harness.bench.machine import find_uv, machine_description
from harness.bench.matrix import bench_matrix
from harness.bench.processes import clean_env, command_error, interleaved, run_command
from harness.bench.results import (
    assembly_table,
    case_record_json,
    matrix_table,
    scaling_json,
    scaling_table,
    startup_table,
    startup_verdict,
    syspath_table,
)
from harness.bench.scaling import (
    MATERIALIZE_SIZES,
    PLANNER_SIZES,
    PTH_SIZES,
    bench_scaling,
    time_materialize,
    time_planner,
    time_pth_startup,
)
from harness.bench.scratch import new_workdir
from harness.bench.startup import (
    SYSPATH_CODE,
    Statement,
    importable_names,
    split_working,
    startup_statement,
    syspath_quality,
    time_startup,
)
from harness.bench.stats import (
    Stats,
    growth,
    loglog_slope,
    marginal_costs,
    mean,
    median,
    noise_floor,
    ratio,
    stddev,
)
from harness.bench.synthetic import (
    GROUP,
    NATIVE_SUFFIX,
    SHAPES,
    SyntheticWheel,
    prepare_local,
    synthetic_facts,
    synthetic_set,
    write_synthetic_wheels,
)
from harness.bench.tables import (
    Table,
    fmt_ms,
    fmt_pct,
    fmt_ratio,
    fmt_s,
    fmt_us,
    render_json,
    render_markdown,
    render_table,
)
from harness.bench.users import RunAs, first_unreachable, hand_over, hand_over_all, resolve_user

MEASURES = ("assembly", "startup", "syspath", "scaling", "matrix")

__all__ = [
    "FLAT",
    "GROUP",
    "MATERIALIZE_SIZES",
    "MEASURES",
    "NATIVE_SUFFIX",
    "PLANNER_SIZES",
    "PTH_SIZES",
    "SHAPES",
    "SYSPATH_CODE",
    "CaseRecord",
    "CaseVenvs",
    "RunAs",
    "RuntimeNumbers",
    "Statement",
    "Stats",
    "SyntheticWheel",
    "Table",
    "Variant",
    "assembly_table",
    "assembly_variants",
    "bench_case",
    "bench_matrix",
    "bench_scaling",
    "build_venvs",
    "case_record_json",
    "clean_env",
    "command_error",
    "find_uv",
    "first_unreachable",
    "fmt_ms",
    "fmt_pct",
    "fmt_ratio",
    "fmt_s",
    "fmt_us",
    "growth",
    "hand_over",
    "hand_over_all",
    "importable_names",
    "interleaved",
    "loglog_slope",
    "machine_description",
    "marginal_costs",
    "matrix_table",
    "mean",
    "measure_assembly",
    "measure_runtime",
    "median",
    "new_workdir",
    "noise_floor",
    "prepare_local",
    "ratio",
    "render_json",
    "render_markdown",
    "render_table",
    "resolve_user",
    "run_command",
    "scaling_json",
    "scaling_table",
    "split_working",
    "startup_statement",
    "startup_table",
    "startup_verdict",
    "stddev",
    "synthetic_facts",
    "synthetic_set",
    "syspath_quality",
    "syspath_table",
    "time_assembly",
    "time_materialize",
    "time_planner",
    "time_pth_startup",
    "time_startup",
    "write_synthetic_wheels",
]
