"""The checks on the venv beyond the plan: each passes on a sound venv and fails on a broken one.

A4 (fallbacks in wheel order), A6 (console scripts resolve to the claimed wheel's code), A7 (no
stale bytecode in merged directories) and A8 (every conflict a merge resolved is reported) are
pure functions of an `Observation`; the observation's raw facts (bytecode beside its source,
shared paths on disk) are gathered by `harness.observe.venv` from a directory and RECORD rows, shown
here on small trees.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from observed import Computed

from harness import judge
from harness.observe.observation import CachedBytecode, Observation, ScriptRun, SharedPath
from harness.observe.ownership import Owner, Row, WheelRecord
from harness.observe.venv import Facts, _bytecode, _shared_paths, cached_source, observation

SITE = "/v/site-packages"
TREES = {
    "/trees/a/site-packages": "a",
    "/trees/b/site-packages": "b",
    "/trees/c/site-packages": "c",
}


def owner_of(real: str | None):
    for root, label in TREES.items():
        if real and real.startswith(root + "/"):
            return Owner((label,), real[len(root) + 1 :])
    return None


def obs(sys_path=(SITE,), **kw) -> Observation:
    return Observation(
        site_packages=SITE,
        concrete={},
        runtime={},
        imported={},
        sys_path=tuple(sys_path),
        distributions=(),
        owners=Computed(owner_of),
        file_realpaths=Computed(lambda path: f"{SITE}/{path}"),
        **kw,
    )


# --------------------------------------------------------------------------- A4: wheel order


def test_a4_fallbacks_in_wheel_order_pass() -> None:
    roots = {"/trees/a/site-packages": ("a",), "/trees/c/site-packages": ("c",)}
    o = obs(sys_path=(SITE, *roots), fallback_roots=roots)
    assert judge.check_a4(o, ["a", "b", "c"]) == []


def test_a4_fallbacks_in_reverse_order_fail() -> None:
    # why: a later wheel's fallback first on sys.path wins every name both ship at runtime,
    # the reverse of "later wins"; the position check alone (after site-packages) passes it.
    roots = {"/trees/c/site-packages": ("c",), "/trees/a/site-packages": ("a",)}
    o = obs(sys_path=(SITE, *roots), fallback_roots=roots)
    (finding,) = judge.check_a4(o, ["a", "b", "c"])
    assert finding.rule == "A4" and finding.subject == "/trees/a/site-packages"
    assert "wheel order" in finding.message and finding.wheels == ("a", "c")
    # without the wheel order nothing can be said about it
    assert judge.check_a4(o) == []


def test_a4_one_inversion_among_three_is_one_finding() -> None:
    roots = {
        "/trees/a/site-packages": ("a",),
        "/trees/c/site-packages": ("c",),
        "/trees/b/site-packages": ("b",),
    }
    o = obs(sys_path=(SITE, *roots), fallback_roots=roots)
    assert [f.subject for f in judge.check_a4(o, ["a", "b", "c"])] == ["/trees/b/site-packages"]


# --------------------------------------------------------------------------- A6: scripts


def _runs(*runs: ScriptRun) -> dict[str, ScriptRun]:
    return {r.name: r for r in runs}


def test_a6_a_script_reaching_the_claimed_wheel_passes() -> None:
    run = ScriptRun(
        "tool", "resolved", "pkg.cli.main", module_file="/trees/b/site-packages/pkg/cli.py"
    )
    o = obs(script_runs=_runs(run), script_owners={"tool": ("b",)})
    assert judge.check_a6(o, obs(script_runs=_runs(run))) == []


def test_a6_a_script_that_cannot_resolve_fails_where_flat_resolves() -> None:
    broken = ScriptRun("tool", "error", error="AttributeError: module has no attribute 'app.run'")
    fine = ScriptRun("tool", "resolved", "pkg.cli.App.run")
    o = obs(script_runs=_runs(broken), script_owners={"tool": ("b",)})
    (finding,) = judge.check_a6(o, obs(script_runs=_runs(fine)))
    assert finding.rule == "A6" and finding.subject == "bin/tool"
    assert "AttributeError" in finding.runtime and finding.wheels == ("b",)
    # the flat install's script cannot resolve either (a dependency the case lacks): excused
    assert judge.check_a6(o, obs(script_runs=_runs(broken))) == []
    # no flat install to compare with: not excused
    assert [f.rule for f in judge.check_a6(o, None)] == ["A6"]


def test_a6_a_script_reaching_another_wheels_code_fails() -> None:
    # why: bin/tool runs b's entry point, but `pkg.cli` in the venv is a's file (a merge that
    # overlaid in the wrong order): the script runs code its wheel does not ship.
    run = ScriptRun(
        "tool", "resolved", "pkg.cli.main", module_file="/trees/a/site-packages/pkg/cli.py"
    )
    o = obs(script_runs=_runs(run), script_owners={"tool": ("b",)})
    (finding,) = judge.check_a6(o, obs(script_runs=_runs(run)))
    assert "resolves to a's" in finding.message and finding.wheels == ("b", "a")


def test_a6_says_nothing_about_a_launcher_it_cannot_read() -> None:
    o = obs(script_runs=_runs(ScriptRun("tool", "unparsed")), script_owners={"tool": ("b",)})
    assert judge.check_a6(o, None) == []


# --------------------------------------------------------------------------- A7: bytecode


def test_a7_bytecode_of_the_same_wheel_or_fresh_passes() -> None:
    o = obs(
        bytecode=(
            CachedBytecode(
                "p/__pycache__/m.cpython-311.pyc", "p/m.py", ("a",), ("a", "b"), "unknown"
            ),
            CachedBytecode("p/__pycache__/n.cpython-311.pyc", "p/n.py", (), ("b",), "fresh"),
            CachedBytecode("p/__pycache__/o.cpython-311.pyc", "p/o.py", (), ("b",), "unknown"),
        )
    )
    assert judge.check_a7(o) == []


def test_a7_shipped_bytecode_beside_another_wheels_source_fails() -> None:
    # why: a shipped m.cpython-311.pyc from a beside b's m.py: the merge kept the bytecode of
    # the source b overwrote (engine-contract.md §5.4, checks.md §6.16).
    stale = CachedBytecode("p/__pycache__/m.cpython-311.pyc", "p/m.py", ("a",), ("b",), "unknown")
    (finding,) = judge.check_a7(obs(bytecode=(stale,)))
    assert finding.rule == "A7" and finding.subject == stale.path and finding.wheels == ("a", "b")


def test_a7_unshipped_bytecode_with_a_stale_header_fails() -> None:
    stale = CachedBytecode("p/__pycache__/m.cpython-311.pyc", "p/m.py", (), ("b",), "stale")
    assert [f.rule for f in judge.check_a7(obs(bytecode=(stale,)))] == ["A7"]


def test_cached_source_strips_the_tag_right_to_left() -> None:
    assert cached_source("mod.cpython-311.pyc") == "mod.py"
    assert cached_source("mod.cpython-311.opt-2.pyc") == "mod.py"
    assert cached_source("api.v1.cpython-311.pyc") == "api.v1.py"
    assert cached_source("mod.pyc") is None
    assert cached_source("mod..pyc") is None
    assert cached_source("mod.py") is None


def test_bytecode_is_gathered_from_real_directories_only(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "merged" / "__pycache__").mkdir(parents=True)
    (site / "merged" / "m.py").write_text("")
    (site / "merged" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x" * 16)
    (site / "merged" / "__pycache__" / "gone.cpython-311.pyc").write_bytes(b"x" * 16)
    tree = tmp_path / "tree" / "linked"
    (tree / "__pycache__").mkdir(parents=True)
    (tree / "m.py").write_text("")
    (tree / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x" * 16)
    os.symlink(tree, site / "linked")
    found = _bytecode(site, lambda real: None)
    assert [(b.path, b.source) for b in found] == [
        ("merged/__pycache__/m.cpython-311.pyc", "merged/m.py")
    ]


# --------------------------------------------------------------------------- A8: conflicts


def test_a8_a_reported_conflict_passes_and_adapters_are_not_judged() -> None:
    shared = SharedPath("jwt/__init__.py", ("a", "b"), "distinct")
    o = obs(shared_paths=(shared,))
    said = [
        "Package collision while merging /v: `jwt/__init__.py` is provided by both a and b (distinct)."
    ]
    assert judge.check_a8(o, said) == []
    assert judge.check_a8(o, None) == []


def test_a8_an_unreported_conflict_fails() -> None:
    # why: two wheels ship jwt/__init__.py with different bytes and the venv holds one of them
    # in a real directory: a merge chose, and the user must be told (checks.md §6.15).
    shared = SharedPath("jwt/__init__.py", ("a", "b"), "distinct")
    o = obs(shared_paths=(shared,))
    (finding,) = judge.check_a8(
        o, ["Package collision: top-level `jwt` is provided by both a and b"]
    )
    assert finding.rule == "A8" and finding.subject == "jwt/__init__.py"
    # a longer path that merely contains it does not count as naming it
    assert judge.check_a8(o, ["`jwt/__init__.pyi` differs"]) != []


def _record(label: str, rows: dict[str, str], version: str = "1.0", name: str | None = None):
    return WheelRecord(
        label,
        name or label,
        version,
        f"{label}-{version}.dist-info",
        tuple(Row(label, "site-packages", p, "sha256", d) for p, d in rows.items()),
    )


def _facts(*records: WheelRecord) -> Facts:
    from harness.observe.ownership import Ownership

    return Facts(wheels=(), ownership=Ownership(records), shipped={}, suffixes=())


def test_shared_paths_are_conflicts_sitting_in_real_directories(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "jwt").mkdir(parents=True)
    (site / "jwt" / "__init__.py").write_text("")  # merged: a real file in a real directory
    (site / "jwt" / "x").mkdir()  # a file in a, a directory in b
    tree = tmp_path / "tree"
    (tree / "six").mkdir(parents=True)
    (tree / "six" / "__init__.py").write_text("")
    os.symlink(tree / "six", site / "six")  # projected: not a conflict a merge resolved
    a = _record(
        "a", {"jwt/__init__.py": "A", "jwt/x": "X", "six/__init__.py": "S1", "same.py": "Q"}
    )
    b = _record(
        "b", {"jwt/__init__.py": "B", "jwt/x/y.py": "Y", "six/__init__.py": "S2", "same.py": "Q"}
    )
    found = _shared_paths(site, _facts(a, b))
    assert found == (
        SharedPath("jwt/__init__.py", ("a", "b"), "distinct"),
        SharedPath("jwt/x", ("a", "b"), "file_to_directory"),
    )


def test_shared_paths_leave_out_a_superseded_version(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "p").mkdir(parents=True)
    (site / "p" / "m.py").write_text("")
    old = _record("old", {"p/m.py": "1"}, version="1.0", name="p")
    new = _record("new", {"p/m.py": "2"}, version="2.0", name="p")
    assert _shared_paths(site, _facts(old, new)) == ()


# --------------------------------------------------------------------------- A3: which build


def test_a3_metadata_of_another_build_of_the_same_version_fails() -> None:
    # why: two builds of one version (manylinux, musllinux) differ only by their WHEEL tags;
    # the visible dist-info must be the build whose code is imported, else a tool reading it
    # (entry points, the RECORD, the tags) describes files that are not the ones running.
    from harness.facts import facts_from_paths
    from harness.observe.observation import Distribution, RuntimeModule

    a = facts_from_paths("a", ["pc/__init__.py"], dist_info="pc-2.0.dist-info")
    b = facts_from_paths("b", ["pc/__init__.py"], dist_info="pc-2.0.dist-info")
    runtime = {
        "pc": RuntimeModule("pc", "found", "package", "/trees/b/site-packages/pc/__init__.py")
    }

    def seen(dist_path: str) -> Observation:
        return replace(
            obs(), runtime=runtime, distributions=(Distribution("pc", "2.0", dist_path),)
        )

    assert judge.check_a3(seen("/trees/b/site-packages/pc-2.0.dist-info"), [a, b]) == []
    (finding,) = judge.check_a3(seen("/trees/a/site-packages/pc-2.0.dist-info"), [a, b])
    assert finding.rule == "A3" and "another build" in finding.message
    assert finding.wheels == ("a", "b")
    # a copy whose WHEEL no wheel ships (an engine rewrote it) says nothing about the build
    assert judge.check_a3(seen("/elsewhere/pc-2.0.dist-info"), [a, b]) == []


def test_a7_against_flat_excuses_only_what_the_flat_install_holds_too() -> None:
    # why: pip writes the bytecode a wheel ships and leaves it beside a source a later wheel
    # overwrites; an engine other than merge is held to that, merge to its own stricter rule.
    stale = observation.CachedBytecode(
        "p/__pycache__/m.cpython-37.pyc", "p/m.py", ("a",), ("b",), "unknown"
    )
    flat = obs(bytecode=(stale,))
    assert judge.check_a7(obs(bytecode=(stale,)), flat) == []
    assert [f.rule for f in judge.check_a7(obs(bytecode=(stale,)))] == ["A7"]
    assert [f.rule for f in judge.check_a7(obs(bytecode=(stale,)), obs())] == ["A7"]


def test_a_directory_is_owned_through_symlinked_files_and_directories(tmp_path: Path) -> None:
    # why: a venv projects trees by symlinks (a file, or a whole directory); ownership follows
    # the bytes a link reaches, so a real directory holding links is owned by their wheels
    import base64
    import hashlib

    from harness.observe.ownership import Ownership

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    tree_a, tree_b = tmp_path / "a" / "site-packages", tmp_path / "b" / "site-packages"
    (tree_a / "ns" / "one").mkdir(parents=True)
    (tree_a / "ns" / "one" / "m.py").write_bytes(b"A = 1\n")
    (tree_b / "ns" / "two").mkdir(parents=True)
    (tree_b / "ns" / "two" / "n.py").write_bytes(b"B = 2\n")
    site = tmp_path / "venv" / "site"
    (site / "ns").mkdir(parents=True)
    (site / "ns" / "m.py").symlink_to(tree_a / "ns" / "one" / "m.py")  # a linked file
    (site / "ns" / "two").symlink_to(tree_b / "ns" / "two")  # a linked directory
    ownership = Ownership(
        [
            _record("a", {"ns/one/m.py": digest(b"A = 1\n")}),
            _record("b", {"ns/two/n.py": digest(b"B = 2\n")}),
        ]
    )
    owner = ownership.dir_owner(str(site / "ns"))
    assert owner is not None and owner.labels == ("a", "b")
    assert ownership.owner_of(str(site / "ns" / "two")).labels == ("b",)
    assert ownership.dir_owner(str(tmp_path / "venv")) is not None  # found beneath, too
