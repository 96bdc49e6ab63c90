"""Engine variants (engine-contract.md §7), policy neutrality (§6.1) and determinism."""

from __future__ import annotations

import pytest
from test_plan_resolver import GOOGLE, PROTOBUF, PROTOBUF_OLD, PYDANTIC_CORE
from test_plan_support import assert_plan, synthetic, wheel

from harness.engine.plan import enforce_policy, plan
from harness.errors import HarnessError, PolicyError
from harness.model import ENGINES

TL = "top-level"
MD = "distribution metadata entry"

PYJWT = wheel(
    "PyJWT",
    ["jwt/__init__.py", "jwt/api_jwt.py", "jwt/algorithms.py"],
    dist="PyJWT-2.10.1.dist-info",
)
JWT = wheel("jwt", ["jwt/__init__.py", "jwt/jwa.py"], dist="jwt-1.4.0.dist-info")


# --------------------------------------------------------------------------- whole-tree


def test_whole_tree_google_then_protobuf_reproduces_the_bug() -> None:
    # why: pre-fix engine: the LAST claimant (protobuf's namespace tree) is projected as `google`
    # while google 1.9.3's regular package binds at runtime through the fallback.
    assert_plan(
        [GOOGLE, PROTOBUF],
        {
            "projections": {
                "google": "protobuf-6.33.5",
                "protobuf-6.33.5.dist-info": "protobuf-6.33.5",
            },
            "fallbacks": ["google-1.9.3"],
            "metadata": {"google": "google-1.9.3", "protobuf": "protobuf-6.33.5"},
            "collisions": [(TL, "google", "google-1.9.3", "protobuf-6.33.5")],
            "rules": {"google": "whole-tree-last-claimant"},
        },
        engine="whole-tree",
    )


def test_whole_tree_protobuf_then_google_projects_google() -> None:
    # why: the last claimant is google 1.9.3 itself, so concrete and runtime agree.
    assert_plan(
        [PROTOBUF, GOOGLE],
        {
            "projections": {"google": "google-1.9.3", "google-1.9.3.dist-info": "google-1.9.3"},
            "fallbacks": ["protobuf-6.33.5"],
            "metadata": {"google": "google-1.9.3", "protobuf": "protobuf-6.33.5"},
            "collisions": [(TL, "google", "protobuf-6.33.5", "google-1.9.3")],
        },
        engine="whole-tree",
    )


def test_whole_tree_pyjwt_and_jwt_hides_the_losing_side() -> None:
    # why: no merge in whole-tree: the last `jwt/` is projected, PyJWT on fallback, whose
    # api_jwt.py is shadowed by the projected regular package (the #1205 bug).
    assert_plan(
        [PYJWT, JWT],
        {
            "projections": {"jwt": "jwt", "jwt-1.4.0.dist-info": "jwt"},
            "fallbacks": ["PyJWT"],
            "metadata": {"pyjwt": "PyJWT", "jwt": "jwt"},
            "collisions": [(TL, "jwt", "PyJWT", "jwt")],
        },
        engine="whole-tree",
    )


def test_whole_tree_keeps_namespace_union_and_file_rules() -> None:
    # why: identical to merge for all-namespace top-levels and file top-levels.
    wheels = [synthetic("first", "ordinary"), synthetic("second", "ordinary")]
    assert plan(wheels, "whole-tree").projections == plan(wheels, "merge").projections
    assert plan(wheels, "whole-tree").fallbacks == plan(wheels, "merge").fallbacks


def test_whole_tree_suppresses_duplicate_metadata_losers() -> None:
    # why: three same-version pydantic_core copies: without suppression two would stay on
    # fallback and fail the metadata rule needlessly; suppressed, the last copy is the only one.
    wheels = [
        wheel(v, PYDANTIC_CORE, dist="pydantic_core-2.41.5.dist-info") for v in ("u1", "u2", "u3")
    ]
    assert_plan(
        wheels,
        {
            "projections": {"pydantic_core": "u3", "pydantic_core-2.41.5.dist-info": "u3"},
            "metadata": {"pydantic-core": "u3"},
            "collisions": [
                (TL, "pydantic_core", "u1", "u2"),
                (TL, "pydantic_core", "u2", "u3"),
                (MD, "pydantic_core-2.41.5.dist-info", "u1", "u2"),
                (MD, "pydantic_core-2.41.5.dist-info", "u2", "u3"),
            ],
        },
        engine="whole-tree",
    )


# --------------------------------------------------------------------------- pth, flat


def test_pth_projects_nothing_and_lists_every_wheel() -> None:
    # why: the naive baseline: every wheel a .pth line in order, addsitedir for unknown layout;
    # the first copy on sys.path owns metadata; console scripts still resolve last-wins.
    import dataclasses

    unknown = dataclasses.replace(wheel("u", ["u.py"]), top_levels=(), regular_top_levels=())
    wheels = [
        wheel("a", ["mod.py"], scripts=["tool=mod:a"]),
        wheel("b", ["mod.py"], scripts=["tool=mod:b"]),
        unknown,
    ]
    assert_plan(
        wheels,
        {
            "fallbacks": ["a", "b", ("u", True)],
            "metadata": {"a": "a", "b": "b", "u": "u"},
            "scripts": {"tool": ("b", "mod:b")},
            "collisions": [("console script", "tool", "a", "b")],
            "rules": {"a": "pth-fallback", "u": "pth-fallback"},
        },
        engine="pth",
    )


