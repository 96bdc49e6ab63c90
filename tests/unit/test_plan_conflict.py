"""Planner tests for every upstream `py_venv_conflict` scenario (engine-contract.md §9.2).

Each row gives the wheel order, the whole expected plan and a one-line why reasoned from the
rules of engine-contract.md §3 and §4. Runtime assertions upstream (which module imports,
which Summary is visible) translate to which wheel owns which path and who stays on fallback.
"""

from __future__ import annotations

import pytest
from test_plan_support import assert_plan, synthetic

from harness.engine.plan import enforce_policy, plan
from harness.errors import PlanError, PolicyError

NS = "collision_namespace"
TL = "top-level"
NSE = "namespace entry"
CS = "console script"
MD = "distribution metadata entry"


def _ordinary_pair(first: str, second: str) -> dict:
    """Two ordinary wheels: every claim goes to the later one, the earlier stays on fallback
    (it lost `shared.py` and `collision_order.py`) and keeps its own metadata visible."""
    return {
        "projections": {
            f"{NS}/{first}.py": first,
            f"{NS}/{second}.py": second,
            f"{NS}/shared.py": second,
            "collision_order.py": second,
            f"collision_{second}-1.0.dist-info": second,
        },
        "fallbacks": [first],
        "metadata": {f"collision-{first}": first, f"collision-{second}": second},
        "scripts": {"collision-order": (second, f"{NS}.{second}:main")},
        "collisions": [
            (NSE, f"{NS}/shared.py", first, second),
            (TL, "collision_order.py", first, second),
            (CS, "collision-order", first, second),
        ],
        "rules": {
            f"{NS}/shared.py": "namespace-takeover",
            f"{NS}/{first}.py": "namespace-entry",
            "collision_order.py": "file-last-wins",
            "collision-order": "console-script-last-wins",
            first: "fallback-plain",
            f"collision_{second}-1.0.dist-info": "metadata-project",
            f"collision_{first}-1.0.dist-info": "metadata-fallback-owner",
        },
    }


def test_later_direct_claimant_wins() -> None:
    # why: sequence [first, second]: the last distinct claimant wins every shared name.
    wheels = [synthetic("first", "ordinary"), synthetic("second", "ordinary")]
    assert_plan(wheels, _ordinary_pair("first", "second"))


def test_later_transitive_claimant_wins() -> None:
    # why: deps [second, branch→first] flatten to [second, first]: sequence, not directness.
    wheels = [synthetic("second", "ordinary"), synthetic("first", "ordinary")]
    assert_plan(wheels, _ordinary_pair("second", "first"))


def test_collision_error_reports_first_recorded_collision() -> None:
    # why: `collision_namespace` is the first contested bucket, its shared.py the first takeover.
    result = plan([synthetic("first", "ordinary"), synthetic("second", "ordinary")])
    with pytest.raises(PolicyError, match=r"namespace entry `collision_namespace/shared\.py`"):
        enforce_policy(result, "error")


def test_metadata_collision_single_fallback_copy_owns_discovery() -> None:
    # why: `dup` reuses collision_first's dist-info; `first` lost shared.py so it is the one copy
    # on fallback: 0/1/many → 1 → nothing projected, first's copy owns discovery (HEAD fails).
    wheels = [
        synthetic("first", "ordinary"),
        synthetic("dup", "ordinary", metadata_name="first"),
    ]
    assert_plan(
        wheels,
        {
            "projections": {
                f"{NS}/first.py": "first",
                f"{NS}/dup.py": "dup",
                f"{NS}/shared.py": "dup",
                "collision_order.py": "dup",
            },
            "fallbacks": ["first"],
            "metadata": {"collision-first": "first"},
            "scripts": {"collision-order": ("dup", f"{NS}.dup:main")},
            "collisions": [
                (NSE, f"{NS}/shared.py", "first", "dup"),
                (TL, "collision_order.py", "first", "dup"),
                (CS, "collision-order", "first", "dup"),
                (MD, "collision_first-1.0.dist-info", "first", "dup"),
            ],
            "rules": {"collision_first-1.0.dist-info": "metadata-fallback-owner"},
        },
    )


