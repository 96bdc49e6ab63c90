"""Every plan invariant check can fail: each is shown a deliberately broken plan.

The base wheel set mixes every shape (entries and takeovers, a file collision, console scripts,
a pure merge, a native projection, a conflicted-root merge, a collapsed namespace, data files,
a metadata copy on fallback, a superseded version). Its plan passes every check; each test then
breaks one aspect with `dataclasses.replace` and expects the violation tagged for it.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from test_plan_resolver import AZURE_CORE, AZURE_TRACING, GOOGLE, PROTOBUF, PROTOBUF_OLD
from test_plan_support import synthetic, wheel

from harness.engine.invariants import check_plan_invariants
from harness.engine.plan import enforce_policy, plan
from harness.errors import PolicyError
from harness.model import RESERVED_PREFIX_ROOTS, Decision, Fallback, MergeGroup, Outcome, Plan

BASE = [
    synthetic("first", "ordinary"),
    synthetic("second", "ordinary"),
    wheel("PyJWT", ["jwt/__init__.py", "jwt/api_jwt.py"], dist="PyJWT-2.10.1.dist-info"),
    wheel("jwt", ["jwt/__init__.py", "jwt/jwa.py"], dist="jwt-1.4.0.dist-info"),
    PROTOBUF_OLD,
    GOOGLE,
    PROTOBUF,
    wheel("core", AZURE_CORE, dist="azure_core-1.38.0.dist-info"),
    wheel("tracing", AZURE_TRACING, dist="azure_core_tracing-1.0.dist-info"),
    wheel("cccl", ["nvidia/cu13/include/cccl/cub.cuh", "nvidia/cu13/lib/x.cmake"]),
    wheel("runtime", ["nvidia/cu13/include/cuda_runtime.h", "nvidia/cu13/bin/ptxas"]),
    wheel("data_a", ["da.py"], data=["share/app/a.json", "share/app/b.json", "etc/a.cfg"]),
    wheel("data_b", ["db.py"], data=["share/app/b.json", "share/other/c.txt"]),
    wheel("six_u1", ["six.py"], dist="six-1.17.0.dist-info"),
    wheel("six_u2", ["six.py"], dist="six-1.17.0.dist-info"),
]


@pytest.fixture(scope="module")
def base() -> Plan:
    result = plan(BASE)
    assert check_plan_invariants(BASE, result) == []  # premise: the real plan is sound
    # premise: the base really has each shape the broken plans below tamper with
    assert {m.root for m in result.merges} == {"jwt", "azure/core"}
    assert result.projection_map()["google"] == "google-1.9.3"
    assert result.superseded == ("protobuf-5.29.5",)
    assert "nvidia/cu13/lib" in result.projection_map()
    return result


def _broken(result: Plan, tag: str, wheels: list = BASE, **changes: object) -> list[str]:
    broken = dataclasses.replace(result, **changes)
    found = check_plan_invariants(wheels, broken)
    assert any(v.startswith(f"[{tag}]") for v in found), found
    return found


def _with(pairs: tuple, **updates: str | None) -> tuple:
    """A sorted (path, label) tuple with some paths re-owned (None removes the path)."""
    mapping = dict(pairs)
    for path, label in updates.items():
        if label is None:
            mapping.pop(path, None)
        else:
            mapping[path] = label
    return tuple(sorted(mapping.items()))


# --------------------------------------------------------------------------- 1, 2


def test_determinism_catches_a_planner_that_changes_its_mind(base: Plan) -> None:
    counter = itertools.count()

    def flaky(wheels, engine):  # type: ignore[no-untyped-def]
        result = plan(wheels, engine)
        return dataclasses.replace(result, decisions=result.decisions[: -1 - next(counter) % 2])

    found = check_plan_invariants(BASE, base, planner=flaky)
    assert any("planning the same wheels twice" in v for v in found), found


def test_determinism_catches_a_repeated_wheel_changing_the_plan(base: Plan) -> None:
    def keep_last(wheels, engine):  # type: ignore[no-untyped-def]
        seen: dict[str, object] = {}
        for w in wheels:  # a repeated wheel moves to its LAST position: wrong
            seen.pop(w.label, None)
            seen[w.label] = w
        return plan(list(seen.values()), engine)

    found = check_plan_invariants(BASE, base, planner=keep_last)
    assert any("listing the first wheel a second time" in v for v in found), found


def test_determinism_catches_a_plan_that_is_not_the_planners(base: Plan) -> None:
    found = _broken(base, "determinism", decisions=base.decisions[1:])
    assert any("differs from a fresh plan" in v for v in found)


def test_policy_neutrality_catches_a_silent_warning(base: Plan) -> None:
    def lax(result: Plan, policy: str) -> list[str]:
        return [] if policy == "warning" else enforce_policy(result, policy)

    found = check_plan_invariants(BASE, base, enforce=lax)
    assert any(v.startswith("[policy-neutrality] policy warning") for v in found), found


def test_policy_neutrality_catches_error_that_does_not_fail(base: Plan) -> None:
    def toothless(result: Plan, policy: str) -> list[str]:
        return enforce_policy(result, "warning" if policy == "error" else policy)

    found = check_plan_invariants(BASE, base, enforce=toothless)
    assert any("policy error did not fail" in v for v in found), found


def test_policy_neutrality_catches_ignore_that_fails(base: Plan) -> None:
    def strict(result: Plan, policy: str) -> list[str]:
        if policy == "ignore" and result.collisions:
            raise PolicyError("no")
        return enforce_policy(result, policy)

    found = check_plan_invariants(BASE, base, enforce=strict)
    assert any("policy ignore raised" in v for v in found), found


# --------------------------------------------------------------------------- 3, 4


def test_no_nested_outputs_catches_a_link_inside_a_merge(base: Plan) -> None:
    found = _broken(
        base, "no-nested-outputs", projections=_with(base.projections, **{"jwt/jwa.py": "jwt"})
    )
    assert any("lies under merge root `jwt`" in v for v in found)


def test_no_nested_outputs_catches_a_link_inside_a_native_root(base: Plan) -> None:
    _broken(
        base,
        "no-nested-outputs",
        projections=_with(base.projections, **{"google/protobuf": "protobuf-6.33.5"}),
    )


def test_no_nested_outputs_catches_nested_data_paths(base: Plan) -> None:
    assert dict(base.data_projections)["etc"] == "data_a"  # premise: a collapsed directory
    data = _with(base.data_projections, **{"etc/a.cfg": "data_a"})
    _broken(base, "no-nested-outputs", data_projections=data)


def test_reserved_prefix_catches_a_data_path_in_bin(base: Plan) -> None:
    data = _with(base.data_projections, **{"bin/python": "data_a"})
    _broken(base, "reserved-prefix", data_projections=data)


def test_reserved_prefix_catches_a_data_path_in_the_harness_state(base: Plan) -> None:
    # why: `.harness/` holds the plan and manifest `harness check VENV` reads back.
    data = _with(base.data_projections, **{".harness/plan.json": "data_a"})
    _broken(base, "reserved-prefix", data_projections=data)


def test_reserved_prefix_catches_a_console_script_replacing_python(base: Plan) -> None:
    scripts = tuple(sorted((*base.console_scripts, ("python3", "first", "m", "main"))))
    _broken(base, "reserved-prefix", console_scripts=scripts)


# --------------------------------------------------------------------------- 5


def test_last_distinct_wins_catches_a_file_top_level_given_to_the_loser(base: Plan) -> None:
    projections = _with(base.projections, **{"collision_order.py": "first"})
    _broken(base, "last-distinct-wins", projections=projections)


def test_last_distinct_wins_catches_a_namespace_entry_given_to_the_loser(base: Plan) -> None:
    projections = _with(base.projections, **{"collision_namespace/shared.py": "first"})
    _broken(base, "last-distinct-wins", projections=projections)


def test_last_distinct_wins_catches_a_console_script_given_to_the_loser(base: Plan) -> None:
    scripts = (("collision-order", "first", "collision_namespace.first", "main"),)
    _broken(base, "last-distinct-wins", console_scripts=scripts)


def test_last_distinct_wins_catches_a_data_path_given_to_the_loser(base: Plan) -> None:
    data = _with(base.data_projections, **{"share/app/b.json": "data_a"})
    _broken(base, "last-distinct-wins", data_projections=data)


def test_last_distinct_wins_catches_a_lost_data_path(base: Plan) -> None:
    data = _with(base.data_projections, **{"share/other": None})
    _broken(base, "last-distinct-wins", data_projections=data)


def test_last_distinct_wins_catches_the_losers_metadata_projected() -> None:
    wheels = [wheel(v, ["m/__init__.py", "m/x.so"], dist="m-1.0.dist-info") for v in ("a", "b")]
    result = plan(wheels)
    assert result.projection_map()["m-1.0.dist-info"] == "b"  # premise
    projections = _with(result.projections, **{"m-1.0.dist-info": "a"})
    _broken(result, "last-distinct-wins", wheels=wheels, projections=projections)


def test_concrete_visibility_catches_an_entry_without_a_link(base: Plan) -> None:
    projections = _with(base.projections, **{"collision_namespace/first.py": None})
    _broken(base, "concrete-visibility", projections=projections)


# --------------------------------------------------------------------------- 6, 7


def test_fallback_completeness_catches_a_missing_fallback(base: Plan) -> None:
    fallbacks = tuple(f for f in base.fallbacks if f.label != "first")
    _broken(base, "fallback-completeness", fallbacks=fallbacks)


def test_fallback_completeness_catches_a_duplicate_line(base: Plan) -> None:
    _broken(base, "fallback-completeness", fallbacks=(*base.fallbacks, base.fallbacks[0]))


def test_fallback_completeness_catches_addsitedir_for_a_known_layout(base: Plan) -> None:
    fallbacks = tuple(Fallback(f.label, addsitedir=True) for f in base.fallbacks)
    found = _broken(base, "fallback-completeness", fallbacks=fallbacks)
    assert any("gets a addsitedir line" in v for v in found)


def test_fallback_completeness_catches_unknown_layout_fully_covered() -> None:
    unknown = dataclasses.replace(wheel("u", ["u.py"]), top_levels=(), regular_top_levels=())
    result = plan([unknown])
    found = _broken(
        result, "fallback-completeness", wheels=[unknown], fallbacks=(), fully_covered=("u",)
    )
    assert any("unknown layout but is marked fully covered" in v for v in found)


def test_no_silent_loss_catches_a_loser_taken_off_the_fallback(base: Plan) -> None:
    # `first` lost shared.py and collision_order.py: marking it fully covered would lose them.
    fallbacks = tuple(f for f in base.fallbacks if f.label != "first")
    covered = tuple(label for label in base.wheels if label in {"first", *base.fully_covered})
    found = _broken(base, "no-silent-loss", fallbacks=fallbacks, fully_covered=covered)
    assert any("fully covered wheel first loses" in v for v in found)


# --------------------------------------------------------------------------- 12, 13, 9


def test_native_origin_catches_native_code_in_a_merge(base: Plan) -> None:
    merges = (*base.merges, MergeGroup("google", ("google-1.9.3", "protobuf-6.33.5")))
    projections = _with(base.projections, google=None)
    found = _broken(
        base,
        "native-origin",
        merges=tuple(sorted(merges, key=lambda m: m.root)),
        projections=projections,
    )
    assert any("google/_upb/_message.abi3.so" in v for v in found)


def test_native_origin_catches_a_namespace_native_winner(base: Plan) -> None:
    projections = _with(base.projections, google="protobuf-6.33.5")
    _broken(base, "native-origin", projections=projections)


def test_regular_beats_graft_catches_the_graft_projected(base: Plan) -> None:
    projections = _with(base.projections, google="protobuf-6.33.5")
    _broken(base, "regular-beats-graft", projections=projections)


def test_regular_beats_graft_is_not_checked_for_whole_tree() -> None:
    # whole-tree reproduces the google/protobuf bug on purpose: its plan stays sound.
    wheels = [GOOGLE, PROTOBUF]
    result = plan(wheels, "whole-tree")
    assert result.projection_map()["google"] == "protobuf-6.33.5"
    assert check_plan_invariants(wheels, result) == []


def test_namespace_purity_catches_a_shared_namespace_symlinked(base: Plan) -> None:
    projections = _with(base.projections, collision_namespace="second")
    _broken(base, "namespace-purity", projections=projections)


def test_namespace_purity_catches_a_shared_namespace_dir_bound(base: Plan) -> None:
    projections = _with(base.projections, **{"nvidia/cu13/include": "cccl"})
    _broken(base, "namespace-purity", projections=projections)


# --------------------------------------------------------------------------- 8 and the rest


def test_one_metadata_copy_catches_a_second_visible_copy(base: Plan) -> None:
    # six_u1 is the fallback copy; projecting six_u2's dist-info too makes two.
    projections = _with(base.projections, **{"six-1.17.0.dist-info": "six_u2"})
    found = _broken(base, "one-metadata-copy", projections=projections)
    assert any("`six` has 2 visible copies" in v for v in found)


def test_one_metadata_copy_catches_a_wrong_owner(base: Plan) -> None:
    owners = tuple(
        (name, "six_u2" if name == "six" else label) for name, label in base.metadata_owners
    )
    _broken(base, "one-metadata-copy", metadata_owners=owners)


def test_supersede_catches_an_earlier_version_kept(base: Plan) -> None:
    found = _broken(
        base, "supersede", superseded=(), fallbacks=(*base.fallbacks, Fallback("protobuf-5.29.5"))
    )
    assert any("superseded wheels ()" in v for v in found)


def test_supersede_catches_a_superseded_wheel_still_used(base: Plan) -> None:
    scripts = (*base.console_scripts, ("zzz", "protobuf-5.29.5", "m", "f"))
    _broken(base, "supersede", console_scripts=scripts)


def test_owners_ship_paths_catches_a_link_to_the_wrong_tree(base: Plan) -> None:
    projections = _with(base.projections, **{"xds": "first"})
    found = _broken(base, "owners-ship-paths", projections=projections)
    assert any("`xds` is projected to first, which does not ship it" in v for v in found)


def test_owners_ship_paths_catches_merge_contributors_out_of_order(base: Plan) -> None:
    merges = tuple(
        MergeGroup(m.root, m.contributors[::-1]) if m.root == "jwt" else m for m in base.merges
    )
    _broken(base, "owners-ship-paths", merges=merges)


def test_decisions_catch_an_unexplained_projection(base: Plan) -> None:
    decisions = tuple(d for d in base.decisions if d.path != "nvidia/cu13/lib")
    _broken(base, "decisions", decisions=decisions)


def test_decisions_catch_an_unknown_rule(base: Plan) -> None:
    bogus = Decision("da.py", "because-i-said-so", ("data_a",), Outcome.PROJECT, "data_a")
    _broken(base, "decisions", decisions=(*base.decisions, bogus))


def test_decisions_catch_an_outcome_its_rule_never_gives(base: Plan) -> None:
    # why: the rule table says what each rule may do; a namespace union never merges.
    decisions = tuple(
        dataclasses.replace(d, outcome=Outcome.MERGE) if d.rule == "namespace-union" else d
        for d in base.decisions
    )
    assert decisions != base.decisions  # premise: the base has a namespace union
    _broken(base, "decisions", decisions=decisions)


def test_shape_catches_unsorted_projections(base: Plan) -> None:
    _broken(base, "shape", projections=base.projections[::-1])


def test_shape_catches_a_flat_plan_that_projects() -> None:
    wheels = [GOOGLE, PROTOBUF]
    flat = plan(wheels, "flat")
    assert check_plan_invariants(wheels, flat) == []
    _broken(flat, "shape", wheels=wheels, projections=(("google", "google-1.9.3"),))


def test_pth_checks_catch_a_missing_line() -> None:
    wheels = [GOOGLE, PROTOBUF]
    result = plan(wheels, "pth")
    assert check_plan_invariants(wheels, result) == []
    _broken(result, "fallback-completeness", wheels=wheels, fallbacks=result.fallbacks[:1])
    _broken(
        result,
        "one-metadata-copy",
        wheels=wheels,
        metadata_owners=(("google", "protobuf-6.33.5"), ("protobuf", "protobuf-6.33.5")),
    )


def test_invariants_are_fast_on_a_large_namespace() -> None:
    # The runner checks every case: 2000 per-file entries must stay well under a second.
    import time

    files_a = [f"nvidia/cu13/include/cccl/d{i // 50}/f{i}.h" for i in range(1000)]
    files_b = [f"nvidia/cu13/include/f{i}.h" for i in range(1000)]
    wheels = [wheel("a", files_a), wheel("b", files_b)]
    start = time.perf_counter()
    result = plan(wheels)
    assert check_plan_invariants(wheels, result) == []
    assert time.perf_counter() - start < 2.0


def test_the_checker_derives_its_helpers_itself() -> None:
    # An oracle must not share code with what it judges: the path and distribution helpers the
    # checker uses are its own, not the planner's (a bug there would move both sides at once).
    from harness import model
    from harness.engine import invariants, invariants_context
    from harness.engine import plan as planner
    from harness.facts import split_dist_info

    assert invariants.ancestors is not planner.ancestors
    assert invariants.distribution_key is not planner.distribution_key
    assert invariants.VENV_OWNED_PREFIX_ROOTS is not planner.RESERVED_DATA_ROOTS
    assert set(invariants.VENV_OWNED_PREFIX_ROOTS) == set(RESERVED_PREFIX_ROOTS)  # agree, apart
    assert invariants_context.venv_owned_script is not model.venv_owned_script
    for name in ("python", "python3", "python3.12", "python3.", "python3.x", "python2", "pythonic"):
        assert invariants_context.venv_owned_script(name) == model.venv_owned_script(name), name
    assert invariants.ancestors("a/b/c.py") == ["a", "a/b"]
    for name in ("Foo_Bar-1.0.dist-info", "inquirerpy-0.3.4.dist-info", "odd.dist-info"):
        assert invariants.distribution_key(name) == split_dist_info(name)[0]
    assert invariants.distribution_key("Foo.Bar-1.0-py3.11.egg-info") == "foo-bar"
