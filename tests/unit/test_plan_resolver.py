"""Planner tests for the upstream resolver unit cases (engine-contract.md §9.3) and the
real-world shapes.

Real-world shapes (engine-contract.md §1.6 worked examples, §9.6 history) are given as
representative RECORD path lists of the named wheels, so the facts are what the real wheel would
produce.
"""

from __future__ import annotations

import dataclasses

import pytest
from test_plan_support import assert_plan, dist, wheel

from harness.engine.plan import plan
from harness.errors import PlanError

TL = "top-level"
NSE = "namespace entry"
DF = "data file"
MD = "distribution metadata entry"
VENV = "the virtual environment"


# ------------------------------------------------------------------ engine-contract.md §9.3


def test_single_wheel() -> None:
    # why: one claimant per name → projected whole, fully covered, its script parsed, no merge.
    wheels = [wheel("a", ["pkg/__init__.py", "pkg/mod.py"], scripts=["tool=pkg.mod:main"])]
    assert_plan(
        wheels,
        {
            "projections": {"pkg": "a", dist("a"): "a"},
            "metadata": {"a": "a"},
            "scripts": {"tool": ("a", "pkg.mod:main")},
            "rules": {"pkg": "single-claimant", dist("a"): "metadata-project"},
        },
    )


def test_namespace_merge() -> None:
    # why: disjoint regular sub-packages of one PEP 420 namespace → one link per entry.
    wheels = [wheel("a", ["ns/sub_a/__init__.py"]), wheel("b", ["ns/sub_b/__init__.py"])]
    assert_plan(
        wheels,
        {
            "projections": {"ns/sub_a": "a", "ns/sub_b": "b", dist("a"): "a", dist("b"): "b"},
            "metadata": {"a": "a", "b": "b"},
        },
    )


def test_console_script_collision() -> None:
    # why: the last claimant's entry point wins the `tool` wrapper.
    wheels = [
        wheel("a", ["a_mod.py"], scripts=["tool=a_mod:main"]),
        wheel("b", ["b_mod.py"], scripts=["tool=b_mod:run"]),
    ]
    assert_plan(
        wheels,
        {
            "projections": {"a_mod.py": "a", "b_mod.py": "b", dist("a"): "a", dist("b"): "b"},
            "metadata": {"a": "a", "b": "b"},
            "scripts": {"tool": ("b", "b_mod:run")},
            "collisions": [("console script", "tool", "a", "b")],
        },
    )


def test_regular_collision_keeps_fallback() -> None:
    # why: file top-level → last wins; the loser keeps its uncontested module projected but is
    # not fully covered (stays on fallback for extend_path grafts), so its metadata is there.
    wheels = [wheel("a", ["mod.py", "only_a.py"]), wheel("b", ["mod.py"])]
    assert_plan(
        wheels,
        {
            "projections": {"mod.py": "b", "only_a.py": "a", dist("b"): "b"},
            "fallbacks": ["a"],
            "metadata": {"a": "a", "b": "b"},
            "collisions": [(TL, "mod.py", "a", "b")],
        },
    )


def test_entryless_namespace_keeps_fallback() -> None:
    # why: hand-written records without namespace entries cannot be linked per entry → both
    # wheels reach the namespace through fallback only, neither is fully covered.
    wheels = [
        dataclasses.replace(wheel(label, [f"ns/{label}.py"]), namespace_entries=())
        for label in ("a", "b")
    ]
    assert_plan(
        wheels,
        {
            "fallbacks": ["a", "b"],
            "metadata": {"a": "a", "b": "b"},
            "rules": {"ns": "namespace-union"},
        },
    )


def test_data_file_collision() -> None:
    # why: data ownership is per file: disjoint files stay with their wheel, the shared one goes
    # to the later wheel; `share` has two owners so nothing collapses.
    wheels = [
        wheel("a", [], data=["share/a.txt", "share/common.txt"]),
        wheel("b", [], data=["share/b.txt", "share/common.txt"]),
    ]
    assert_plan(
        wheels,
        {
            "projections": {dist("a"): "a", dist("b"): "b"},
            "metadata": {"a": "a", "b": "b"},
            "data": {"share/a.txt": "a", "share/b.txt": "b", "share/common.txt": "b"},
            "collisions": [(DF, "share/common.txt", "a", "b")],
        },
    )


