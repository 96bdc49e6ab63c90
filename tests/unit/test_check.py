"""The checker is pure: each rule is shown to pass on agreement and to fail on disagreement."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from observed import Computed

from harness import judge
from harness.cases.parse import parse_case
from harness.errors import CaseFileError, HarnessError
from harness.facts import facts_from_paths
from harness.model import Collision, Plan
from harness.observe import observation
from harness.observe.observation import ConcreteModule, Distribution, Observation, RuntimeModule
from harness.observe.ownership import Owner

SITE = "/v/site-packages"
GOOGLE_TREE = "/trees/google/site-packages"
PROTOBUF_TREE = "/trees/protobuf/site-packages"
TREES = {GOOGLE_TREE: "google", PROTOBUF_TREE: "protobuf"}


def owner_of(real: str | None):
    """Stands for ownership by RECORD content: each fake tree holds one wheel's files."""
    for root, label in TREES.items():
        if real and real.startswith(root + "/"):
            return Owner((label,), real[len(root) + 1 :])
    return None


def obs(concrete=(), runtime=(), imported=(), sys_path=(SITE,), dists=(), **kw) -> Observation:
    return Observation(
        site_packages=SITE,
        concrete={m.name: m for m in concrete},
        runtime={m.name: m for m in runtime},
        imported={m.name: m for m in imported},
        sys_path=tuple(sys_path),
        distributions=tuple(dists),
        owners=Computed(owner_of),
        file_realpaths=Computed(lambda path: f"{SITE}/{path}"),
        **kw,
    )


def empty_plan(**kw) -> Plan:
    base = dict(
        engine="merge",
        wheels=(),
        projections=(),
        merges=(),
        fallbacks=(),
        metadata_owners=(),
        console_scripts=(),
        data_projections=(),
        collisions=(),
        decisions=(),
    )
    base.update(kw)
    return Plan(**base)


PIN = {
    "name": "x",
    "version": "1.0",
    "files": [{"filename": "x-1.0-py3-none-any.whl", "sha256": "0" * 64, "size": 1}],
}


def spec(raw: dict):
    """The case these keys make (with one pin), as the case file parser reads it."""
    return parse_case("x", Path("cases/x/case.toml"), {"description": "x", "wheels": [PIN], **raw})


# --------------------------------------------------------------------------- A1


def test_a1_agreement_is_silent():
    init = f"{GOOGLE_TREE}/google/__init__.py"
    o = obs(
        concrete=[ConcreteModule("google", "package", "google/__init__.py", init)],
        runtime=[RuntimeModule("google", "found", "package", init)],
    )
    assert judge.check_a1(o) == []


def test_a1_whole_tree_bug_names_both_owners():
    # The seed bug: concrete google/ is protobuf's namespace tree, runtime binds google 1.9.3's
    # regular package through the fallback.
    o = obs(
        concrete=[
            ConcreteModule("google", "namespace", "google", f"{PROTOBUF_TREE}/google"),
            ConcreteModule(
                "google.protobuf",
                "package",
                "google/protobuf/__init__.py",
                f"{PROTOBUF_TREE}/google/protobuf/__init__.py",
            ),
        ],
        runtime=[
            RuntimeModule("google", "found", "package", f"{GOOGLE_TREE}/google/__init__.py"),
            RuntimeModule("google.protobuf", "not-found"),
        ],
    )
    findings = judge.check_a1(o)
    assert [f.subject for f in findings] == ["google"]
    (f,) = findings
    assert f.rule == "A1"
    assert "protobuf" in f.concrete and "google/__init__.py from google" in f.runtime
    assert f.wheels == ("google", "protobuf")
    assert "1 submodule(s)" in f.message