def test_metadata_collision_many_fallback_copies_is_a_hard_error() -> None:
    # why: three copies of one dist-info, the first two lose shared.py → 2 on fallback → fatal,
    # whatever the policy; the message names every copy.
    wheels = [synthetic(v, "ordinary", metadata_name="first") for v in ("a", "b", "c")]
    with pytest.raises(PlanError, match=r"`collision-first`.*2 visible metadata copies: a, b"):
        plan(wheels)


def test_metadata_suppression_two_metadata_only_wheels() -> None:
    # why: metadata-only wheels are vacuously fully covered → 0 on fallback → project the last.
    wheels = [
        synthetic("s1", "metadata_only", metadata_name="metadata_shared"),
        synthetic("s2", "metadata_only", metadata_name="metadata_shared"),
    ]
    assert_plan(
        wheels,
        {
            "projections": {"collision_metadata_shared-1.0.dist-info": "s2"},
            "metadata": {"collision-metadata-shared": "s2"},
            "collisions": [(MD, "collision_metadata_shared-1.0.dist-info", "s1", "s2")],
        },
    )


def test_namespace_fallback_order() -> None:
    # why: pure PEP 420 pair: per-entry links, shared.py to the later wheel, the earlier one on
    # fallback so its unique module still joins the namespace at runtime.
    wheels = [synthetic("first"), synthetic("second")]
    assert_plan(
        wheels,
        {
            "projections": {
                f"{NS}/first.py": "first",
                f"{NS}/second.py": "second",
                f"{NS}/shared.py": "second",
                "collision_second-1.0.dist-info": "second",
            },
            "fallbacks": ["first"],
            "metadata": {"collision-first": "first", "collision-second": "second"},
            "collisions": [(NSE, f"{NS}/shared.py", "first", "second")],
            "rules": {NS: "namespace-union"},
        },
    )


def test_mixed_namespace_regular_merges() -> None:
    # why: regular + namespace claimant of one directory, no native code → physical merge (#1118).
    from test_plan_support import dist, wheel

    wheels = [
        wheel("namespace", ["mixed_top/from_namespace.py"]),
        wheel("regular", ["mixed_top/__init__.py", "mixed_top/from_regular.py"]),
    ]
    assert_plan(
        wheels,
        {
            "projections": {dist("namespace"): "namespace", dist("regular"): "regular"},
            "merges": {"mixed_top": ["namespace", "regular"]},
            "metadata": {"namespace": "namespace", "regular": "regular"},
            "collisions": [(TL, "mixed_top", "namespace", "regular")],
            "rules": {"mixed_top": "mixed-merge"},
        },
    )


def test_regular_directory_union() -> None:
    # why: two regular `collision_order/` without native code merge; `first` still loses
    # shared.py, so it stays on fallback for that portion.
    wheels = [synthetic("first", "regular"), synthetic("second", "regular")]
    assert_plan(
        wheels,
        {
            "projections": {
                f"{NS}/first.py": "first",
                f"{NS}/second.py": "second",
                f"{NS}/shared.py": "second",
                "collision_second-1.0.dist-info": "second",
            },
            "merges": {"collision_order": ["first", "second"]},
            "fallbacks": ["first"],
            "metadata": {"collision-first": "first", "collision-second": "second"},
            "collisions": [
                (NSE, f"{NS}/shared.py", "first", "second"),
                (TL, "collision_order", "first", "second"),
            ],
        },
    )


def test_native_directory_collision_with_namespace() -> None:
    # why: native → the last regular claimant (second) is projected whole, never merged; first is
    # a duplicate-metadata loser so collision_order is suppressed, but it lost shared.py → it is
    # the single copy on fallback and owns discovery.
    wheels = [
        synthetic("first", "regular", metadata_name="native"),
        synthetic("second", "regular", "native_root", metadata_name="native"),
    ]
    assert_plan(
        wheels,
        {
            "projections": {
                "collision_order": "second",
                "collision_order.libs": "second",
                f"{NS}/first.py": "first",
                f"{NS}/second.py": "second",
                f"{NS}/shared.py": "second",
            },
            "fallbacks": ["first"],
            "metadata": {"collision-native": "first"},
            "collisions": [
                (NSE, f"{NS}/shared.py", "first", "second"),
                (TL, "collision_order", "first", "second"),
                (MD, "collision_native-1.0.dist-info", "first", "second"),
            ],
            "rules": {"collision_order": "native-last-regular"},
        },
    )


