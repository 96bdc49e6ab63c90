"""Layout facts from RECORD paths (engine-contract.md §1.2-§1.3, §1.6 and §9.5 vectors).

Expectations are the reference's worked examples; the RECORD path lists are representative
excerpts of the real wheels (the shape that decides each fact, not every file).
"""

from __future__ import annotations

import pytest

from harness.facts import (
    derive_facts,
    facts_from_paths,
    is_native,
    parse_console_scripts,
    record_paths,
    route_record,
)
from harness.model import ConsoleScript

# --------------------------------------------------------------------------- worked examples

AZURE_CORE = (
    "azure_core-1.38.0.dist-info",
    [
        "azure/core/__init__.py",
        "azure/core/_version.py",
        "azure/core/pipeline/__init__.py",
        "azure/core/pipeline/policies/__init__.py",
        "azure/core/pipeline/policies/_retry.py",
        "azure/core/py.typed",
        "azure_core-1.38.0.dist-info/METADATA",
        "azure_core-1.38.0.dist-info/WHEEL",
        "azure_core-1.38.0.dist-info/RECORD",
    ],
)
AZURE_TRACING = (
    "azure_core_tracing_opentelemetry-1.0.0b11.dist-info",
    [
        "azure/core/tracing/ext/opentelemetry_span/__init__.py",
        "azure/core/tracing/ext/opentelemetry_span/_schema.py",
        "azure/core/tracing/ext/opentelemetry_span/_version.py",
        "azure/core/tracing/ext/opentelemetry_span/py.typed",
        "azure_core_tracing_opentelemetry-1.0.0b11.dist-info/METADATA",
        "azure_core_tracing_opentelemetry-1.0.0b11.dist-info/RECORD",
    ],
)
PROTOBUF = (
    "protobuf-6.33.5.dist-info",
    [
        "google/_upb/_message.abi3.so",
        "google/protobuf/__init__.py",
        "google/protobuf/descriptor.py",
        "google/protobuf/compiler/__init__.py",
        "google/protobuf/compiler/plugin_pb2.py",
        "google/protobuf/internal/__init__.py",
        "google/protobuf/pyext/__init__.py",
        "protobuf-6.33.5.dist-info/LICENSE",
        "protobuf-6.33.5.dist-info/METADATA",
        "protobuf-6.33.5.dist-info/WHEEL",
        "protobuf-6.33.5.dist-info/RECORD",
    ],
)
GOOGLE = (
    "google-1.9.3.dist-info",
    [
        "google/__init__.py",
        "google/google.py",
        "google-1.9.3.dist-info/METADATA",
        "google-1.9.3.dist-info/RECORD",
        "google-1.9.3.data/scripts/google",  # a script: ignored for layout
    ],
)
CRYPTOGRAPHY_MUSL = (
    "cryptography-46.0.5.dist-info",
    [
        "cryptography/__init__.py",
        "cryptography/hazmat/__init__.py",
        "cryptography/hazmat/bindings/__init__.py",
        "cryptography/hazmat/bindings/_rust.abi3.so",
        "cryptography.libs/libgcc_s-0cd532bd.so.1",
        "cryptography-46.0.5.dist-info/METADATA",
        "cryptography-46.0.5.dist-info/licenses/LICENSE",
        "cryptography-46.0.5.dist-info/RECORD",
    ],
)