def test_data_file_reserved_paths() -> None:
    # why: `bin`, `lib`, `pyvenv.cfg` belong to the venv: each reserved path is refused with one
    # collision naming all its claimants; only `share` (single owner, collapsed) is projected.
    reserved_a = [
        "bin",
        "bin/python",
        "bin/python/nested.txt",
        "bin/activate",
        "pyvenv.cfg",
        "lib",
        "lib/python3.11/site-packages/evil.py",
        "lib/libx.so",
    ]
    wheels = [
        wheel("a", [], data=[*reserved_a, "bin/acli", "share/doc/readme.txt"]),
        wheel("b", [], data=["bin/acli"]),
    ]
    result = assert_plan(
        wheels,
        {
            "projections": {dist("a"): "a", dist("b"): "b"},
            "metadata": {"a": "a", "b": "b"},
            "data": {"share": "a"},
            "collisions": [
                (DF, "bin", "a", VENV),
                (DF, "bin/acli", "a, b", VENV),
                (DF, "bin/activate", "a", VENV),
                (DF, "bin/python", "a", VENV),
                (DF, "bin/python/nested.txt", "a", VENV),
                (DF, "lib", "a", VENV),
                (DF, "lib/libx.so", "a", VENV),
                (DF, "lib/python3.11/site-packages/evil.py", "a", VENV),
                (DF, "pyvenv.cfg", "a", VENV),
            ],
            "rules": {"bin/acli": "data-reserved", "share": "data-collapse"},
        },
    )
    assert len(result.collisions) == 9
    acli = next(c for c in result.collisions if c.name == "bin/acli")
    assert "from a, b is not projected" in acli.message
    assert "owns `bin`" in acli.message


def test_data_file_under_the_harness_state_is_refused() -> None:
    # why: `.harness/` holds the plan and manifest of the venv, and virtualenv writes
    # `CACHEDIR.TAG`: a wheel's data file there is refused by the plan (one collision naming the
    # venv), so materializing never meets it.
    data = [".harness/x", ".harness/plan.json", "CACHEDIR.TAG", "etc/a.cfg"]
    wheels = [wheel("a", ["a_mod.py"], data=data)]
    result = assert_plan(
        wheels,
        {
            "projections": {"a_mod.py": "a", dist("a"): "a"},
            "metadata": {"a": "a"},
            "data": {"etc": "a"},
            "collisions": [
                (DF, ".harness/plan.json", "a", VENV),
                (DF, ".harness/x", "a", VENV),
                (DF, "CACHEDIR.TAG", "a", VENV),
            ],
            "rules": {".harness/x": "data-reserved", "CACHEDIR.TAG": "data-reserved"},
        },
    )
    refused = [d for d in result.decisions if d.rule == "data-reserved"]
    assert {d.outcome for d in refused} == {"refuse"} and {d.winner for d in refused} == {None}
    assert "owns `.harness`" in result.collisions[0].message


def test_console_script_the_venv_owns_is_refused() -> None:
    # why: virtualenv writes bin/python, bin/python3 and bin/python3.N; a wrapper of that name
    # would replace the venv's interpreter, so the plan refuses it (as a reserved data path) and
    # the other scripts of the same wheels are still decided as usual.
    wheels = [
        wheel("a", ["a_mod.py"], scripts=["python=a_mod:main", "python3.12=a_mod:main"]),
        wheel("b", ["b_mod.py"], scripts=["python=b_mod:main", "pythonic=b_mod:main"]),
    ]
    result = assert_plan(
        wheels,
        {
            "projections": {"a_mod.py": "a", "b_mod.py": "b", dist("a"): "a", dist("b"): "b"},
            "metadata": {"a": "a", "b": "b"},
            "scripts": {"pythonic": ("b", "b_mod:main")},
            "collisions": [
                ("console script", "python", "a, b", VENV),
                ("console script", "python3.12", "a", VENV),
            ],
            "rules": {"python": "console-script-reserved", "pythonic": "console-script-last-wins"},
        },
    )
    refused = {d.path: d for d in result.decisions if d.rule == "console-script-reserved"}
    assert set(refused) == {"python", "python3.12"}
    assert refused["python"].claimants == ("a", "b") and refused["python"].outcome == "refuse"
    pth = plan(wheels, "pth")  # every engine that writes scripts decides them in its plan
    assert [s[0] for s in pth.console_scripts] == ["pythonic"]