def test_a1_namespace_must_include_the_concrete_dir():
    o = obs(
        concrete=[ConcreteModule("jaraco", "namespace", "jaraco", f"{SITE}/jaraco")],
        runtime=[RuntimeModule("jaraco", "found", "namespace", None, (f"{PROTOBUF_TREE}/jaraco",))],
    )
    assert [f.rule for f in judge.check_a1(o)] == ["A1"]
    ok = obs(
        concrete=[ConcreteModule("jaraco", "namespace", "jaraco", f"{SITE}/jaraco")],
        runtime=[
            RuntimeModule(
                "jaraco", "found", "namespace", None, (f"{SITE}/jaraco", f"{PROTOBUF_TREE}/jaraco")
            )
        ],
    )
    assert judge.check_a1(ok) == []


# --------------------------------------------------------------------------- A2


def test_shipped_modules_from_record_paths():
    facts = facts_from_paths(
        "p",
        [
            "google/protobuf/__init__.py",
            "google/protobuf/message.py",
            "google/_upb/_message.abi3.so",
            "pyzmq.libs/libzmq.so.5",
            "tests-data/x.py",
            "six.py",
        ],
    )
    names = observation.shipped_modules(
        facts, [".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"]
    )
    assert names == {
        "google",
        "google.protobuf",
        "google.protobuf.message",
        "google._upb",
        "google._upb._message",
        "six",
    }


def test_a2_a_loss_is_excused_by_flat_or_the_case_never_by_the_plan():
    shipped = {"protobuf": {"google", "google.protobuf"}, "google": {"google"}}
    o = obs(
        runtime=[
            RuntimeModule("google", "found", "package", "x"),
            RuntimeModule("google.protobuf", "not-found"),
        ]
    )
    flat = obs(
        runtime=[
            RuntimeModule("google", "found", "package", "x"),
            RuntimeModule("google.protobuf", "found", "package", "y"),
        ]
    )
    undeclared = judge.check_a2(o, flat, shipped, spec({}))
    assert [(f.rule, f.subject, f.wheels) for f in undeclared] == [
        ("A2", "google.protobuf", ("protobuf",))
    ]
    # without a case, every loss against flat is a finding
    assert [f.subject for f in judge.check_a2(o, flat, shipped, None)] == ["google.protobuf"]
    # the engine recording the collision it mishandled explains, never excuses
    plan = empty_plan(collisions=(Collision("top-level", "google", "google", "protobuf"),))
    (f,) = judge.check_a2(o, flat, shipped, spec({}), plan)
    assert "the engine's plan says" in f.message and "google" in f.message
    # the case's reasoned declaration excuses it (absent = true, or a declared flat difference)
    absent = spec(
        {"expect": {"module": [{"name": "google.protobuf", "absent": True, "explanation": "why"}]}}
    )
    assert judge.check_a2(o, flat, shipped, absent) == []
    differs = spec({"expect": {"flat_difference": [{"module": "google", "explanation": "why"}]}})
    assert judge.check_a2(o, flat, shipped, differs) == []
    # a module flat cannot import either is not the engine's loss
    assert judge.check_a2(o, o, shipped, spec({})) == []


# --------------------------------------------------------------------------- A3, A4


def test_a3_exactly_one_copy_and_it_matches_the_code():
    old = facts_from_paths("old", ["pb/__init__.py"], dist_info="pb-5.0.dist-info")
    new = facts_from_paths("new", ["pb/__init__.py"], dist_info="pb-6.0.dist-info")
    TREES["/trees/old/site-packages"] = "old"
    TREES["/trees/new/site-packages"] = "new"
    try:
        runtime = [
            RuntimeModule("pb", "found", "package", "/trees/old/site-packages/pb/__init__.py")
        ]
        two = obs(
            runtime=runtime, dists=[Distribution("pb", "5.0", "a"), Distribution("pb", "6.0", "b")]
        )
        assert [f.rule for f in judge.check_a3(two, [old, new])] == ["A3"]
        mismatch = obs(runtime=runtime, dists=[Distribution("pb", "6.0", "b")])
        (f,) = judge.check_a3(mismatch, [old, new])
        assert "imported from 5.0" in f.message
        good = obs(
            runtime=[
                RuntimeModule("pb", "found", "package", "/trees/new/site-packages/pb/__init__.py")
            ],
            dists=[Distribution("pb", "6.0", "b")],
        )
        assert judge.check_a3(good, [old, new]) == []
    finally:
        del TREES["/trees/old/site-packages"], TREES["/trees/new/site-packages"]


