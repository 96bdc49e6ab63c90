"""The merge engine at runtime: synthetic wheels, a real venv of the host interpreter, real imports.

Each test builds the collision shape of one engine rule (engine-contract.md §3) with `write_wheel`,
assembles it under `merge` and asks the venv's own interpreter, through the probe, what it
imports. Expectations come from the rules and the import system, one line of why each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from harness.cases.words import prepare_args
from harness.engine.assemble import assemble
from harness.errors import PlanError
from harness.observe.runtime import run_probe
from harness.supply.interpreters import resolve
from harness.supply.wheelbuilder import write_wheel

EXTEND_PATH = "from pkgutil import extend_path\n__path__ = extend_path(__path__, __name__)\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    return tmp_path


@pytest.fixture(scope="module")
def host():
    return resolve(sys.executable)


def build(env: Path, host, wheels: list[Path], engine: str = "merge"):
    prepared = prepare_args([str(w) for w in wheels], host)
    return assemble(prepared, host, env / f"venv-{engine}", engine=engine, policy="ignore")


def probe(asm, imports=(), resolve_names=()):
    return run_probe(
        asm.venv.python,
        resolve=list(resolve_names),
        imports=list(imports),
        resolve_after_import=bool(imports),
    )


def test_mixed_namespace_and_regular_claimants_are_merged(env, host):
    # why: a regular mixed_top/ against a namespace portion of it, no native code: the engine
    # merges the whole top-level physically (the #1118 shape), so both submodules import.
    regular = write_wheel(
        env / "w", "reg", "1.0", {"mixed_top/__init__.py": "", "mixed_top/from_regular.py": ""}
    )
    graft = write_wheel(env / "w", "nsp", "1.0", {"mixed_top/from_namespace.py": ""})
    asm = build(env, host, [graft, regular])
    assert [(m.root, m.contributors) for m in asm.plan.merges] == [
        ("mixed_top", ("nsp-1.0-py3-none-any.whl", "reg-1.0-py3-none-any.whl"))
    ]
    report = probe(asm, imports=["mixed_top.from_regular", "mixed_top.from_namespace"])
    for name in ("mixed_top.from_regular", "mixed_top.from_namespace"):
        module = report.module(name, mode="import")
        assert module.status == "found", module.error
        assert module.origin_realpath.startswith(os.path.realpath(asm.venv.site_packages))


def test_regular_package_spanning_namespace_wheels_is_merged(env, host):
    # why: ns/core is regular in one wheel and a namespace skeleton in the other; a regular
    # package binds __path__ to one directory, so only a physical merge of ns/core makes the
    # graft importable (the azure-core-tracing shape, #1092).
    core = write_wheel(
        env / "w", "core", "1.0", {"ns/core/__init__.py": "", "ns/core/tracing/__init__.py": ""}
    )
    ext = write_wheel(
        env / "w", "ext", "1.0", {"ns/core/tracing/ext/plugin/__init__.py": "OK = 1\n"}
    )
    asm = build(env, host, [core, ext])
    assert [m.root for m in asm.plan.merges] == ["ns/core"]
    report = probe(asm, imports=["ns.core.tracing.ext.plugin"])
    assert report.module("ns.core.tracing.ext.plugin", mode="import").status == "found"
    # ns/ itself stays a real namespace directory without __init__.py
    assert (asm.venv.site_packages / "ns").is_dir() and not (
        asm.venv.site_packages / "ns/__init__.py"
    ).exists()


def _compile_extension(tmp: Path, module: str) -> tuple[str, bytes] | None:
    """A tiny C extension `module` (answer() -> 42) for the host, or None without a compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    source = tmp / f"{module}.c"
    source.write_text(
        "#include <Python.h>\n"
        "static PyObject *answer(PyObject *s, PyObject *a) { return PyLong_FromLong(42); }\n"
        'static PyMethodDef m[] = {{"answer", answer, METH_NOARGS, 0}, {0}};\n'
        f'static struct PyModuleDef d = {{PyModuleDef_HEAD_INIT, "{module}", 0, -1, m}};\n'
        f"PyMODINIT_FUNC PyInit_{module}(void) {{ return PyModule_Create(&d); }}\n"
    )
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    out = tmp / f"{module}{suffix}"
    include = sysconfig.get_paths()["include"]
    done = subprocess.run(
        [cc, "-shared", "-fPIC", f"-I{include}", str(source), "-o", str(out)], capture_output=True
    )
    if done.returncode != 0:
        return None
    return f"{module}{suffix}", out.read_bytes()