def test_native_directory_collision_suppresses_duplicate_metadata_loser() -> None:
    # why: without the namespace, first only loses the native collision as a duplicate-metadata
    # loser → suppressed (covered) → 0 on fallback → second's dist-info is the one copy.
    wheels = [
        synthetic("first", "regular", metadata_name="native", namespace=False),
        synthetic("second", "regular", "native_root", metadata_name="native", namespace=False),
    ]
    assert_plan(
        wheels,
        {
            "projections": {
                "collision_order": "second",
                "collision_order.libs": "second",
                "collision_native-1.0.dist-info": "second",
            },
            "metadata": {"collision-native": "second"},
            "collisions": [
                (TL, "collision_order", "first", "second"),
                (MD, "collision_native-1.0.dist-info", "first", "second"),
            ],
        },
    )


def _graft_pair(first: str, second: str) -> dict:
    """A regular (extend_path) wheel then a native namespace graft: the regular one wins
    `collision_order` whatever the order; the graft stays on fallback for extend_path."""
    return {
        "projections": {
            "collision_order": first,
            f"{NS}/{first}.py": first,
            f"{NS}/{second}.py": second,
            f"{NS}/shared.py": second,
        },
        "fallbacks": [first, second],
        "metadata": {f"collision-{first}": first, f"collision-{second}": second},
        "collisions": [
            (NSE, f"{NS}/shared.py", first, second),
            (TL, "collision_order", first, second),
        ],
        "rules": {"collision_order": "native-last-regular"},
    }


def test_native_namespace_regular_first() -> None:
    # why: a namespace-only native graft never wins over a regular package; first lost shared.py
    # so both wheels are on fallback, each owning its own metadata.
    wheels = [synthetic("first", "extend_path"), synthetic("second", "native_namespace")]
    assert_plan(wheels, _graft_pair("first", "second"))


def test_distinct_metadata_graft() -> None:
    # why: as above, plus a metadata-only third wheel (fully covered, its dist-info projected);
    # all three distributions are distinct, so duplicate-metadata losers are per distribution.
    wheels = [
        synthetic("dfirst", "extend_path"),
        synthetic("dsecond", "native_namespace"),
        synthetic("third", "metadata_only"),
    ]
    expected = _graft_pair("dfirst", "dsecond")
    expected["projections"]["collision_third-1.0.dist-info"] = "third"
    expected["metadata"]["collision-third"] = "third"
    assert_plan(wheels, expected)


def test_extend_path_regular_collision() -> None:
    # why: two regular native packages → last regular (esecond) projected; efirst, a distinct
    # distribution, stays on fallback so esecond's extend_path can graft from it.
    wheels = [
        synthetic("efirst", "regular", "native_root"),
        synthetic("esecond", "extend_path", "native_root"),
    ]
    assert_plan(
        wheels,
        {
            "projections": {
                "collision_order": "esecond",
                "collision_order.libs/marker.txt": "esecond",
                f"{NS}/efirst.py": "efirst",
                f"{NS}/esecond.py": "esecond",
                f"{NS}/shared.py": "esecond",
                "collision_esecond-1.0.dist-info": "esecond",
            },
            "fallbacks": ["efirst"],
            "metadata": {"collision-efirst": "efirst", "collision-esecond": "esecond"},
            "collisions": [
                (NSE, f"{NS}/shared.py", "efirst", "esecond"),
                (TL, "collision_order", "efirst", "esecond"),
                (NSE, "collision_order.libs/marker.txt", "efirst", "esecond"),
            ],
        },
    )