@pytest.mark.parametrize(
    ("script", "why"),
    [("sub/tool=a_mod:main", "not a plain file name"), ("tool=a-mod:main", "dotted module")],
)
def test_console_script_no_wrapper_can_run_is_a_hard_error(script: str, why: str) -> None:
    # why: a name that is not a file name or a target that is not dotted identifiers cannot be
    # written as a wrapper; the plan refuses the wheel set before anything is written.
    wheels = [wheel("a", ["a_mod.py"], scripts=[script])]
    for engine in ("merge", "whole-tree", "pth"):
        with pytest.raises(PlanError, match=why):
            plan(wheels, engine)


def test_data_file_nesting() -> None:
    # why: a's file `share/thing` is b's directory: the shallower path binds first, the nested
    # one is dropped with its own collision; `share/other.txt` from b is kept.
    wheels = [
        wheel("a", [], data=["share/thing"]),
        wheel("b", [], data=["share/thing/nested.txt", "share/other.txt"]),
    ]
    result = assert_plan(
        wheels,
        {
            "projections": {dist("a"): "a", dist("b"): "b"},
            "metadata": {"a": "a", "b": "b"},
            "data": {"share/thing": "a", "share/other.txt": "b"},
            "collisions": [(DF, "share/thing/nested.txt", "b", "a")],
            "rules": {"share/thing/nested.txt": "data-nested"},
        },
    )
    assert "nests under data file `share/thing` from a" in result.collisions[0].message


def test_data_file_collapse() -> None:
    # why: engine-contract.md §3.9 example: single-owner directories bind whole, root files
    # stay files.
    wheels = [
        wheel(
            "a",
            [],
            data=[
                "share/jupyter/labext/a.js",
                "share/jupyter/labext/b.js",
                "share/jupyter/labext/static/c.js",
                "etc/cfg/x.json",
                "toplevel.txt",
            ],
        ),
        wheel("b", [], data=["share/jupyter/nbext/d.js"]),
    ]
    assert_plan(
        wheels,
        {
            "projections": {dist("a"): "a", dist("b"): "b"},
            "metadata": {"a": "a", "b": "b"},
            "data": {
                "toplevel.txt": "a",
                "etc": "a",
                "share/jupyter/labext": "a",
                "share/jupyter/nbext": "b",
            },
            "rules": {"etc": "data-collapse", "share/jupyter/labext/b.js": "data-last-wins"},
        },
    )


def test_namespace_entry_collapse_nvidia_shape() -> None:
    # why: __init__-free trees give one entry per file; every directory only one wheel ships
    # binds whole, shared `nvidia/cu13/include` stays a real dir with per-file links.
    cccl = [
        "nvidia/cu13/include/cccl/cub/cub.cuh",
        "nvidia/cu13/include/cccl/thrust/copy.h",
        "nvidia/cu13/include/cccl/cuda/std/atomic",
        "nvidia/cu13/lib/cmake/cccl/cccl-config.cmake",
    ]
    runtime = [
        "nvidia/cu13/include/cuda_runtime.h",
        "nvidia/cu13/bin/ptxas",
        "nvidia/cu13/bin/nvcc.profile",
    ]
    wheels = [wheel("a", cccl), wheel("b", runtime)]
    result = assert_plan(
        wheels,
        {
            "projections": {
                "nvidia/cu13/include/cccl": "a",
                "nvidia/cu13/lib": "a",
                "nvidia/cu13/include/cuda_runtime.h": "b",
                "nvidia/cu13/bin": "b",
                dist("a"): "a",
                dist("b"): "b",
            },
            "metadata": {"a": "a", "b": "b"},
            "rules": {
                "nvidia/cu13/lib": "namespace-collapse",
                "nvidia/cu13/include/cccl/cub/cub.cuh": "namespace-entry",
            },
        },
    )
    assert not result.merges and not result.collisions


def test_collapse_respects_losers() -> None:
    # why: a lost `ns/pkg/mod.py` but still ships under `ns/pkg` → two skeleton owners, no bind
    # of `ns/pkg`; a's unique file keeps its own link and a stays on fallback.
    wheels = [
        wheel("a", ["ns/pkg/mod.py", "ns/pkg/only_a.py"]),
        wheel("b", ["ns/pkg/mod.py"]),
    ]
    assert_plan(
        wheels,
        {
            "projections": {"ns/pkg/mod.py": "b", "ns/pkg/only_a.py": "a", dist("b"): "b"},
            "fallbacks": ["a"],
            "metadata": {"a": "a", "b": "b"},
            "collisions": [(NSE, "ns/pkg/mod.py", "a", "b")],
        },
    )


