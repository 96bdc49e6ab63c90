"""The materializer writes hand-made plans over hand-made install trees, and the venv's own
interpreter (the host CPython, through a real virtualenv) proves the layout works at runtime."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from readonly import make_deletable

from harness.engine.materialize import (
    ENGINE_PTH,
    Venv,
    materialize,
    read_manifest,
    remove_venv,
)
from harness.engine.merge import Conflict
from harness.errors import MaterializeError
from harness.model import (
    Fallback,
    InstallTree,
    Interpreter,
    MergeGroup,
    Plan,
)
from harness.supply.trees import TREE_FORMAT
from harness.supply.wheelbuilder import record_hash

HOST = Interpreter(
    executable=os.path.realpath(sys.executable),
    version=tuple(sys.version_info[:3]),  # type: ignore[arg-type]
    implementation="cpython",
    tags=(),
)


def make_tree(
    root: Path,
    site: dict[str, str],
    scripts: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> InstallTree:
    """An install tree as harness.supply.wheel leaves it: files 0o444, directories 0o555, a RECORD
    listing every file (what the materializer reads instead of walking the tree) and the
    marker naming its dist-info."""
    tree = InstallTree(root)
    rows = []
    for base, files, prefix in (
        (tree.site_packages, site, ""),
        (tree.scripts, scripts, "made-1.0.data/scripts/"),
        (tree.data, data, "made-1.0.data/data/"),
    ):
        for rel, text in (files or {}).items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            rows.append(f"{prefix}{rel},{record_hash(text.encode())},{len(text.encode())}\n")
    record = tree.site_packages / "made-1.0.dist-info" / "RECORD"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("".join(rows) + "made-1.0.dist-info/RECORD,,\n")
    (root / ".complete").write_text(f"{TREE_FORMAT}\n{root.name}\nmade-1.0.dist-info\n")
    for current, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(current) / name
            path.chmod(0o555 if path.parent == tree.scripts else 0o444)
        for name in dirnames:
            (Path(current) / name).chmod(0o555)
    return tree


def make_plan(engine: str = "merge", wheels: tuple[str, ...] = (), **parts) -> Plan:
    return Plan(
        engine=engine,
        wheels=wheels,
        projections=tuple(sorted(parts.get("projections", ()))),
        merges=tuple(parts.get("merges", ())),
        fallbacks=tuple(parts.get("fallbacks", ())),
        metadata_owners=(),
        console_scripts=tuple(sorted(parts.get("console_scripts", ()))),
        data_projections=tuple(sorted(parts.get("data_projections", ()))),
        collisions=(),
        decisions=(),
        superseded=tuple(parts.get("superseded", ())),
    )


def run_python(venv: Venv, code: str, cwd: Path | None = None) -> dict:
    """Run `code` in the venv's interpreter; it prints one JSON value."""
    done = subprocess.run(
        [str(venv.python), "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd or venv.path,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def origin_of(venv: Venv, *modules: str) -> dict:
    code = (
        "import importlib, json, os, sys\n"
        f"mods = {list(modules)!r}\n"
        "print(json.dumps({m: os.path.realpath(importlib.import_module(m).__file__) "
        "for m in mods}))"
    )
    return run_python(venv, code)


def sources(owners: dict) -> dict:
    """Owners of the wheels' own files (the bytecode the harness compiled left out)."""
    return {rel: label for rel, label in owners.items() if "__pycache__" not in rel}


def bytecode(owners: dict) -> dict:
    return {rel: label for rel, label in owners.items() if "__pycache__" in rel}


def sys_path(venv: Venv) -> list[str]:
    return run_python(venv, "import json, os, sys; print(json.dumps(sys.path))")


@pytest.fixture(autouse=True)
def _writable_again(tmp_path: Path):
    yield
    make_deletable(tmp_path)


# --------------------------------------------------------------------------- layouts


def test_projected_regular_package_is_a_relative_link_python_imports(tmp_path: Path) -> None:
    tree = make_tree(
        tmp_path / "trees/A",
        {"alpha/__init__.py": "", "alpha/sub.py": "", "alpha-1.0.dist-info/METADATA": ""},
    )
    plan = make_plan(wheels=("A",), projections=[("alpha", "A"), ("alpha-1.0.dist-info", "A")])
    venv = materialize(plan, {"A": tree}, HOST, tmp_path / "v")

    link = venv.site_packages / "alpha"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    # Runtime imports exactly the file the projection shows (invariant 11).
    assert origin_of(venv, "alpha.sub") == {
        "alpha.sub": os.path.realpath(tree.site_packages / "alpha/sub.py")
    }
    assert venv.owners == {}  # nothing physical was written into site-packages


def test_namespace_union_is_a_real_directory_of_per_entry_links(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "trees/A", {"ns/a/__init__.py": ""})
    b = make_tree(tmp_path / "trees/B", {"ns/b/__init__.py": ""})
    plan = make_plan(wheels=("A", "B"), projections=[("ns/a", "A"), ("ns/b", "B")])
    venv = materialize(plan, {"A": a, "B": b}, HOST, tmp_path / "v")

    ns = venv.site_packages / "ns"
    assert ns.is_dir() and not ns.is_symlink()
    assert sorted(p.name for p in ns.iterdir()) == ["a", "b"]  # no __init__.py created
    assert all((ns / name).is_symlink() for name in ("a", "b"))
    assert origin_of(venv, "ns.a", "ns.b") == {
        "ns.a": os.path.realpath(a.site_packages / "ns/a/__init__.py"),
        "ns.b": os.path.realpath(b.site_packages / "ns/b/__init__.py"),
    }


def test_merged_directory_holds_both_wheels_as_hard_links(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "trees/A", {"jwt/__init__.py": "SIDE = 'A'\n", "jwt/api_jwt.py": ""})
    b = make_tree(tmp_path / "trees/B", {"jwt/__init__.py": "SIDE = 'B'\n", "jwt/jwa.py": ""})
    plan = make_plan(wheels=("A", "B"), merges=[MergeGroup("jwt", ("A", "B"))])
    venv = materialize(plan, {"A": a, "B": b}, HOST, tmp_path / "v")

    merged = venv.site_packages / "jwt"
    assert merged.is_dir() and not merged.is_symlink()
    # Same file system: each merged file is the tree's inode (hard link), not a copy.
    assert (merged / "api_jwt.py").stat().st_ino == (
        a.site_packages / "jwt/api_jwt.py"
    ).stat().st_ino
    assert (merged / "jwa.py").stat().st_ino == (b.site_packages / "jwt/jwa.py").stat().st_ino
    result = run_python(
        venv,
        "import json, os, jwt, jwt.api_jwt, jwt.jwa; print(json.dumps([jwt.SIDE, "
        "os.path.dirname(jwt.api_jwt.__file__), os.path.dirname(jwt.jwa.__file__)]))",
    )
    assert result == ["B", str(venv.site_packages / "jwt"), str(venv.site_packages / "jwt")]
    assert sources(venv.owners) == {
        "jwt/__init__.py": "B",
        "jwt/api_jwt.py": "A",
        "jwt/jwa.py": "B",
    }
    # The bytecode compiled into each tree comes with its source (and from the same wheel).
    tag = sys.implementation.cache_tag
    assert bytecode(venv.owners) == {
        f"jwt/__pycache__/__init__.{tag}.pyc": "B",
        f"jwt/__pycache__/api_jwt.{tag}.pyc": "A",
        f"jwt/__pycache__/jwa.{tag}.pyc": "B",
    }
    assert venv.merge_conflicts == (Conflict("jwt/__init__.py", "distinct", "A", "B"),)


def test_plain_fallback_line_is_relative_and_after_site_packages(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "trees/A", {"shared/__init__.py": "WHO = 'A'\n"})
    c = make_tree(
        tmp_path / "trees/C",
        {"shared/__init__.py": "WHO = 'C'\n", "fallmod.py": ""},
    )
    plan = make_plan(wheels=("A", "C"), projections=[("shared", "A")], fallbacks=[Fallback("C")])
    venv = materialize(plan, {"A": a, "C": c}, HOST, tmp_path / "v")

    line = (venv.site_packages / ENGINE_PTH).read_text()
    assert line == os.path.relpath(c.site_packages, venv.site_packages) + "\n"
    assert not os.path.isabs(line.strip())
    path = sys_path(venv)
    site, fallback = str(venv.site_packages), os.path.normpath(str(c.site_packages))
    assert site in path and fallback in path
    assert path.index(site) < path.index(fallback)  # projection shadows the fallback copy
    assert len(path) == len(set(map(os.path.realpath, path)))  # no duplicate entries
    result = run_python(
        venv,
        "import json, os, fallmod, shared; print(json.dumps([os.path.realpath(fallmod.__file__),"
        " shared.WHO]))",
    )
    assert result == [os.path.realpath(c.site_packages / "fallmod.py"), "A"]


def _counting_tree(
    root: Path, counter: str = "HOOK_RUNS", module: str = "unknownmod"
) -> InstallTree:
    """A wheel whose root .pth counts its runs in `$counter` and adds a directory."""
    return make_tree(
        root,
        {
            f"{counter.lower()}.pth": f"import os; os.environ['{counter}'] = "
            f"str(int(os.environ.get('{counter}', '0')) + 1)\nextra\n",
            f"extra/{module}_extra.py": "",
            f"{module}.py": "",
        },
    )


def test_addsitedir_fallback_runs_the_wheel_root_pth_like_a_projected_one(tmp_path: Path) -> None:
    """Invariant 19: a root .pth reached through the addsitedir fallback runs as often as one
    projected into the venv's site-packages. CPython 3.8-3.13 processes a venv's site-packages
    twice (site.venv() and site.addsitepackages()), so both run twice; the line is not the cause:
    the wheel's directory lands on sys.path once."""
    d = _counting_tree(tmp_path / "trees/D")
    p = _counting_tree(tmp_path / "trees/P", counter="PROJECTED_RUNS", module="projmod")
    plan = make_plan(
        wheels=("D", "P"),
        projections=[("projected_runs.pth", "P"), ("projmod.py", "P")],
        fallbacks=[Fallback("D", addsitedir=True)],
    )
    venv = materialize(plan, {"D": d, "P": p}, HOST, tmp_path / "v")

    line = (venv.site_packages / ENGINE_PTH).read_text()
    assert line.startswith("import ") and str(tmp_path) not in line  # relative, an import line
    result = run_python(
        venv,
        "import json, os, sys, unknownmod, unknownmod_extra\n"
        "print(json.dumps([os.environ.get('HOOK_RUNS'), os.environ.get('PROJECTED_RUNS'), "
        "sys.path.count(os.path.dirname(unknownmod.__file__)), "
        "sys.path.count(os.path.dirname(unknownmod_extra.__file__)), "
        "os.path.realpath(unknownmod_extra.__file__)]))",
    )
    runs, baseline, tree_entries, extra_entries, extra_file = result
    assert runs is not None and runs == baseline, (runs, baseline)
    assert (tree_entries, extra_entries) == (1, 1)
    assert extra_file == os.path.realpath(d.site_packages / "extra/unknownmod_extra.py")

    # The reason for addsitedir: a plain line does not run the wheel's own .pth at all.
    plain = make_plan(wheels=("D",), fallbacks=[Fallback("D")])
    plain_venv = materialize(plain, {"D": d}, HOST, tmp_path / "plain")
    code = "import json, os; print(json.dumps(os.environ.get('HOOK_RUNS')))"
    assert run_python(plain_venv, code) is None


def test_console_script_wrapper_resolves_dotted_attribute(tmp_path: Path) -> None:
    e = make_tree(
        tmp_path / "trees/E",
        {
            "tool/__init__.py": "",
            "tool/cli.py": (
                "import sys\n"
                "class program:\n"
                "    @staticmethod\n"
                "    def run():\n"
                "        print(sys.argv[0], *sys.argv[1:])\n"
                "        return 3\n"
            ),
        },
    )
    plan = make_plan(
        wheels=("E",),
        projections=[("tool", "E")],
        console_scripts=[("hello", "E", "tool.cli", "program.run")],
    )
    venv = materialize(plan, {"E": e}, HOST, tmp_path / "v")
    script = venv.path / "bin" / "hello"
    assert stat.S_IMODE(script.stat().st_mode) & 0o111
    done = subprocess.run(
        [str(script), "a b", "c"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    # argv[0] is the script name, arguments pass through intact, return value is the status.
    assert (done.returncode, done.stdout, done.stderr) == (3, "hello a b c\n", "")


def test_data_projection_lives_under_sys_prefix(tmp_path: Path) -> None:
    f = make_tree(
        tmp_path / "trees/F",
        {"fpkg.py": ""},
        data={"share/fdata/readme.txt": "data!", "etc/f.cfg": "cfg"},
    )
    plan = make_plan(
        wheels=("F",),
        projections=[("fpkg.py", "F")],
        data_projections=[("share/fdata", "F"), ("etc/f.cfg", "F")],
    )
    venv = materialize(plan, {"F": f}, HOST, tmp_path / "v")
    assert (venv.path / "share").is_dir() and not (venv.path / "share").is_symlink()
    result = run_python(
        venv,
        "import json, os, sys; p = os.path.join(sys.prefix, 'share/fdata/readme.txt'); "
        "print(json.dumps([open(p).read(), open(os.path.join(sys.prefix, 'etc/f.cfg')).read()]))",
    )
    assert result == ["data!", "cfg"]


@pytest.mark.parametrize("path", ["bin/tool", ".harness/x"])
def test_reserved_data_root_is_refused(tmp_path: Path, path: str) -> None:
    # why: the planner refuses these (data-reserved); a hand-made plan that holds one anyway is
    # an error here, never written over the venv or its state.
    f = make_tree(tmp_path / "trees/F", {"fpkg.py": ""}, data={path: "x"})
    plan = make_plan(wheels=("F",), data_projections=[(path, "F")])
    with pytest.raises(MaterializeError, match="venv owns"):
        materialize(plan, {"F": f}, HOST, tmp_path / "v")


def test_reserved_prefix_roots_are_one_definition() -> None:
    # why: the planner refuses and the materializer asserts the same tuple (and the harness
    # state directory is one of them).
    from harness.engine import materialize as materializer
    from harness.engine import plan as planner
    from harness.model import RESERVED_PREFIX_ROOTS, STATE_DIR

    assert materializer.RESERVED_PREFIX_ROOTS is RESERVED_PREFIX_ROOTS
    assert planner.RESERVED_DATA_ROOTS is RESERVED_PREFIX_ROOTS
    assert materializer.STATE_DIR == STATE_DIR and STATE_DIR in RESERVED_PREFIX_ROOTS


def test_a_console_script_over_the_venv_python_is_never_written(tmp_path: Path) -> None:
    # why: the plan refuses `python*` names (console-script-reserved); the materializer only
    # writes the plan's scripts, and one that would replace a venv file is an error.
    a = make_tree(tmp_path / "trees/A", {"alpha.py": "def main():\n    return 0\n"})
    plan = make_plan(wheels=("A",), console_scripts=[("python3", "A", "alpha", "main")])
    with pytest.raises(MaterializeError, match="plan should have refused"):
        materialize(plan, {"A": a}, HOST, tmp_path / "v")


# --------------------------------------------------------------------------- out directory


def test_refuses_a_non_empty_out_dir_and_replaces_only_venvs(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "trees/A", {"alpha.py": ""})
    plan = make_plan(wheels=("A",), projections=[("alpha.py", "A")])
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(MaterializeError, match="not empty"):
        materialize(plan, {"A": a}, HOST, out)
    with pytest.raises(MaterializeError, match="not a venv"):
        materialize(plan, {"A": a}, HOST, out, replace=True)
    assert (out / "precious.txt").read_text() == "keep me"

    venv = materialize(plan, {"A": a}, HOST, tmp_path / "v")
    with pytest.raises(MaterializeError, match="not empty"):
        materialize(plan, {"A": a}, HOST, venv.path)
    again = materialize(plan, {"A": a}, HOST, venv.path, replace=True)
    assert origin_of(again, "alpha")["alpha"] == os.path.realpath(a.site_packages / "alpha.py")


def test_missing_tree_and_missing_target_are_errors(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "trees/A", {"alpha.py": ""})
    with pytest.raises(MaterializeError, match="no install tree"):
        materialize(make_plan(wheels=("A", "B")), {"A": a}, HOST, tmp_path / "v1")
    plan = make_plan(wheels=("A",), projections=[("beta.py", "A")])
    with pytest.raises(MaterializeError, match="does not exist"):
        materialize(plan, {"A": a}, HOST, tmp_path / "v2")


def test_relocation_trees_and_venv_move_together(tmp_path: Path) -> None:
    home = tmp_path / "before"
    a = make_tree(home / "trees/A", {"jwt/__init__.py": "", "jwt/a.py": "", "ns/x/__init__.py": ""})
    b = make_tree(home / "trees/B", {"jwt/__init__.py": "", "jwt/b.py": "", "ns/y/__init__.py": ""})
    c = make_tree(home / "trees/C", {"cmod.py": ""}, data={"share/c.txt": "c"})
    d = _counting_tree(home / "trees/D")
    plan = make_plan(
        wheels=("A", "B", "C", "D"),
        projections=[("ns/x", "A"), ("ns/y", "B")],
        merges=[MergeGroup("jwt", ("A", "B"))],
        fallbacks=[Fallback("C"), Fallback("D", addsitedir=True)],
        console_scripts=[("cscript", "C", "cmod", "__name__.upper")],
        data_projections=[("share/c.txt", "C")],
    )
    trees = {"A": a, "B": b, "C": c, "D": d}
    materialize(plan, trees, HOST, home / "venv")

    moved = tmp_path / "elsewhere" / "deeper" / "after"
    moved.parent.mkdir(parents=True)
    shutil.move(str(home), moved)
    venv = Venv(
        path=moved / "venv",
        python=moved / "venv/bin/python",
        site_packages=moved / f"venv/lib/python{HOST.short_version}/site-packages",
        engine="merge",
    )
    result = run_python(
        venv,
        "import json, os, sys, jwt.a, jwt.b, ns.x, ns.y, cmod, unknownmod\n"
        "mods = [jwt.a, jwt.b, ns.x, ns.y, cmod, unknownmod]\n"
        "print(json.dumps([os.path.realpath(m.__file__) for m in mods] + "
        "[open(os.path.join(sys.prefix, 'share/c.txt')).read(), 'HOOK_RUNS' in os.environ]))",
    )
    sp = os.path.realpath(venv.site_packages)
    assert result == [
        f"{sp}/jwt/a.py",
        f"{sp}/jwt/b.py",
        str(moved / "trees/A/site-packages/ns/x/__init__.py"),
        str(moved / "trees/B/site-packages/ns/y/__init__.py"),
        str(moved / "trees/C/site-packages/cmod.py"),
        str(moved / "trees/D/site-packages/unknownmod.py"),
        "c",
        True,
    ]
    done = subprocess.run([str(moved / "venv/bin/cscript")], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr == "CMOD\n"  # sys.exit("CMOD") prints, status 1
    assert read_manifest(moved / "venv")["trees"]["A"] == str(moved / "trees/A")


def test_venv_deletes_cleanly_and_trees_stay_read_only(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "trees/A", {"pkg/__init__.py": "", "pkg/deep/a.py": "A = 1\n"})
    b = make_tree(tmp_path / "trees/B", {"pkg/__init__.py": "", "pkg/deep/b.py": "B = 1\n"})
    plan = make_plan(wheels=("A", "B"), merges=[MergeGroup("pkg", ("A", "B"))])
    venv = materialize(plan, {"A": a, "B": b}, HOST, tmp_path / "v")
    origin_of(venv, "pkg.deep.a")  # let Python write its caches where it may
    before = {
        p: (p.stat().st_mode, p.read_bytes())
        for tree in (a, b)
        for p in tree.root.rglob("*")
        if p.is_file()
    }
    # Every directory in the venv is the materializer's own and writable: deletable as non-root.
    for current, dirnames, _ in os.walk(venv.path):
        for name in dirnames:
            path = Path(current) / name
            assert path.is_symlink() or path.stat().st_mode & stat.S_IWUSR, path
    remove_venv(venv.path)
    assert not venv.path.exists()
    after = {p: (p.stat().st_mode, p.read_bytes()) for p in before}
    assert after == before
    assert all(stat.S_IMODE(mode) == 0o444 for mode, _ in after.values())


def test_state_records_plan_and_manifest(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "trees/A", {"pkg/__init__.py": "", "pkg/a.py": ""})
    b = make_tree(tmp_path / "trees/B", {"pkg/__init__.py": "", "pkg/b.py": ""})
    plan = make_plan(wheels=("A", "B"), merges=[MergeGroup("pkg", ("A", "B"))])
    venv = materialize(plan, {"A": a, "B": b}, HOST, tmp_path / "v")
    assert (venv.path / ".harness/plan.json").read_text() == plan.to_json()
    raw = json.loads((venv.path / ".harness/manifest.json").read_text())
    assert raw["trees"] == {"A": "../trees/A", "B": "../trees/B"}  # relative: moves with the pair
    assert sources(raw["owners"]) == {"pkg/__init__.py": "B", "pkg/a.py": "A", "pkg/b.py": "B"}
    assert raw["engine"] == "merge" and raw["interpreter"]["executable"] == HOST.executable
    manifest = read_manifest(venv.path)
    assert manifest["trees"]["B"] == os.path.realpath(b.root)


# --------------------------------------------------------------------------- flat


def test_flat_plans_are_refused_the_oracle_is_not_materialized(tmp_path: Path) -> None:
    # why: the flat oracle judges this engine; harness.oracle installs the wheel files itself,
    # so a flat plan reaching the materializer (and merge_tree) is a wiring error.
    a = make_tree(tmp_path / "trees/A", {"a.py": ""})
    with pytest.raises(MaterializeError, match=r"harness\.oracle\.install_flat"):
        materialize(make_plan(engine="flat", wheels=("A",)), {"A": a}, HOST, tmp_path / "v")
    assert not (tmp_path / "v").exists()
