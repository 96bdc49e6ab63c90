"""The benchmark's arithmetic, renderers and synthetic sets, plus a tiny `bench --only scaling`.

Nothing here times anything on purpose: performance is what `harness bench` reports, never what
a test asserts. The end-to-end test only checks the report's shape on minimal sizes.
"""

from __future__ import annotations

import json
import math
import os
import pwd
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import bench
from harness.bench import Stats
from harness.cli import main
from harness.commands.bench import MEASURES, parse_only, parse_sizes
from harness.engine.plan import plan
from harness.errors import HarnessError
from harness.facts import facts_from_paths

# --------------------------------------------------------------------------- statistics


def test_median_odd_and_even() -> None:
    assert bench.median([3.0, 1.0, 2.0]) == 2.0  # the middle of 1, 2, 3
    assert bench.median([4.0, 1.0, 3.0, 2.0]) == 2.5  # the mean of the two middle values


def test_mean_and_sample_stddev() -> None:
    samples = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    assert bench.mean(samples) == 5.0
    # squared deviations sum to 32; the sample variance divides by n - 1 = 7
    assert bench.stddev(samples) == pytest.approx(math.sqrt(32 / 7))
    assert bench.stddev([1.5]) == 0.0  # one sample has no spread


def test_empty_samples_are_refused() -> None:
    with pytest.raises(ValueError):
        bench.median([])
    with pytest.raises(ValueError):
        bench.mean([])


def test_ratio() -> None:
    assert bench.ratio(3.0, 2.0) == 1.5
    assert bench.ratio(1.0, 0.0) is None  # nothing to compare with


def test_stats_of_keeps_samples_in_order() -> None:
    s = Stats.of([0.3, 0.1, 0.2])
    assert (s.n, s.min, s.max, s.median) == (3, 0.1, 0.3, 0.2)
    assert s.samples == (0.3, 0.1, 0.2)


@pytest.mark.parametrize(("power", "slope"), [(1, 1.0), (2, 2.0), (0.5, 0.5)])
def test_loglog_slope_recovers_the_exponent(power: float, slope: float) -> None:
    sizes = [10, 100, 1000, 5000]
    values = [3e-6 * n**power for n in sizes]  # the constant factor does not change the slope
    assert bench.loglog_slope(sizes, values) == pytest.approx(slope)


def test_loglog_slope_needs_two_positive_points() -> None:
    assert bench.loglog_slope([10], [1.0]) is None
    assert bench.loglog_slope([10, 100], [0.0, 1.0]) is None  # log(0) is skipped: one point left


def test_marginal_costs_are_constant_for_linear_growth_with_overhead() -> None:
    # 50 ms fixed + 2 ms per item: the slope of totals is below 1, the marginal cost is 2 ms
    sizes = [10, 100, 1000]
    totals = [0.05 + 0.002 * n for n in sizes]
    costs = bench.marginal_costs(sizes, totals)
    assert costs[0] is None
    assert costs[1:] == [pytest.approx(0.002), pytest.approx(0.002)]
    assert bench.loglog_slope(sizes, totals) < 0.95


def test_noise_floor_is_twice_the_standard_error_of_the_difference() -> None:
    a = Stats(n=4, mean=1.0, median=1.0, stddev=2.0, min=0, max=2)
    b = Stats(n=4, mean=1.0, median=100.0, stddev=2.0, min=0, max=2)
    # sqrt(2²/4 + 2²/4) = sqrt(2); twice that, over the baseline median of 100
    assert bench.noise_floor(a, b) == pytest.approx(2 * math.sqrt(2) / 100)


def test_startup_verdict() -> None:
    flat = Stats.of([0.100, 0.101, 0.099, 0.100])
    assert bench.startup_verdict(Stats.of([0.104, 0.104, 0.104, 0.104]), flat) == "yes"  # +4 %
    assert bench.startup_verdict(Stats.of([0.130, 0.130, 0.131, 0.129]), flat) == "no"  # +30 %
    noisy = Stats.of([0.06, 0.20, 0.11, 0.10, 0.14])  # median +10 %, spread far larger
    assert bench.startup_verdict(noisy, flat) == "noise"


def test_interleaved_warms_up_then_rotates_the_order() -> None:
    calls: list[str] = []

    def action(name: str):
        def run() -> float:
            calls.append(name)
            return float(len(calls))

        return run

    samples = bench.interleaved({"a": action("a"), "b": action("b")}, runs=2, warmup=1)
    # warmup a b; round 0 a b; round 1 rotated: b a
    assert calls == ["a", "b", "a", "b", "b", "a"]
    assert samples == {"a": [3.0, 6.0], "b": [4.0, 5.0]}