WORKED_EXAMPLES = {
    "azure-core": (
        AZURE_CORE,
        {
            "name": "azure-core",
            "version": "1.38.0",
            "top_levels": ("azure", "azure_core-1.38.0.dist-info"),
            "regular_top_levels": (),
            "namespace_top_levels": ("azure",),
            "top_level_dirs": ("azure",),
            "namespace_entries": ("azure/core",),
            "namespace_dirs": (),
            "regular_roots": ("azure/core",),
            "native_roots": (),
        },
    ),
    "azure-core-tracing-opentelemetry": (
        AZURE_TRACING,
        {
            "name": "azure-core-tracing-opentelemetry",
            "namespace_top_levels": ("azure",),
            "namespace_entries": ("azure/core/tracing/ext/opentelemetry_span",),
            "namespace_dirs": ("azure/core", "azure/core/tracing", "azure/core/tracing/ext"),
            "regular_roots": ("azure/core/tracing/ext/opentelemetry_span",),
            "native_roots": (),
        },
    ),
    "protobuf-6.33.5": (
        PROTOBUF,
        {
            "name": "protobuf",
            "version": "6.33.5",
            "top_levels": ("google", "protobuf-6.33.5.dist-info"),
            "regular_top_levels": (),
            "namespace_top_levels": ("google",),
            "namespace_entries": ("google/_upb/_message.abi3.so", "google/protobuf"),
            "namespace_dirs": ("google/_upb",),
            "regular_roots": ("google/protobuf",),
            "native_roots": ("google", "google/_upb"),
        },
    ),
    "google-1.9.3": (
        GOOGLE,
        {
            "top_levels": ("google", "google-1.9.3.dist-info"),
            "regular_top_levels": ("google",),
            "namespace_top_levels": (),
            "namespace_entries": (),
            "namespace_dirs": (),
            "regular_roots": (),
            "native_roots": (),
        },
    ),
    "cryptography-46.0.5-musllinux": (
        CRYPTOGRAPHY_MUSL,
        {
            "top_levels": (
                "cryptography",
                "cryptography-46.0.5.dist-info",
                "cryptography.libs",
            ),
            "top_level_dirs": ("cryptography", "cryptography.libs"),
            "regular_top_levels": ("cryptography",),
            "namespace_top_levels": ("cryptography.libs",),
            "namespace_entries": ("cryptography.libs/libgcc_s-0cd532bd.so.1",),
            "namespace_dirs": (),  # depth-1 dirs are the namespace top-level itself
            "regular_roots": (),
            "native_roots": ("cryptography", "cryptography.libs"),
        },
    ),
}


@pytest.mark.parametrize("example", sorted(WORKED_EXAMPLES))
def test_reference_worked_examples(example):
    (dist_info, paths), expected = WORKED_EXAMPLES[example]
    facts = derive_facts(label=example, dist_info=dist_info, record=paths)
    actual = {key: getattr(facts, key) for key in expected}
    assert actual == expected


def test_metadata_top_levels_are_neither_regular_nor_namespace():
    facts = derive_facts(label="p", dist_info=PROTOBUF[0], record=PROTOBUF[1])
    assert facts.metadata_top_levels == ("protobuf-6.33.5.dist-info",)
    assert facts.layout_known


# --------------------------------------------------------------------------- native roots


@pytest.mark.parametrize(
    ("paths", "native_roots"),
    [
        # engine-contract.md §9.5 vectors
        (["cv2/__init__.py", "cv2/cv2.abi3.so"], ("cv2",)),
        (["cv2/cv2.abi3.so"], ("cv2",)),  # namespace cv2: the top-level is still the root
        (["pkg/__init__.py", "pkg/native/libfoo.so.1"], ("pkg",)),
        # namespace skeleton: every namespace dir above the library is a root too
        (["pkg/native/deeper/libfoo.so.1"], ("pkg", "pkg/native", "pkg/native/deeper")),
        # a regular root below a namespace: it, not its interior directories
        (
            ["pkg/native/__init__.py", "pkg/native/deeper/libfoo.so.1"],
            ("pkg", "pkg/native"),
        ),
        (["pkg/__init__.py", "pkg/native.pyd"], ("pkg",)),
        (["pkg/__init__.py", "pkg/native.dylib"], ("pkg",)),
        (["pkg/__init__.py", "pkg/native.dll"], ("pkg",)),
        (["native.so"], ()),  # root-level native modules contribute nothing
        (["native.so.txt"], ()),
        (["pkg/__init__.py", "pkg/native.so.txt"], ()),  # `.so.` must be followed by a digit
        (["pkg/__init__.py", "pkg/native.sox"], ()),
        (["pkg-1.0.dist-info/libfoo.so"], ()),  # metadata is never a native root
    ],
)
def test_native_root_vectors(paths, native_roots):
    facts = derive_facts(label="t", dist_info="pkg-1.0.dist-info", record=paths)
    assert facts.native_roots == native_roots


@pytest.mark.parametrize(
    ("name", "native"),
    [
        ("_rust.abi3.so", True),
        ("libgcc_s-0cd532bd.so.1", True),
        ("libfoo.so.1.2.3", True),
        ("x.pyd", True),
        ("x.dylib", True),
        ("X.DLL", False),  # suffixes are case-sensitive, as in the reference
        ("native.so.txt", False),
        ("so.py", False),
    ],
)
def test_is_native(name, native):
    assert is_native(f"pkg/{name}") is native


# --------------------------------------------------------------------------- routing