AZURE_CORE = [
    "azure/core/__init__.py",
    "azure/core/settings.py",
    "azure/core/tracing/__init__.py",
    "azure/core/tracing/_abstract_span.py",
]
AZURE_TRACING = [
    "azure/core/tracing/ext/opentelemetry_span/__init__.py",
    "azure/core/tracing/ext/opentelemetry_span/_schema.py",
]
AZURE_IDENTITY = ["azure/identity/__init__.py", "azure/identity/_credentials/default.py"]


def test_collapse_skips_entryless_dirs_azure_namespace_sibling() -> None:
    # why: `azure/core` is regular in azure-core and a skeleton dir of the tracing wheel →
    # conflicted, merged [core, tracing]; nothing binds inside it; azure/identity still links.
    wheels = [
        wheel("core", AZURE_CORE, dist="azure_core-1.38.0.dist-info"),
        wheel("tracing", AZURE_TRACING, dist="azure_core_tracing_opentelemetry-1.0.0b11.dist-info"),
        wheel("identity", AZURE_IDENTITY, dist="azure_identity-1.21.0.dist-info"),
    ]
    assert_plan(
        wheels,
        {
            "projections": {
                "azure/identity": "identity",
                "azure_core-1.38.0.dist-info": "core",
                "azure_core_tracing_opentelemetry-1.0.0b11.dist-info": "tracing",
                "azure_identity-1.21.0.dist-info": "identity",
            },
            "merges": {"azure/core": ["core", "tracing"]},
            "metadata": {
                "azure-core": "core",
                "azure-core-tracing-opentelemetry": "tracing",
                "azure-identity": "identity",
            },
            "rules": {
                "azure/core": "conflicted-root-merge",
                "azure/core/tracing/ext/opentelemetry_span": "conflicted-root-merge",
            },
        },
    )


def test_azure_core_tracing_overlap_either_order() -> None:
    # why: the spanning regular root merges in wheel order whichever wheel comes first.
    core = wheel("core", AZURE_CORE, dist="azure_core-1.38.0.dist-info")
    tracing = wheel(
        "tracing", AZURE_TRACING, dist="azure_core_tracing_opentelemetry-1.0.0b11.dist-info"
    )
    for order in ([core, tracing], [tracing, core]):
        labels = [w.label for w in order]
        assert_plan(
            order,
            {
                "projections": {
                    "azure_core-1.38.0.dist-info": "core",
                    "azure_core_tracing_opentelemetry-1.0.0b11.dist-info": "tracing",
                },
                "merges": {"azure/core": labels},
                "metadata": {"azure-core": "core", "azure-core-tracing-opentelemetry": "tracing"},
            },
        )


# --------------------------------------------------------------------------- real-world shapes

GOOGLE = wheel(
    "google-1.9.3",
    ["google/__init__.py", "google/modules/__init__.py", "google/modules/standard_search.py"],
    dist="google-1.9.3.dist-info",
)
PROTOBUF = wheel(
    "protobuf-6.33.5",
    [
        "google/_upb/_message.abi3.so",
        "google/protobuf/__init__.py",
        "google/protobuf/message.py",
        "google/protobuf/internal/__init__.py",
    ],
    dist="protobuf-6.33.5.dist-info",
)
PROTOBUF_OLD = wheel(
    "protobuf-5.29.5",
    [
        "google/_upb/_message.abi3.so",
        "google/protobuf/__init__.py",
        "google/protobuf/message.py",
        "google/protobuf/service.py",
    ],
    dist="protobuf-5.29.5.dist-info",
)


@pytest.mark.parametrize("order", [(GOOGLE, PROTOBUF), (PROTOBUF, GOOGLE)])
def test_google_protobuf_merge_projects_regular_google(order: tuple) -> None:
    # why: `google` holds native code in protobuf → never merged; the last *regular* claimant
    # (google 1.9.3) is projected whole in either order, protobuf stays on fallback.
    first, second = (w.label for w in order)
    assert_plan(
        list(order),
        {
            "projections": {"google": "google-1.9.3", "google-1.9.3.dist-info": "google-1.9.3"},
            "fallbacks": ["protobuf-6.33.5"],
            "metadata": {"google": "google-1.9.3", "protobuf": "protobuf-6.33.5"},
            "collisions": [(TL, "google", first, second)],
            "rules": {"google": "native-last-regular", "protobuf-6.33.5": "fallback-plain"},
        },
    )