def test_pth_keeps_both_versions_visible() -> None:
    # why: the baseline does not supersede: both protobuf versions are lines; the first wins.
    result = plan([PROTOBUF_OLD, PROTOBUF], "pth")
    assert [f.label for f in result.fallbacks] == ["protobuf-5.29.5", "protobuf-6.33.5"]
    assert result.metadata_owners == (("protobuf", "protobuf-5.29.5"),)
    assert result.superseded == ()


def test_flat_plan_only_orders_wheels() -> None:
    # why: flat is the oracle: the materializer installs the wheels itself, in order.
    result = assert_plan([GOOGLE, PROTOBUF], {"fallbacks": []}, engine="flat")
    assert [(d.path, d.rule) for d in result.decisions] == [
        ("google-1.9.3", "flat-install"),
        ("protobuf-6.33.5", "flat-install"),
    ]


def test_flat_supersedes_earlier_copies_of_a_distribution_like_pip() -> None:
    # why: pip uninstalls an installed distribution before installing another copy of it, so
    # in the oracle only the last wheel of each distribution leaves files (any version).
    result = plan([PROTOBUF_OLD, GOOGLE, PROTOBUF], "flat")
    assert result.superseded == ("protobuf-5.29.5",)
    outcome = {d.path: (d.outcome, d.winner) for d in result.decisions}
    assert outcome["protobuf-5.29.5"] == ("superseded", "protobuf-6.33.5")
    assert outcome["google-1.9.3"] == ("install", "google-1.9.3")
    assert plan([GOOGLE, PROTOBUF], "flat").superseded == ()


def test_unknown_engine_lists_the_engines() -> None:
    with pytest.raises(HarnessError, match=", ".join(ENGINES)):
        plan([GOOGLE], "symlink-farm")


# --------------------------------------------------------------------------- policy


POLICY_CASES = [
    [synthetic("first", "ordinary"), synthetic("second", "ordinary")],
    [GOOGLE, PROTOBUF],
    [PYJWT, JWT],
    [PROTOBUF_OLD, PROTOBUF],
]


@pytest.mark.parametrize("wheels", POLICY_CASES)
@pytest.mark.parametrize("engine", ["merge", "whole-tree", "pth"])
def test_policy_never_changes_the_plan(wheels: list, engine: str) -> None:
    # why: the policy only decides whether collisions fail or print (engine-contract.md §6.1).
    result = plan(wheels, engine)
    before = result.to_json()
    messages = enforce_policy(result, "warning")
    assert len(messages) == len(result.collisions)
    assert all(c.describe() in m for c, m in zip(result.collisions, messages, strict=True))
    assert enforce_policy(result, "ignore") == []
    if result.collisions:
        with pytest.raises(PolicyError) as raised:
            enforce_policy(result, "error")
        assert result.collisions[0].describe() in str(raised.value)
        assert "--policy warning" in str(raised.value)
    else:
        assert enforce_policy(result, "error") == []
    assert result.to_json() == before == plan(wheels, engine).to_json()


def test_error_policy_reports_the_distribution_collision_first() -> None:
    # why: supersession is recorded before any top-level is resolved.
    with pytest.raises(PolicyError, match="distribution `protobuf` is given in two versions"):
        enforce_policy(plan([PROTOBUF_OLD, PROTOBUF, GOOGLE]), "error")


def test_error_policy_passes_a_collision_free_plan() -> None:
    assert enforce_policy(plan([wheel("a", ["a.py"])]), "error") == []


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(HarnessError, match="error, warning, ignore"):
        enforce_policy(plan([wheel("a", ["a.py"])]), "strict")


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("engine", ENGINES)
def test_planning_twice_gives_byte_identical_json(engine: str) -> None:
    wheels = [
        synthetic("first", "regular", "native_root"),
        synthetic("second", "extend_path"),
        GOOGLE,
        PROTOBUF,
        wheel("data", ["d.py"], data=["share/x/a.txt", "etc/y.cfg"]),
    ]
    assert plan(wheels, engine).to_json() == plan(list(wheels), engine).to_json()


def test_decisions_are_sorted_by_group_then_path() -> None:
    result = plan([synthetic("first", "ordinary"), synthetic("second", "ordinary")])
    groups = ["projections", "fallbacks", "metadata", "console scripts"]
    from harness.engine.plan import RULE_GROUPS

    seen = [RULE_GROUPS[d.rule] for d in result.decisions]
    assert seen == sorted(seen, key=groups.index)
    projections = [d.path for d in result.decisions if RULE_GROUPS[d.rule] == "projections"]
    assert projections == sorted(projections)
    assert "collision_second-1.0.dist-info" in {d.path for d in result.decisions}
