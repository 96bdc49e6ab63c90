"""Fault variants: each plants its bug (and nothing else), and the checks on the venv catch it.

Planner faults are shown on synthetic wheel facts (pure): each deviates from `merge` where its
bug lives and nowhere else. Materializer faults and the checks that catch them are shown on
real venvs of the host interpreter built from synthetic wheels. `harness faults` is shown to
exit 1 when the only case that detects a fault is taken out of the corpus.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from test_plan_resolver import GOOGLE, PROTOBUF
from test_plan_support import synthetic, wheel

from harness.cases.expectations import LAYOUT_ENGINES
from harness.cases.parse import parse_case
from harness.engine import faults
from harness.engine import plan as planner
from harness.errors import HarnessError, PlanError
from harness.model import Fallback
from harness.run.runner import Result


def _plans(name: str, wheels):
    return planner.plan(wheels, "merge"), faults.fault_plan(f"fault:{name}", wheels)


# --------------------------------------------------------------------------- the registry


def test_every_fault_has_a_story_and_one_deviation() -> None:
    assert len(faults.FAULTS) >= 19
    for fault in faults.FAULTS.values():
        assert fault.paragraph.count(".") >= 1 and len(fault.paragraph) > 150, fault.name
        assert fault.deviation, fault.name
        ways = [
            bool(fault.swaps),
            bool(fault.facts),
            bool(fault.plan),
            bool(fault.venv or fault.report),
        ]
        assert sum(ways) == 1, f"{fault.name} deviates in {sum(ways)} ways"
        for name in fault.swaps:  # a renamed planner function must fail here, not silently
            assert callable(getattr(planner, name)), name


def test_swaps_are_undone_after_planning() -> None:
    before = {name: getattr(planner, name) for f in faults.FAULTS.values() for name in f.swaps}
    for fault in faults.FAULTS.values():
        faults.fault_plan(fault.engine, [GOOGLE, PROTOBUF])
    assert {name: getattr(planner, name) for name in before} == before


def test_unknown_fault_names_the_known_ones() -> None:
    with pytest.raises(HarnessError, match="console-first-wins"):
        faults.fault_named("fault:nope")


# --------------------------------------------------------------------------- planner faults


def test_first_wins_whole_tree_is_pex_shape() -> None:
    jwt_a = wheel("PyJWT", ["jwt/__init__.py", "jwt/api_jwt.py"], dist="PyJWT-2.10.1.dist-info")
    jwt_b = wheel("jwt", ["jwt/__init__.py", "jwt/jwa.py"], dist="jwt-1.4.0.dist-info")
    merge, fault = _plans("first-wins-whole-tree", [jwt_a, jwt_b])
    assert [m.root for m in merge.merges] == ["jwt"]
    assert fault.merges == () and fault.collisions == ()
    assert dict(fault.projections)["jwt"] == "PyJWT"  # the first claimant, whole
    assert fault.fallbacks == (Fallback("jwt"),)  # the other wheel whole, dist-info included
    assert fault.engine == "fault:first-wins-whole-tree"


def test_graft_wins_native_projects_the_namespace_graft() -> None:
    merge, fault = _plans("graft-wins-native", [GOOGLE, PROTOBUF])
    assert dict(merge.projections)["google"] == "google-1.9.3"
    assert dict(fault.projections)["google"] == "protobuf-6.33.5"
    # the other order has the regular package last: the bug changes nothing there
    merge, fault = _plans("graft-wins-native", [PROTOBUF, GOOGLE])
    assert merge.projections == fault.projections


def test_native_merged_copies_native_code() -> None:
    merge, fault = _plans("native-merged", [GOOGLE, PROTOBUF])
    assert merge.merges == ()
    assert [(m.root, m.contributors) for m in fault.merges] == [
        ("google", ("google-1.9.3", "protobuf-6.33.5"))
    ]


@pytest.mark.parametrize(
    ("name", "check"),
    [
        (
            "metadata-zero-hidden",
            lambda m, f: not any(p.endswith(".dist-info") for p, _ in f.projections),
        ),
        ("metadata-one-doubled", lambda m, f: "protobuf-6.33.5.dist-info" in dict(f.projections)),
    ],
)
def test_metadata_rule_wrong_at_zero_and_one(name, check) -> None:
    merge, fault = _plans(name, [GOOGLE, PROTOBUF])
    assert "protobuf-6.33.5.dist-info" not in dict(merge.projections)  # on fallback: 1 copy
    assert "google-1.9.3.dist-info" in dict(merge.projections)  # covered: 0 on fallback
    assert check(merge, fault)


def test_metadata_rule_wrong_at_many_and_counting_claimants() -> None:
    # three copies of one distribution shipping one file: the last wins, two stay on fallback
    copies = [wheel(f"six_{i}", ["six.py"], dist="six-1.17.0.dist-info") for i in range(3)]
    with pytest.raises(PlanError):
        planner.plan(copies, "merge")
    fault = faults.fault_plan("fault:metadata-many-accepted", copies)
    assert [f.label for f in fault.fallbacks] == ["six_0", "six_1"]
    # two copies, one suppressed: merge leaves one visible copy; counting claimants refuses
    pair = [
        synthetic("first", "regular", "native_root", metadata_name="n"),
        synthetic("second", "regular", "native_root", metadata_name="n"),
    ]
    planner.plan(pair, "merge")
    with pytest.raises(PlanError):
        faults.fault_plan("fault:metadata-counts-claimants", pair)


def test_dup_metadata_loser_not_suppressed_stays_on_fallback() -> None:
    # two builds of one distribution with a native package: the earlier one is suppressed
    builds = [
        wheel(label, ["pc/__init__.py", "pc/_core.so"], dist="pc-2.0.dist-info")
        for label in ("manylinux", "musllinux")
    ]
    merge, fault = _plans("dup-metadata-not-suppressed", builds)
    assert merge.fallbacks == ()
    assert [f.label for f in fault.fallbacks] == ["manylinux"]


def test_two_versions_both_visible() -> None:
    old = replace(
        PROTOBUF,
        label="protobuf-5",
        version="5.29.5",
        dist_info="protobuf-5.29.5.dist-info",
        top_levels=tuple(t.replace("6.33.5", "5.29.5") for t in PROTOBUF.top_levels),
        site_paths=tuple(p.replace("6.33.5", "5.29.5") for p in PROTOBUF.site_paths),
    )
    merge, fault = _plans("two-versions-both-visible", [old, PROTOBUF])
    assert merge.superseded == ("protobuf-5",)
    assert fault.superseded == ()
    visible = {p for p, _ in fault.projections if p.endswith(".dist-info")}
    visible |= {f"{f.label}" for f in fault.fallbacks}
    assert "protobuf-6.33.5.dist-info" in visible and "protobuf-5" in visible


def test_console_first_wins() -> None:
    one = wheel("one", ["one.py"], scripts=["tool=one:main"])
    two = wheel("two", ["two.py"], scripts=["tool=two:main"])
    merge, fault = _plans("console-first-wins", [one, two])
    assert merge.console_scripts == (("tool", "two", "two", "main"),)
    assert fault.console_scripts == (("tool", "one", "one", "main"),)


def test_namespace_collapse_links_a_shared_directory_whole() -> None:
    cccl = wheel("cccl", ["nvidia/cu13/include/cccl/cub.cuh", "nvidia/cu13/lib/x.cmake"])
    runtime = wheel("runtime", ["nvidia/cu13/include/cuda_runtime.h", "nvidia/cu13/bin/ptxas"])
    merge, fault = _plans("namespace-collapse-shared", [cccl, runtime])
    assert "nvidia/cu13" not in dict(merge.projections)
    assert dict(fault.projections)["nvidia/cu13"] == "runtime"  # cccl's files are gone


def test_fallback_and_merge_order_faults() -> None:
    a = synthetic("a", "ordinary", label="a")
    b = synthetic("b", "ordinary", label="b")
    c = synthetic("c", "ordinary", label="c")
    merge, fault = _plans("fallback-reversed", [a, b, c])
    assert [f.label for f in fault.fallbacks] == [f.label for f in reversed(merge.fallbacks)]
    jwt_a = wheel("PyJWT", ["jwt/__init__.py", "jwt/api_jwt.py"], dist="PyJWT-2.10.1.dist-info")
    jwt_b = wheel("jwt", ["jwt/__init__.py", "jwt/jwa.py"], dist="jwt-1.4.0.dist-info")
    merge, fault = _plans("merge-reversed", [jwt_a, jwt_b])
    assert fault.merges[0].contributors == tuple(reversed(merge.merges[0].contributors))
    merge, fault = _plans("addsitedir-known", [GOOGLE, PROTOBUF])
    assert merge.fallbacks == (Fallback("protobuf-6.33.5"),)
    assert fault.fallbacks == (Fallback("protobuf-6.33.5", addsitedir=True),)


def test_partly_covered_wheel_dropped_from_fallback() -> None:
    # `both` is projected on `solo` and loses `shared.py` to `later`: partly covered
    both = wheel("both", ["solo/__init__.py", "shared.py"])
    later = wheel("later", ["shared.py"])
    merge, fault = _plans("partly-covered-dropped", [both, later])
    assert [f.label for f in merge.fallbacks] == ["both"]
    assert fault.fallbacks == ()


# --------------------------------------------------------------------------- scoping


def test_faults_are_layout_engines_and_detects_may_name_them() -> None:
    raw = {
        "description": "x",
        "detects": ["whole-tree", "fault:console-first-wins"],
        "expect": {
            "file": [{"path": "a", "kind": "dir", "explanation": "e"}],
            "fallback": [{"wheel": "w", "explanation": "e", "engines": ["merge"]}],
            "collision": [
                {"kind": "top-level", "name": "a", "explanation": "e", "engines": ["pth"]}
            ],
            "refusal": [{"engine": "merge", "explanation": "e"}],
        },
    }
    case = read(raw)
    assert "fault:*" in LAYOUT_ENGINES
    scoped = case.for_engine("fault:merge-reversed").expect
    assert len(scoped.files) == 1 and len(scoped.fallbacks) == 1 and scoped.collisions == ()
    assert case.for_engine("uv-symlink").expect.files == ()
    assert case.accepted_refusal("fault:merge-reversed") is not None
    with pytest.raises(HarnessError, match="top level: key 'detects': 'fault:nope' names no fault"):
        read({"description": "x", "detects": ["fault:nope"]})
    with pytest.raises(HarnessError, match="fault:NAME"):
        read({"description": "x", "detects": ["merge"]})


def read(raw: dict):
    """The case `raw` makes, with one pin (the parser needs a [[wheels]] table)."""
    pin = {
        "name": "w",
        "version": "1.0",
        "files": [{"filename": "w-1.0-py3-none-any.whl", "sha256": "0" * 64, "size": 1}],
    }
    return parse_case("x", Path("cases/x/case.toml"), {"wheels": [pin], **raw})


# --------------------------------------------------------------------------- the matrix


def _result(case, engine, status, rules=()):
    from harness.judge import Finding

    return Result(case, "3.11.7", engine, status, tuple(Finding(r, "s", "m") for r in rules))


def test_matrix_counts_a_detection_only_where_merge_passes() -> None:
    from harness.commands.faults import matrix, render

    results = [
        _result("a", "merge", "pass"),
        _result("a", "fault:x", "fail", ["A5", "A2"]),
        _result("b", "merge", "fail", ["A1"]),
        _result("b", "fault:x", "fail", ["A1"]),
        _result("c", "merge", "pass"),
        _result("c", "fault:x", "pass"),
        _result("d", "merge", "pass"),
        _result("d", "fault:x", "unexercised"),
    ]
    cases, (row,) = matrix(results, ["x"])
    assert cases == ["a", "b", "c", "d"]
    assert row.cells == {"a": "detected", "b": "baseline", "c": "undetected", "d": "unexercised"}
    assert row.rules == {"a": ["A2", "A5"]}
    text = render(cases, [row], "3.11.7")
    assert "D ! o .   1 case" in text and "a (A2, A5)" in text


# --------------------------------------------------------------------------- end to end

DETECTING = """
description = "two wheels claim one console script; the later one wins bin/tool"
[[wheels]]
name = "one"
version = "1.0"
[wheels.synthetic]
files = { "one_pkg/__init__.py" = "def main():\\n    return 0\\n" }
entry_points = { console_scripts = { tool = "one_pkg:main" } }
[[wheels]]
name = "two"
version = "1.0"
[wheels.synthetic]
files = { "two_pkg/__init__.py" = "def main():\\n    return 0\\n" }
entry_points = { console_scripts = { tool = "two_pkg:main" } }
[[expect.console_script]]
name = "tool"
owner = "two"
explanation = "the last claimant of a console script name wins (engine-contract.md §3.8)"
"""

BLIND = """
description = "one wheel, nothing collides"
[[wheels]]
name = "solo"
version = "1.0"
[wheels.synthetic]
files = { "solo_pkg/__init__.py" = "" }
"""


def _corpus(root: Path, **cases: str) -> Path:
    for name, text in cases.items():
        (root / name).mkdir(parents=True)
        (root / name / "case.toml").write_text(text)
    return root


def test_harness_faults_exits_1_when_the_detecting_case_is_removed(tmp_path, monkeypatch, capsys):
    from harness.cli import main

    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    with_case = _corpus(tmp_path / "full", **{"console-two": DETECTING, "solo": BLIND})
    argv = ["faults", "--python", sys.executable, "--fault", "console-first-wins", "-j", "1"]
    assert main([*argv, "--cases-dir", str(with_case), "--json", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    assert "console-first-wins: detected by 1 case" in out
    assert (
        "console-two (A6, expect-console-script)" in out
        or "console-two (expect-console-script)" in out
    )
    without = _corpus(tmp_path / "less", solo=BLIND)
    assert main([*argv, "--cases-dir", str(without)]) == 1
    assert "detected by no case: console-first-wins" in capsys.readouterr().out