# --------------------------------------------------------------------------- renderers


def test_render_table_exact() -> None:
    table = bench.Table("T", ("A", "B"), (("1", "x|y"),), ("a note",))
    assert bench.render_table(table) == (
        "### T\n\n| A | B |\n|---|---|\n| 1 | x\\|y |\n\n- a note\n"
    )  # a pipe inside a cell is escaped so the row keeps two cells


def test_render_table_refuses_a_short_row() -> None:
    with pytest.raises(ValueError):
        bench.render_table(bench.Table("T", ("A", "B"), (("1",),)))


def test_render_json_is_sorted_and_serialises_stats() -> None:
    text = bench.render_json({"b": Stats.of([1.0, 3.0]), "a": Path("/x")})
    assert text.endswith("\n")
    data = json.loads(text)
    assert list(data) == ["a", "b"]
    assert data["a"] == "/x"
    assert data["b"]["median"] == 2.0 and data["b"]["samples"] == [1.0, 3.0]


def test_render_markdown_has_command_machine_and_tables() -> None:
    report = {
        "command": "harness bench --only scaling",
        "machine": {"cores": 2, "pythons": ["3.11.7"]},
    }
    text = bench.render_markdown(report, [bench.Table("T", ("A",), (("1",),))])
    assert "Command: `harness bench --only scaling`" in text
    assert "- cores: 2" in text and "- pythons: 3.11.7" in text
    assert "### T" in text


def _record() -> bench.CaseRecord:
    ours = Stats.of([0.010, 0.010, 0.010])
    uv = Stats.of([0.040, 0.040, 0.040])
    return bench.CaseRecord(
        case="c",
        python="3.11.7",
        assembly={
            "merge (assemble())": {"timed": "ours", "baseline": True, "stats": ours, "phases": {}},
            "uv (default link mode)": {
                "timed": "uv",
                "baseline": False,
                "stats": uv,
                "phases": {"install": Stats.of([0.030])},
            },
        },
        startup={bench.FLAT: Stats.of([0.1, 0.1]), "merge": Stats.of([0.11, 0.11])},
        statement="import c",
        syspath={
            bench.FLAT: {"entries": 4, "site_packages_roots": 1, "duplicate_realpaths": 0},
            "merge": {"entries": 5, "site_packages_roots": 3, "duplicate_realpaths": 1},
        },
        expected_roots={bench.FLAT: 1, "merge": 2},
        wheels=2,
    )


def test_assembly_table_ratios() -> None:
    table = bench.assembly_table([_record()])
    by_variant = {row[2]: row for row in table.rows}
    assert by_variant["merge (assemble())"][7:] == ("1.00×", "0.25×")  # 10 ms vs 40 ms
    assert by_variant["uv (default link mode)"][3] == "40.0"
    assert by_variant["uv (default link mode)"][6] == "30.0"  # the install phase alone
    assert by_variant["uv (default link mode)"][7:] == ("4.00×", "1.00×")


def test_startup_table_ratio_and_verdict() -> None:
    table = bench.startup_table([_record()])
    merge = next(row for row in table.rows if row[2] == "merge")
    assert merge[6] == "1.10×"  # 110 ms over flat's 100 ms
    assert merge[8] == "no"  # +10 % with zero spread is a real miss
    assert any("import c" in note for note in table.notes)


def test_syspath_table_flags_missed_targets() -> None:
    rows = {row[2]: row for row in bench.syspath_table([_record()]).rows}
    assert rows[bench.FLAT][-1] == "yes"
    assert rows["merge"][-1] == "no"  # 3 roots where 2 were expected, and a duplicate


def test_matrix_table() -> None:
    matrix = {
        "cases": 2,
        "interpreters": ["3.11.7", "3.12.1"],
        "units": 4,
        "jobs": 2,
        "stats": Stats.of([30.0]),
        "statuses": {"pass": 3, "skip": 1},
    }
    (row,) = bench.matrix_table(matrix).rows
    assert row[0] == "2 × 2" and row[-2] == "pass 3, skip 1" and row[-1] == "0.50×"