def test_record_routing_of_data_and_hostile_rows():
    stem = "Legacy.Name-1.0"
    site, data = route_record(
        [
            f"{stem}.data/purelib/pkg/module.py",
            f"{stem}.data/platlib/pkg/native.so",
            f"{stem}.data/scripts/tool",
            f"{stem}.data/headers/x.h",
            f"{stem}.data/data/share/jupyter/x.js",
            f"{stem}.data/data/bin/python",  # reserved prefix paths are kept for the planner
            f"{stem}.data/data/../escape.txt",
            f"{stem}.data/data",
            "../../bin/legacy_script",  # setuptools-era rows are dropped
            "/abs/path.py",
            "./dot.py",
            "pkg/__init__.py",
            f"{stem}.dist-info/RECORD",
        ],
        stem,
    )
    assert site == [
        f"{stem}.dist-info/RECORD",
        "pkg/__init__.py",
        "pkg/module.py",
        "pkg/native.so",
    ]
    assert data == ["bin/python", "share/jupyter/x.js"]


def test_data_stem_comes_from_the_dist_info_not_the_file_name():
    # InquirerPy 0.3.4: RECORD spells `.data` with the archive's lowercase stem.
    rows = [
        "InquirerPy/__init__.py",
        "inquirerpy-0.3.4.data/data/share/inquirerpy/theme.json",
        "inquirerpy-0.3.4.dist-info/RECORD",
    ]
    facts = derive_facts(label="i", dist_info="inquirerpy-0.3.4.dist-info", record=rows)
    assert facts.data_files == ("share/inquirerpy/theme.json",)
    wrong = derive_facts(label="i", dist_info="InquirerPy-0.3.4.dist-info", record=rows)
    assert wrong.data_files == ()  # the stem the file name implies matches nothing


def test_record_paths_follow_csv_semantics():
    text = '"pkg/data/sample,1.csv",sha256=abc,1\nplain.py,sha256=abc,1\n\n,sha256=x,1\n'
    assert record_paths(text) == ["pkg/data/sample,1.csv", "plain.py"]


def test_root_pth_files_and_file_top_levels():
    facts = facts_from_paths("six", ["six.py", "six_shim.pth", "sub/thing.pth"])
    assert facts.regular_top_levels == ("six.py", "six_shim.pth")
    assert facts.root_pth_files == ("six_shim.pth",)
    assert facts.namespace_top_levels == ("sub",)


def test_only_a_literal_init_py_makes_a_regular_package():
    facts = facts_from_paths("p", ["a/__init__.pyi", "b/__init__.cpython-311-x86_64-linux-gnu.so"])
    assert facts.namespace_top_levels == ("a", "b")
    assert facts.regular_top_levels == ()


def test_empty_record_means_layout_unknown():
    facts = derive_facts(label="x", dist_info="x-1.0.dist-info", record=[])
    assert facts.top_levels == () and not facts.layout_known


# --------------------------------------------------------------------------- console scripts


def test_console_scripts_parsing():
    text = """
# a comment line
; another comment line
[gui_scripts]
gui = pkg.gui:main

[console_scripts]
plain = pkg.mod:main
extras = pkg.mod:main [extra1,extra2]
  spaced  =  pkg.mod : main  [ a , b ]
dotted = pkg.mod:Class.method
commented = pkg.mod:main  # trailing comment
semi = pkg.mod:main ; trailing comment
dup = first:one
dup = second:two
bare-module = pkg.mod
trailing-colon = pkg.mod:
extras-only = pkg.mod: [extra]
no-module = :main
 = pkg.mod:main
pkg.mod:main

[other]
ignored = pkg:main
"""
    assert parse_console_scripts(text) == (
        ConsoleScript("commented", "pkg.mod", "main"),
        ConsoleScript("dotted", "pkg.mod", "Class.method"),
        ConsoleScript("dup", "second", "two"),  # a later duplicate name overwrites
        ConsoleScript("extras", "pkg.mod", "main"),
        ConsoleScript("plain", "pkg.mod", "main"),
        ConsoleScript("semi", "pkg.mod", "main"),
        ConsoleScript("spaced", "pkg.mod", "main"),
    )


def test_console_scripts_of_a_wheel_are_sorted_by_name():
    facts = facts_from_paths("t", ["t.py"], console_scripts=["z=t:z", "a=t:a"])
    assert [s.name for s in facts.console_scripts] == ["a", "z"]