def test_a4_site_packages_first_and_no_duplicates():
    good = obs(
        sys_path=["/stdlib", SITE, PROTOBUF_TREE], fallback_roots={PROTOBUF_TREE: ("protobuf",)}
    )
    assert judge.check_a4(good) == []
    bad = obs(sys_path=[PROTOBUF_TREE, SITE, SITE], fallback_roots={PROTOBUF_TREE: ("protobuf",)})
    assert sorted(f.message.split(" ")[0] for f in judge.check_a4(bad)) == ["fallback", "sys.path"]


# --------------------------------------------------------------------------- A5


def test_a5_differences_must_be_declared_and_declarations_must_hold():
    o = obs(runtime=[RuntimeModule("google.protobuf", "not-found")])
    flat = obs(
        runtime=[
            RuntimeModule(
                "google.protobuf",
                "found",
                "package",
                f"{PROTOBUF_TREE}/google/protobuf/__init__.py",
            )
        ]
    )
    assert [f.rule for f in judge.check_a5(o, flat, ["google.protobuf"], spec({}))] == ["A5"]
    declared = spec(
        {"expect": {"flat_difference": [{"module": "google.protobuf", "explanation": "why"}]}}
    )
    assert judge.check_a5(o, flat, ["google.protobuf"], declared) == []
    # the same declaration against an engine that agrees with flat is stale
    assert [f.rule for f in judge.check_a5(flat, flat, ["google.protobuf"], declared)] == [
        "expect-flat"
    ]


# --------------------------------------------------------------------------- premises, expectations


def test_premise_guard_fails_when_the_shape_is_gone():
    google = facts_from_paths(
        "google-1.9.3-py2.py3-none-any.whl",
        ["google/__init__.py"],
        dist_info="google-1.9.3.dist-info",
    )
    s = spec(
        {
            "premise": [
                {
                    "wheel": "google",
                    "fact": "regular_top_levels",
                    "contains": "google",
                    "why": "ships google/__init__.py",
                }
            ]
        }
    )
    assert judge.check_premises(s, [google]) == []
    namespace_google = facts_from_paths(
        "google-1.9.3-py2.py3-none-any.whl", ["google/x.py"], dist_info="google-1.9.3.dist-info"
    )
    (f,) = judge.check_premises(s, [namespace_google])
    assert f.rule == "premise" and "ships google/__init__.py" in f.message


def test_expectations_module_owner_absent_metadata_collision():
    facts = [
        facts_from_paths("google", ["google/__init__.py"]),
        facts_from_paths("protobuf", ["google/protobuf/__init__.py"]),
    ]
    s = spec(
        {
            "expect": {
                "module": [
                    {"name": "google", "owner": "google", "explanation": "regular google wins"},
                    {"name": "google.protobuf", "absent": True, "explanation": "hidden"},
                ],
                "metadata": [{"name": "protobuf", "version": "1.0", "explanation": "one copy"}],
                "collision": [
                    {"kind": "top-level", "name": "google", "explanation": "both claim google"}
                ],
            }
        }
    )
    good = obs(
        runtime=[
            RuntimeModule("google", "found", "package", f"{GOOGLE_TREE}/google/__init__.py"),
            RuntimeModule("google.protobuf", "not-found"),
        ],
        dists=[Distribution("protobuf", "1.0", "p")],
    )
    plan = empty_plan(collisions=(Collision("top-level", "google", "google", "protobuf"),))
    assert judge.check_expectations(good, s, facts, plan) == []
    bad = obs(
        runtime=[
            RuntimeModule("google", "found", "package", f"{PROTOBUF_TREE}/google/__init__.py"),
            RuntimeModule("google.protobuf", "found", "package", "x"),
        ],
    )
    rules = sorted(f.rule for f in judge.check_expectations(bad, s, facts, empty_plan()))
    assert rules == ["expect-collision", "expect-metadata", "expect-module", "expect-module"]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"detects": ["merge"]}, "top level: key 'detects': 'merge' is not a variant"),
        ({"python": "not a spec"}, "top level: key 'python': not a version specifier set"),
        (
            {"expect": {"module": [{"name": "x", "explanation": "e"}]}},
            "[[expect.module]] #1: needs exactly one of owner",
        ),
        (
            {"expect": {"module": [{"name": "x", "owner": "a"}]}},
            "[[expect.module]] #1: key 'explanation': expected a non-empty string, got nothing",
        ),
        (
            {"expect": {"collision": [{"kind": "nope", "name": "x", "explanation": "e"}]}},
            "[[expect.collision]] #1: key 'kind': 'nope' is not one of",
        ),
        (
            {"premise": [{"wheel": "w", "fact": "colour", "contains": "x", "why": "y"}]},
            "[[premise]] #1: key 'fact': 'colour' is not a wheel fact",
        ),
        ({"surprise": 1}, "top level: key 'surprise': unknown key"),
    ],
)
def test_spec_errors_name_the_file_and_key(raw, key):
    with pytest.raises(CaseFileError) as exc:
        spec(raw)
    assert str(exc.value).startswith(f"cases/x/case.toml: {key}"), str(exc.value)