def test_scaling_table_and_growth() -> None:
    stats = {10: Stats.of([0.001]), 100: Stats.of([0.010]), 1000: Stats.of([0.100])}
    g = bench.growth(stats)
    assert g["slope"] == pytest.approx(1.0)
    assert g["per_item"] == [pytest.approx(1e-4)] * 3
    rows = bench.scaling_table({"planner (CPU)": stats}).rows
    assert [r[1] for r in rows] == ["10", "100", "1000"]
    assert rows[0][5] == "100.0"  # 1 ms / 10 items = 100 µs


# --------------------------------------------------------------------------- case helpers


def test_importable_names() -> None:
    facts = facts_from_paths(
        "w",
        [
            "six.py",
            "pkg/__init__.py",
            "ns/x/__init__.py",
            "_ext.cpython-311-x86_64-linux-gnu.so",
            "hook.pth",
        ],
    )
    assert bench.importable_names(facts) == ["_ext", "ns", "pkg", "six"]  # no .pth, no dist-info


def test_statement_code() -> None:
    assert bench.Statement(()).code == "pass"
    assert bench.Statement(("a", "b")).code == "import a; import b"
    code = bench.Statement(("a",), ("c",)).code
    assert code == (
        "import a; import importlib.util; assert importlib.util.find_spec('c') is not None"
    )


# --------------------------------------------------------------------------- synthetic sets


def test_synthetic_set_is_deterministic_per_seed() -> None:
    assert bench.synthetic_set(200, seed=3) == bench.synthetic_set(200, seed=3)
    assert bench.synthetic_set(200, seed=3) != bench.synthetic_set(200, seed=4)


def test_synthetic_set_has_every_shape_and_unique_labels() -> None:
    wheels = bench.synthetic_set(100)
    assert {w.shape for w in wheels} == set(bench.SHAPES)  # 100 = 10 rounds of the 10 shapes
    assert len({w.label for w in wheels}) == 100


def test_synthetic_facts_have_the_shapes_and_plan_with_collisions() -> None:
    facts = bench.synthetic_facts(bench.synthetic_set(200))
    assert any(f.namespace_top_levels for f in facts)
    assert any(f.native_roots for f in facts)
    assert any(tl.endswith(".py") for f in facts for tl in f.top_levels)  # single-file modules
    result = plan(facts, "merge")  # must not hit a hard error: native never sits conflicted alone
    kinds = {c.kind for c in result.collisions}
    assert "top-level" in kinds  # mixed_K, shared_K.py and dup_K are each claimed ~8 times
    assert any(m.root.startswith("mixed_") for m in result.merges)  # regular + namespace, no native


def test_write_synthetic_wheels_and_prepare_local(tmp_path: Path) -> None:
    wheels = bench.synthetic_set(10)
    paths = bench.write_synthetic_wheels(wheels, tmp_path / "w")
    assert [p.name for p in paths] == [f"syn_{i:05d}-1.0-py3-none-any.whl" for i in range(10)]
    prepared = bench.prepare_local(paths, tmp_path / "trees")
    for w, p in zip(wheels, prepared, strict=True):
        # the archive holds exactly the generator's paths plus its dist-info
        assert [x for x in p.facts.site_paths if ".dist-info/" not in x] == sorted(w.paths)
        assert p.facts.name == f"syn-{w.index:05d}"
    assert all(p.tree.site_packages.is_dir() for p in prepared)


# --------------------------------------------------------------------------- command line


def test_parse_only_and_sizes() -> None:
    assert MEASURES == bench.MEASURES  # the CLI's copy (kept to avoid an import) is the same
    assert parse_only("scaling, matrix") == frozenset({"scaling", "matrix"})
    with pytest.raises(HarnessError, match="unknown measure"):
        parse_only("scaling,speed")
    assert parse_sizes("10,20/5/") == ((10, 20), (5,), ())  # an empty list skips that part
    assert parse_sizes("10,20/5/3") == ((10, 20), (5,), (3,))
    assert parse_sizes(None) == (bench.PLANNER_SIZES, bench.MATERIALIZE_SIZES, bench.PTH_SIZES)
    with pytest.raises(HarnessError, match="--sizes"):
        parse_sizes("10/20")
    with pytest.raises(HarnessError, match="--sizes"):
        parse_sizes("10/x/3")