def test_native_root_is_projected_whole_and_keeps_its_origin(env, host):
    # why: nat/ holds native code, so it is never copied or split: the last regular claimant is
    # projected whole; its extension loads and finds a sibling data file relative to its own real
    # path, which stays inside its install tree. The namespace graft stays on the fallback.
    built = _compile_extension(env, "_ext")
    if built is None:
        pytest.skip("no C compiler for the host interpreter")
    ext_name, ext_bytes = built
    reader = "import os\nHERE = os.path.dirname(os.path.realpath(__file__))\nMARK = open(os.path.join(HERE, 'marker.txt')).read()\n"
    native = write_wheel(
        env / "w",
        "nat",
        "1.0",
        {"nat/__init__.py": reader, f"nat/{ext_name}": ext_bytes, "nat/marker.txt": "from-nat"},
    )
    graft = write_wheel(env / "w", "natgraft", "1.0", {"nat/contrib.py": ""})
    asm = build(env, host, [native, graft])
    assert asm.plan.merges == ()
    assert dict(asm.plan.projections)["nat"] == "nat-1.0-py3-none-any.whl"
    assert [f.label for f in asm.plan.fallbacks] == ["natgraft-1.0-py3-none-any.whl"]
    out = subprocess.run(
        [
            str(asm.venv.python),
            "-c",
            "import nat, nat._ext, os; print(nat._ext.answer(), nat.MARK, os.path.realpath(nat._ext.__file__))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[:2] == ["42", "from-nat"]
    tree = os.path.realpath(asm.venv.site_packages / "nat")
    assert out[2] == os.path.join(tree, ext_name) and "/trees/" in out[2]


def test_extend_path_winner_grafts_the_native_loser_from_the_fallback(env, host):
    # why: the regular claimant wins the native collision; the loser stays on sys.path, and a
    # winner whose __init__ calls pkgutil.extend_path appends the loser's portion at import
    # time, so graftpkg.second imports through the fallback (engine-contract.md §9.2).
    first = write_wheel(
        env / "w", "gfirst", "1.0", {"graftpkg/__init__.py": EXTEND_PATH, "graftpkg/first.py": ""}
    )
    second = write_wheel(
        env / "w",
        "gsecond",
        "1.0",
        {"graftpkg/second.py": "", "graftpkg/native_helper.so": b"\x7fELF not loaded"},
    )
    asm = build(env, host, [first, second])
    assert dict(asm.plan.projections)["graftpkg"] == "gfirst-1.0-py3-none-any.whl"
    static = probe(asm, resolve_names=["graftpkg.second"])
    assert static.module("graftpkg.second").status == "not-found"  # invisible without the import
    report = probe(asm, imports=["graftpkg", "graftpkg.second"], resolve_names=["graftpkg.second"])
    second_mod = report.module("graftpkg.second", mode="import")
    assert second_mod.status == "found"
    assert "/trees/" in second_mod.origin_realpath  # from the loser's own tree, via the fallback


def _shared_file_wheel(env: Path, label: str):
    # every copy ships the file top-level shared.py (file branch: last wins, losers on fallback)
    return write_wheel(
        env / "w",
        "dupdist",
        "1.0",
        {"shared.py": f"WHO = {label!r}\n"},
        dist_info_name="dupdist-1.0.dist-info",
        metadata_extra=[f"Summary: {label}"],
        filename=f"dupdist-1.0-{label}-py3-none-any.whl",
    )


def test_duplicate_metadata_zero_one_and_many_copies_on_fallback(env, host):
    # 0 on fallback: two metadata-only copies of one dist-info are both fully covered, so the
    # winner's dist-info is projected and importlib.metadata finds exactly one copy.
    a = write_wheel(
        env / "w",
        "metaonly",
        "1.0",
        {},
        metadata_extra=["Summary: first"],
        filename="metaonly-1.0-1a-py3-none-any.whl",
    )
    b = write_wheel(
        env / "w",
        "metaonly",
        "1.0",
        {},
        metadata_extra=["Summary: second"],
        filename="metaonly-1.0-1b-py3-none-any.whl",
    )
    zero = build(env, host, [a, b])
    assert [f.label for f in zero.plan.fallbacks] == []
    assert len(probe(zero).distributions_named("metaonly")) == 1

    # 1 on fallback: the loser of shared.py stays on the fallback and is the only copy left
    # there, so nothing is projected and that copy owns discovery: still exactly one.
    one = build(env / "one", host, [_shared_file_wheel(env, "1a"), _shared_file_wheel(env, "1b")])
    (copy,) = probe(one).distributions_named("dupdist")
    assert "/trees/" in copy.realpath

    # many on fallback: three copies leave two on the fallback, which no policy can fix.
    wheels = [_shared_file_wheel(env, tag) for tag in ("1a", "1b", "1c")]
    with pytest.raises(PlanError, match="dupdist"):
        build(env / "many", host, wheels)


def test_what_the_venv_owns_is_refused_by_the_plan_not_the_materializer(env, host):
    # why: a wheel shipping `.data/data/.harness/x`, `CACHEDIR.TAG` (virtualenv writes one) and
    # a `python3` console script reaches the materializer only as refusals the plan made
    # (data-reserved, console-script-reserved): the venv is written, its state, tag and
    # interpreter untouched, its other outputs in place.
    sneaky = write_wheel(
        env / "w",
        "sneaky",
        "1.0",
        {"sneaky.py": "def main():\n    return 0\n"},
        data={"data": {".harness/x": "boom", "CACHEDIR.TAG": "mine", "share/sneaky/ok.txt": "ok"}},
        entry_points={"console_scripts": {"python3": "sneaky:main", "sneaky": "sneaky:main"}},
    )
    for engine in ("merge", "pth"):  # pth projects no data file (engine-contract.md §7.3)
        asm = build(env / engine, host, [sneaky], engine=engine)
        refused = {(d.rule, d.path) for d in asm.plan.decisions if d.outcome == "refuse"}
        data = {("data-reserved", ".harness/x"), ("data-reserved", "CACHEDIR.TAG")}
        data = data if engine == "merge" else set()
        assert refused == {("console-script-reserved", "python3"), *data}
        venv = asm.venv.path
        assert not (venv / ".harness" / "x").exists()
        assert (venv / "CACHEDIR.TAG").read_text() != "mine"
        assert (venv / ".harness" / "plan.json").read_text() == asm.plan.to_json()
        assert (venv / "bin" / "python3").is_symlink()  # still virtualenv's interpreter link
        assert (venv / "bin" / "sneaky").is_file()
        if engine == "merge":
            assert (venv / "share" / "sneaky" / "ok.txt").read_text() == "ok"