def test_namespace_owner_is_every_wheel_owning_files_beneath_a_location():
    # jaraco/ is a real directory the engine made: no wheel ships it, but the files beneath it
    # are jaraco.classes' (ownership by content), so that wheel owns a portion.
    facts = [facts_from_paths("jaraco.classes", ["jaraco/classes/__init__.py"])]
    s = spec(
        {
            "expect": {
                "module": [{"name": "jaraco", "owner": "jaraco.classes", "explanation": "why"}]
            }
        }
    )
    o = obs(runtime=[RuntimeModule("jaraco", "found", "namespace", None, (f"{SITE}/jaraco",))])
    mine = replace(o, owners=Computed(lambda real: Owner(("jaraco.classes",), "jaraco")))
    assert judge.check_expectations(mine, s, facts) == []
    assert [f.rule for f in judge.check_expectations(o, s, facts)] == ["expect-module"]


def test_expected_fallback_must_be_on_sys_path():
    facts = [facts_from_paths("protobuf", ["google/protobuf/__init__.py"])]
    s = spec(
        {"expect": {"fallback": [{"wheel": "protobuf", "explanation": "loser stays reachable"}]}}
    )
    on = obs(sys_path=[SITE, PROTOBUF_TREE], fallback_roots={PROTOBUF_TREE: ("protobuf",)})
    assert judge.check_expectations(on, s, facts) == []
    off = obs(sys_path=[SITE], fallback_roots={PROTOBUF_TREE: ("protobuf",)})
    assert [f.rule for f in judge.check_expectations(off, s, facts)] == ["expect-fallback"]


def test_a2_a_superseded_version_is_excused_by_flat_not_by_the_plan():
    # pip uninstalls the earlier version before installing the later one, so flat cannot
    # import what only the earlier version shipped: that loss is nobody's fault.
    shipped = {"old": {"pb", "pb.service"}, "new": {"pb"}}
    o = obs(
        runtime=[
            RuntimeModule("pb", "found", "package", "x"),
            RuntimeModule("pb.service", "not-found"),
        ]
    )
    flat_without = obs(runtime=[RuntimeModule("pb", "found", "package", "x")])
    assert judge.check_a2(o, flat_without, shipped, spec({})) == []
    flat_with = obs(
        runtime=[
            RuntimeModule("pb", "found", "package", "x"),
            RuntimeModule("pb.service", "found", "module", "y"),
        ]
    )
    superseded = empty_plan(superseded=("old",))
    assert [f.subject for f in judge.check_a2(o, flat_with, shipped, spec({}), superseded)] == [
        "pb.service"
    ]