def test_bench_only_scaling_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "bench.json"
    md = tmp_path / "bench.md"
    status = main(
        ["bench", "--only", "scaling", "--sizes", "10,30/3/3", "--runs", "1",
         "--startup-runs", "1", "--startup-warmup", "0", "--json", str(out),
         "--markdown", str(md)]
    )  # fmt: skip
    assert status == 0
    report = json.loads(out.read_text())
    assert report["measures"] == ["scaling"]
    scaling = report["scaling"]
    assert sorted(scaling) == [
        "materialize (wall)",
        "planner (CPU)",
        "pth startup: import last",
        "pth startup: pass",
    ]
    assert sorted(scaling["planner (CPU)"]["stats"]) == ["10", "30"]
    assert scaling["materialize (wall)"]["growth"]["sizes"] == [3]
    assert report["machine"]["cores"] >= 1
    text = md.read_text()
    assert "### Scaling: synthetic wheel sets" in text
    assert text == capsys.readouterr().out  # the same tables on stdout and in the file


def test_bench_unknown_case_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    # checked before anything is measured, so a typo costs nothing
    assert main(["bench", "no-such-case", "--only", "scaling"]) == 2
    assert "unknown case(s) no-such-case" in capsys.readouterr().err


# --------------------------------------------------------------------------- --as-user

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="switching users needs root"
)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every user may search, on a path every user may search (pytest's own
    temporary directories are closed to others)."""
    with tempfile.TemporaryDirectory(dir="/tmp") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def _nobody() -> bench.RunAs:
    entry = pwd.getpwnam("nobody")
    return bench.RunAs("nobody", entry.pw_uid, entry.pw_gid)


def test_resolve_user_refuses_an_unknown_user_and_the_current_one() -> None:
    with pytest.raises(HarnessError, match="no such user"):
        bench.resolve_user("no-such-user-here")
    me = pwd.getpwuid(os.geteuid()).pw_name
    with pytest.raises(HarnessError, match="already"):
        bench.resolve_user(me)


def test_first_unreachable_names_the_directory_the_user_cannot_search(open_dir: Path) -> None:
    tmp_path = open_dir
    user = _nobody()
    closed = tmp_path / "closed"
    (closed / "inner").mkdir(parents=True)
    target = closed / "inner" / "python"
    target.write_text("")
    closed.chmod(0o700)  # owned by us, not nobody, and closed to others
    assert bench.first_unreachable(target, user) == closed
    closed.chmod(0o711)  # others may search it now: nothing blocks the way
    assert bench.first_unreachable(target, user) is None


@needs_root
def test_hand_over_gives_the_venv_but_not_files_linked_from_a_tree(tmp_path: Path) -> None:
    user = _nobody()
    tree_file = tmp_path / "tree" / "mod.py"
    tree_file.parent.mkdir()
    tree_file.write_text("x = 1\n")
    venv = tmp_path / "venv"
    (venv / "lib" / "pkg").mkdir(parents=True)
    own = venv / "pyvenv.cfg"
    own.write_text("home = /usr\n")
    linked = venv / "lib" / "pkg" / "mod.py"
    os.link(tree_file, linked)  # a merged directory's hard link into a shared tree
    (venv / "bin").mkdir()
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")
    bench.hand_over(venv, user)
    # why: the user's interpreter must be able to write bytecode into its own venv
    assert (venv / "lib" / "pkg").stat().st_uid == user.uid
    assert own.stat().st_uid == user.uid
    assert os.lstat(venv / "bin" / "python").st_uid == user.uid
    # why: a file with two links is a tree's; changing it would change the shared tree
    assert linked.stat().st_uid == os.geteuid()
    assert tree_file.stat().st_uid == os.geteuid()


@needs_root
def test_hand_over_all_names_the_closed_directory(open_dir: Path) -> None:
    tmp_path = open_dir
    user = _nobody()
    closed = tmp_path / "closed"
    python = closed / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    closed.chmod(0o700)
    with pytest.raises(HarnessError, match=r"closed \(mode 700\) may not be searched"):
        bench.hand_over_all({"merge": python}, user)


@needs_root
def test_hand_over_all_names_a_closed_install_tree(open_dir: Path) -> None:
    # why: the merge venv links into the shared trees; a user who cannot reach them would
    # see the merge venv fail to import and the run would leave it untimed for that reason
    user = _nobody()
    python = open_dir / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    tree = open_dir / "cache" / "trees" / ("a" * 64)
    tree.mkdir(parents=True)
    (open_dir / "cache").chmod(0o700)
    with pytest.raises(HarnessError, match=r"install tree .*/cache \(mode 700\)"):
        bench.hand_over_all({"merge": python}, user, [tree])
    (open_dir / "cache").chmod(0o755)
    bench.hand_over_all({"merge": python}, user, [tree])  # reachable now: handed over
    assert (open_dir / "venv").stat().st_uid == user.uid