def test_pyjwt_and_jwt_merge() -> None:
    # why: two regular `jwt/` without native code → union merge in wheel order (#1205), both
    # wheels fully covered so both dist-infos are projected.
    pyjwt = wheel(
        "PyJWT-2.10.1",
        ["jwt/__init__.py", "jwt/api_jwt.py", "jwt/algorithms.py"],
        dist="PyJWT-2.10.1.dist-info",
    )
    jwt = wheel(
        "jwt-1.4.0", ["jwt/__init__.py", "jwt/jwa.py", "jwt/jwk.py"], dist="jwt-1.4.0.dist-info"
    )
    assert_plan(
        [pyjwt, jwt],
        {
            "projections": {
                "PyJWT-2.10.1.dist-info": "PyJWT-2.10.1",
                "jwt-1.4.0.dist-info": "jwt-1.4.0",
            },
            "merges": {"jwt": ["PyJWT-2.10.1", "jwt-1.4.0"]},
            "metadata": {"pyjwt": "PyJWT-2.10.1", "jwt": "jwt-1.4.0"},
            "collisions": [(TL, "jwt", "PyJWT-2.10.1", "jwt-1.4.0")],
            "rules": {"jwt": "mixed-merge"},
        },
    )


def test_xds_protos_and_opentelemetry_merge() -> None:
    # why: xds-protos' regular `opentelemetry/__init__.py` vs otel's namespace portion, no
    # native code → merged, so `opentelemetry.sdk` stays importable (#1118).
    xds = wheel(
        "xds",
        ["opentelemetry/__init__.py", "opentelemetry/proto/__init__.py", "xds/__init__.py"],
        dist="xds_protos-1.73.1.dist-info",
    )
    sdk = wheel(
        "sdk",
        ["opentelemetry/sdk/__init__.py", "opentelemetry/sdk/resources/__init__.py"],
        dist="opentelemetry_sdk-1.39.0.dist-info",
    )
    assert_plan(
        [xds, sdk],
        {
            "projections": {
                "xds": "xds",
                "xds_protos-1.73.1.dist-info": "xds",
                "opentelemetry_sdk-1.39.0.dist-info": "sdk",
            },
            "merges": {"opentelemetry": ["xds", "sdk"]},
            "metadata": {"xds-protos": "xds", "opentelemetry-sdk": "sdk"},
            "collisions": [(TL, "opentelemetry", "xds", "sdk")],
        },
    )


PYDANTIC_CORE = [
    "pydantic_core/__init__.py",
    "pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so",
    "pydantic_core/core_schema.py",
]


def test_pydantic_core_twice_same_dist_info_leaves_one_copy() -> None:
    # why: two lock universes give the same version twice; the native branch suppresses the
    # duplicate-metadata loser (covered, not on fallback) → 0 on fallback → one visible copy.
    wheels = [
        wheel(label, PYDANTIC_CORE, dist="pydantic_core-2.41.5.dist-info")
        for label in ("stripe", "default")
    ]
    assert_plan(
        wheels,
        {
            "projections": {
                "pydantic_core": "default",
                "pydantic_core-2.41.5.dist-info": "default",
            },
            "metadata": {"pydantic-core": "default"},
            "collisions": [
                (TL, "pydantic_core", "stripe", "default"),
                (MD, "pydantic_core-2.41.5.dist-info", "stripe", "default"),
            ],
            "rules": {"pydantic_core": "native-last-regular"},
        },
    )


def test_metadata_rule_one_copy_on_fallback() -> None:
    # why: two copies of six (file top-level, no suppression): the earlier one is on fallback
    # → 1 → nothing projected, that copy owns discovery.
    wheels = [wheel(label, ["six.py"], dist="six-1.17.0.dist-info") for label in ("u1", "u2")]
    assert_plan(
        wheels,
        {
            "projections": {"six.py": "u2"},
            "fallbacks": ["u1"],
            "metadata": {"six": "u1"},
            "collisions": [
                (TL, "six.py", "u1", "u2"),
                (MD, "six-1.17.0.dist-info", "u1", "u2"),
            ],
            "rules": {"six-1.17.0.dist-info": "metadata-fallback-owner"},
        },
    )