def test_prefix_file_and_console_script_expectations():
    facts = [
        facts_from_paths("widgets", ["w/__init__.py"]),
        facts_from_paths("cli", ["c/__init__.py"]),
    ]
    s = spec(
        {
            "expect": {
                "prefix_file": [
                    {"path": "share/jupyter/x.json", "owner": "widgets", "explanation": "data file"}
                ],
                "console_script": [
                    {"name": "tool", "owner": "cli", "explanation": "last claimant wins"}
                ],
            }
        }
    )
    good = obs(
        prefix_kinds={"share/jupyter/x.json": "symlink"},
        prefix_owners={"share/jupyter/x.json": "widgets"},
        scripts={"tool": True},
        script_owners={"tool": ("cli",)},
    )
    assert judge.check_expectations(good, s, facts) == []
    bad = obs(prefix_kinds={"share/jupyter/x.json": None}, scripts={"tool": False})
    assert sorted(f.rule for f in judge.check_expectations(bad, s, facts)) == [
        "expect-console-script",
        "expect-prefix-file",
    ]
    other = replace(good, script_owners={"tool": ("widgets",)})
    assert [f.rule for f in judge.check_expectations(other, s, facts)] == ["expect-console-script"]


def test_expectation_paths_may_not_escape():
    with pytest.raises(
        CaseFileError, match=r"\[\[expect\.file\]\] #1: key 'path': expected a relative"
    ):
        spec({"expect": {"file": [{"path": "../../share/x", "kind": "file", "explanation": "e"}]}})


def test_a2_a_decision_explains_a_loss_but_never_excuses_it():
    # A native conflicted root projected whole to its last regular claimant records no
    # collision: the decision is the engine's account of the graft's loss, shown in the text.
    from harness.model import Decision

    shipped = {"alpha": {"pkg", "pkg.native", "pkg.native._ext"}, "beta": {"pkg", "pkg.native"}}
    o = obs(
        runtime=[
            RuntimeModule("pkg", "found", "package", "/b/pkg/__init__.py"),
            RuntimeModule("pkg.native", "found", "package", "/b/pkg/native/__init__.py"),
            RuntimeModule("pkg.native._ext", "not-found"),
        ]
    )
    decision = Decision(
        "pkg/native", "native-span-last-regular", ("alpha", "beta"), "project", "beta"
    )
    (f,) = judge.check_a2(o, None, shipped, None, empty_plan(decisions=(decision,)))
    assert f.subject == "pkg.native._ext" and f.wheels == ("alpha",)
    assert "native-span-last-regular" in f.message
    (plain,) = judge.check_a2(o, None, shipped, None)
    assert "plan" not in plain.message


def test_a5_identical_bytes_two_wheels_ship_are_one_module_whoever_is_credited():
    # why: both wheels ship the same empty tests/__init__.py; a flat install credits the file
    # to both (their dist-infos sit beside it), a store that keeps one wheel per directory to
    # one. Which wheel's identical bytes bind changes nothing at runtime.
    both = replace(
        obs(runtime=[RuntimeModule("tests", "found", "package", "/x/tests/__init__.py")]),
        owners=Computed(lambda real: Owner(("a", "b"), "tests/__init__.py")),
    )
    one = replace(both, owners=Computed(lambda real: Owner(("b",), "tests/__init__.py")))
    other = replace(both, owners=Computed(lambda real: Owner(("c",), "tests/__init__.py")))
    assert judge.differences_from_flat(one, both, ["tests"]) == []
    assert judge.differences_from_flat(other, both, ["tests"]) == ["tests"]


def test_judging_never_reads_an_owner_observing_did_not_record():
    # why: judging is plain data in, findings out; a path observing did not list is a bug in
    # observing, not something to make up for by reading the disk while judging
    o = replace(obs(), owners={f"{GOOGLE_TREE}/google/__init__.py": Owner(("google",), "x")})
    assert o.owner_of(f"{GOOGLE_TREE}/google/__init__.py") == Owner(("google",), "x")
    assert o.owner_of(None) is None
    with pytest.raises(HarnessError, match="observing did not record"):
        o.owner_of(f"{PROTOBUF_TREE}/google/protobuf/__init__.py")