def test_native_duplicate_graft_collision() -> None:
    # why: two grafts share one dist-info: graft_first is a duplicate-metadata loser → suppressed
    # (not found at runtime); graft_second stays on fallback as the single visible copy.
    wheels = [
        synthetic("first", "extend_path"),
        synthetic("graft_first", "native_namespace", metadata_name="graft", namespace=False),
        synthetic("graft_second", "native_namespace", metadata_name="graft", namespace=False),
    ]
    assert_plan(
        wheels,
        {
            "projections": {
                NS: "first",
                "collision_order": "first",
                "collision_first-1.0.dist-info": "first",
            },
            "fallbacks": ["graft_second"],
            "metadata": {"collision-first": "first", "collision-graft": "graft_second"},
            "collisions": [
                (TL, "collision_order", "first", "graft_first"),
                (TL, "collision_order", "graft_first", "graft_second"),
                (MD, "collision_graft-1.0.dist-info", "graft_first", "graft_second"),
            ],
        },
    )


def test_native_duplicate_graft_losing_a_namespace_entry_is_fatal() -> None:
    # why: if the grafts also ship the namespace, graft_first loses shared.py → it is on
    # fallback besides graft_second → two visible copies of collision-graft → hard error.
    wheels = [
        synthetic("first", "extend_path"),
        synthetic("graft_first", "native_namespace", metadata_name="graft"),
        synthetic("graft_second", "native_namespace", metadata_name="graft"),
    ]
    with pytest.raises(PlanError, match="graft_first, graft_second"):
        plan(wheels)


_SITE_MERGE = {
    "other": ["other/from_other.py"],
    "regular": ["mixed/root/__init__.py", "mixed/root/collision.py", "mixed/sibling.py"],
    "graft": ["mixed/root/collision.py", "mixed/root/graft_unique.py", "mixed/sibling.py"],
    "final": [
        "mixed/root/collision.py",
        "mixed/root/final_unique.py",
        "mixed/sibling.py",
        "other/from_final.py",
    ],
}


def test_site_merge_order() -> None:
    # why: `mixed/root` is regular in `regular` and a namespace dir in graft/final → conflicted
    # root merged in wheel order [regular, graft, final] (final overlays last); sibling.py goes
    # to final by takeover (regular, graft on fallback); `other` is a plain namespace union.
    from test_plan_support import dist, wheel

    wheels = [wheel(label, paths) for label, paths in _SITE_MERGE.items()]
    assert_plan(
        wheels,
        {
            "projections": {
                "other/from_other.py": "other",
                "other/from_final.py": "final",
                "mixed/sibling.py": "final",
                dist("other"): "other",
                dist("final"): "final",
            },
            "merges": {"mixed/root": ["regular", "graft", "final"]},
            "fallbacks": ["regular", "graft"],
            "metadata": {
                "other": "other",
                "regular": "regular",
                "graft": "graft",
                "final": "final",
            },
            "collisions": [
                (NSE, "mixed/sibling.py", "regular", "graft"),
                (NSE, "mixed/sibling.py", "graft", "final"),
            ],
            "rules": {
                "mixed/root": "conflicted-root-merge",
                "mixed/root/collision.py": "conflicted-root-merge",
            },
        },
    )


_NESTED = {
    "graft": ["mixed/native/graft.py", "mixed/native/_graft.so", "mixed/pure/graft.py"],
    "regular": [
        "mixed/native/__init__.py",
        "mixed/native/regular.py",
        "mixed/native/_regular.so",
        "mixed/pure/__init__.py",
        "mixed/pure/regular.py",
    ],
}


@pytest.mark.parametrize("order", [("graft", "regular"), ("regular", "graft")])
def test_native_nested_collision(order: tuple[str, str]) -> None:
    # why: under namespace `mixed`, the native conflicted root `mixed/native` is projected to its
    # only regular claimant in either order (graft on fallback), while the pure conflicted root
    # `mixed/pure` merges in wheel order. Nothing records a collision: no top-level is contested.
    from test_plan_support import dist, wheel

    wheels = [wheel(label, _NESTED[label]) for label in order]
    assert_plan(
        wheels,
        {
            "projections": {"mixed/native": "regular", dist("regular"): "regular"},
            "merges": {"mixed/pure": list(order)},
            "fallbacks": ["graft"],
            "metadata": {"graft": "graft", "regular": "regular"},
            "rules": {
                "mixed/native": "native-span-last-regular",
                "mixed/pure": "conflicted-root-merge",
            },
        },
    )