def test_metadata_rule_many_copies_on_fallback_is_fatal() -> None:
    # why: three copies of six → the first two on fallback → two visible copies → hard error
    # naming every copy on fallback (no policy can downgrade it: it is raised while planning).
    wheels = [wheel(label, ["six.py"], dist="six-1.17.0.dist-info") for label in ("u1", "u2", "u3")]
    with pytest.raises(PlanError, match=r"`six` would have 2 visible metadata copies: u1, u2"):
        plan(wheels)


@pytest.mark.parametrize("older_first", [True, False])
def test_two_versions_of_one_distribution_supersede_the_earlier(older_first: bool) -> None:
    # why: distributions are keyed by normalized name: the earlier version in wheel order is
    # dropped entirely (nothing projected, not on fallback) and a `distribution` collision says so.
    order = [PROTOBUF_OLD, PROTOBUF] if older_first else [PROTOBUF, PROTOBUF_OLD]
    loser, winner = (w.label for w in order)
    assert_plan(
        order,
        {
            "projections": {"google": winner, f"{winner}.dist-info": winner},
            "metadata": {"protobuf": winner},
            "superseded": [loser],
            "collisions": [("distribution", "protobuf", loser, winner)],
            "rules": {f"{loser}.dist-info": "distribution-superseded"},
        },
    )


def test_unknown_layout_wheel_gets_an_addsitedir_line_and_owns_its_metadata() -> None:
    # why: empty top-levels mean layout unknown: never fully covered, addsitedir so its root
    # .pth files run; its dist-info is visible through that fallback.
    sdist_built = dataclasses.replace(
        wheel("built", ["built.py"]), top_levels=(), regular_top_levels=()
    )
    assert_plan(
        [wheel("a", ["a.py"]), sdist_built],
        {
            "projections": {"a.py": "a", dist("a"): "a"},
            "fallbacks": [("built", True)],
            "metadata": {"a": "a", "built": "built"},
            "rules": {"built": "fallback-addsitedir"},
        },
    )


def test_unknown_layout_copy_counts_as_a_fallback_copy() -> None:
    # why: an sdist-built copy of six is always on fallback; with a fully covered prebuilt copy
    # that is exactly one copy on fallback → the prebuilt dist-info is not projected.
    sdist_six = dataclasses.replace(
        wheel("sdist", ["six.py"], dist="six-1.17.0.dist-info"),
        top_levels=(),
        regular_top_levels=(),
    )
    assert_plan(
        [sdist_six, wheel("prebuilt", ["six.py"], dist="six-1.17.0.dist-info")],
        {
            "projections": {"six.py": "prebuilt"},
            "fallbacks": [("sdist", True)],
            "metadata": {"six": "sdist"},
            "collisions": [(MD, "six-1.17.0.dist-info", "sdist", "prebuilt")],
        },
    )


def test_wheel_listed_twice_keeps_its_first_position() -> None:
    # why: [a, b, a] is [a, b]: b stays the last claimant of mod.py.
    a, b = wheel("a", ["mod.py"]), wheel("b", ["mod.py"])
    result = assert_plan(
        [a, b, a],
        {
            "projections": {"mod.py": "b", dist("b"): "b"},
            "fallbacks": ["a"],
            "metadata": {"a": "a", "b": "b"},
            "collisions": [(TL, "mod.py", "a", "b")],
        },
    )
    assert result == plan([a, b])


def test_root_pth_files_are_projected_like_modules() -> None:
    # why: a wheel-root .pth file is a file top-level: projected, so it runs from site-packages.
    assert_plan(
        [wheel("a", ["distutils-precedence.pth", "_distutils_hack/__init__.py"])],
        {
            "projections": {
                "distutils-precedence.pth": "a",
                "_distutils_hack": "a",
                dist("a"): "a",
            },
            "metadata": {"a": "a"},
        },
    )


def test_malformed_data_path_is_a_hard_error() -> None:
    # why: a `..` segment would escape the prefix; no policy downgrades it.
    bad = dataclasses.replace(wheel("a", ["a.py"]), data_files=("share/../../etc/passwd",))
    with pytest.raises(PlanError, match="malformed data file path"):
        plan([bad])
