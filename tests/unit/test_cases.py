"""Case files (pin part): a valid file parses in wheel order; every error names file and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.cases import discover_cases, find_case, load_case, pin_fragment_toml
from harness.errors import CaseFileError
from harness.model import Pin, WheelFile

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64

VALID = f"""\
description = "google (regular) meets protobuf (namespace with native code)"
detects = ["whole-tree"]   # owned by harness.expectations: must not upset this parser

[[wheels]]
name = "google"
version = "1.9.3"
files = [
  {{ filename = "google-1.9.3-py2.py3-none-any.whl", sha256 = "{SHA_A}", size = 16926 }},
]

[[wheels]]
name = "protobuf"
version = "6.33.5"
label = "pb"
files = [
  {{ filename = "protobuf-6.33.5-cp39-abi3-manylinux2014_x86_64.whl", sha256 = "{SHA_B}", size = 3 }},
  {{ filename = "protobuf-6.33.5-py3-none-any.whl", sha256 = "{SHA_C}", size = 4 }},
]

[[support]]
name = "six"
version = "1.17.0"
filename = "six-1.17.0-py2.py3-none-any.whl"
files = [{{ filename = "six-1.17.0-py2.py3-none-any.whl", sha256 = "{SHA_C.replace("c", "d")}", size = 5 }}]

[expect]
note = "an expectation section another module reads"
"""


def write_case(root: Path, name: str, text: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "case.toml").write_text(text, encoding="utf-8")
    return directory


def test_valid_case_keeps_wheel_order_support_first_and_raw(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, "regular-vs-namespace", VALID))
    assert case.name == "regular-vs-namespace"
    assert case.path == tmp_path / "regular-vs-namespace" / "case.toml"
    assert [p.name for p in case.wheels] == ["google", "protobuf"]
    # support wheels are what a real import needs: installed before the wheels under test
    assert [p.name for p in case.pins] == ["six", "google", "protobuf"]
    protobuf = case.wheels[1]
    assert protobuf.label == "pb" and protobuf.filename is None
    assert protobuf.files[0] == WheelFile(
        "protobuf-6.33.5-cp39-abi3-manylinux2014_x86_64.whl", SHA_B, 3
    )
    assert case.support[0].filename == "six-1.17.0-py2.py3-none-any.whl"
    assert case.raw["detects"] == ["whole-tree"] and "expect" in case.raw


def mutate(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


BAD = [
    (
        "missing description",
        VALID.replace(
            'description = "google (regular) meets protobuf (namespace with native code)"\n', ""
        ),
        "`description`",
        "must be a non-empty string, got missing",
    ),
    (
        "bad sha256",
        mutate(f'sha256 = "{SHA_C}", size = 4', 'sha256 = "XYZ", size = 4'),
        "`wheels[1].files[1].sha256`",
        "64 lowercase hex characters, got 'XYZ'",
    ),
    (
        "uppercase sha256",
        mutate(f'sha256 = "{SHA_A}"', f'sha256 = "{SHA_A.upper()}"'),
        "`wheels[0].files[0].sha256`",
        "lowercase hex",
    ),
    (
        "negative size",
        mutate("size = 3 }", "size = -3 }"),
        "`wheels[1].files[0].size`",
        "positive integer (bytes), got -3",
    ),
    (
        "size as string",
        mutate("size = 16926", 'size = "16926"'),
        "`wheels[0].files[0].size`",
        "got '16926'",
    ),
    (
        "not a wheel file name",
        mutate(
            'filename = "google-1.9.3-py2.py3-none-any.whl"', 'filename = "google-1.9.3.tar.gz"'
        ),
        "`wheels[0].files[0].filename`",
        "not a valid wheel file name",
    ),
    (
        "wheel of another project",
        mutate(
            'filename = "google-1.9.3-py2.py3-none-any.whl"',
            'filename = "googel-1.9.3-py2.py3-none-any.whl"',
        ),
        "`wheels[0].files[0].filename`",
        "is a wheel of googel 1.9.3, expected one of google 1.9.3",
    ),
    (
        "wheel of another version",
        mutate('version = "1.9.3"', 'version = "1.9.4"'),
        "`wheels[0].files[0].filename`",
        "expected one of google 1.9.4",
    ),
    (
        "invalid version",
        mutate('version = "1.9.3"', 'version = "one"'),
        "`wheels[0].version`",
        "not a PEP 440 version",
    ),
    (
        "duplicate label",
        mutate('name = "google"\n', 'name = "google"\nlabel = "pb"\n'),
        "`wheels[1].label`",
        "can be labelled 'pb', as can wheels[0]",
    ),
    (
        "label equal to another wheel's file name",
        mutate('label = "pb"', 'label = "google-1.9.3-py2.py3-none-any.whl"'),
        "`wheels[1].label`",
        "as can wheels[0]",
    ),
    (
        "forced file not among files",
        mutate('label = "pb"', 'filename = "protobuf-6.33.5-cp313-cp313-win32.whl"'),
        "`wheels[1].filename`",
        "which is not one of its files",
    ),
    (
        "platform no file is built for",
        mutate('label = "pb"', 'platform = "musllinux_1_1_x86_64"'),
        "`wheels[1].platform`",
        "none of its files is built for it",
    ),
    (
        "platform and a forced file together",
        mutate(
            'label = "pb"',
            'platform = "manylinux2014_x86_64"\nfilename = "protobuf-6.33.5-py3-none-any.whl"',
        ),
        "`wheels[1].platform`",
        "give one",
    ),
    (
        "typo in a wheel key",
        mutate('label = "pb"', 'lable = "pb"'),
        "`wheels[1].lable`",
        "is not a known key",
    ),
    (
        "typo in a file key",
        mutate("size = 16926", "sise = 16926"),
        "`wheels[0].files[0].sise`",
        "is not a known key",
    ),
    (
        "no files",
        mutate(
            f'  {{ filename = "google-1.9.3-py2.py3-none-any.whl", sha256 = "{SHA_A}", size = 16926 }},\n',
            "",
        ),
        "`wheels[0].files`",
        "non-empty array",
    ),
    (
        "file entry not a table",
        mutate("files = [{", 'files = ["six.whl", {'),
        "`support[0].files[0]`",
        "must be a table",
    ),
    (
        "wheels not an array of tables",
        'description = "x"\nwheels = "google==1.9.3"\n',
        "`wheels`",
        "must be an array of tables",
    ),
    (
        "no wheels",
        'description = "x"\n',
        "`wheels`",
        "at least one [[wheels]] table",
    ),
    (
        "same file pinned with two hashes",
        mutate(f'sha256 = "{SHA_C.replace("c", "d")}"', f'sha256 = "{SHA_B}"')
        .replace("six", "protobuf")
        .replace('version = "1.17.0"', 'version = "6.33.5"')
        .replace("protobuf-1.17.0-py2.py3", "protobuf-6.33.5-py3"),
        "`wheels[1].files[1]`",
        "but support[0].files[0] pins it as sha256",
    ),
    (
        "TOML syntax error",
        mutate('version = "1.9.3"', 'version = "1.9.3'),
        "TOML syntax error",
        "line 6",
    ),
]


@pytest.mark.parametrize(("text", "key", "problem"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_each_error_names_the_file_the_key_and_the_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    directory = write_case(tmp_path, "broken", text)
    with pytest.raises(CaseFileError) as caught:
        load_case(directory)
    message = str(caught.value)
    assert str(directory / "case.toml") in message
    assert key in message, message
    assert problem in message, message


def test_the_same_wheel_listed_twice_is_allowed(tmp_path: Path) -> None:
    # deduplicated at preparation (first position kept), so not a label clash
    block = VALID[VALID.index("[[wheels]]") : VALID.index('[[wheels]]\nname = "protobuf"')]
    case = load_case(write_case(tmp_path, "twice", VALID + "\n" + block))
    assert case.wheels[0] == case.wheels[2]


def test_fragment_round_trips_through_the_parser(tmp_path: Path) -> None:
    pins = [
        Pin("google", "1.9.3", (WheelFile("google-1.9.3-py2.py3-none-any.whl", SHA_A, 16926),)),
        Pin(
            "protobuf",
            "6.33.5",
            (
                WheelFile("protobuf-6.33.5-cp39-abi3-manylinux2014_x86_64.whl", SHA_B, 3),
                WheelFile("protobuf-6.33.5-py3-none-any.whl", SHA_C, 4),
            ),
            label='pb "new"\\ é',
            filename="protobuf-6.33.5-py3-none-any.whl",
        ),
    ]
    pins.append(
        Pin(
            "protobuf",
            "6.33.5",
            (WheelFile("protobuf-6.33.5-cp39-abi3-manylinux2014_x86_64.whl", SHA_B, 3),),
            label="pb-manylinux",
            platform="manylinux2014_x86_64",
        )
    )
    support = [dataclasses.replace(pins[0], label="support google")]
    text = (
        'description = "round trip"\n\n'
        + pin_fragment_toml(pins)
        + "\n"
        + pin_fragment_toml(support, "support")
    )
    case = load_case(write_case(tmp_path, "round-trip", text))
    assert list(case.wheels) == pins and list(case.support) == support
    assert text.count("[[wheels]]") == 3 and text.count("[[support]]") == 1


def test_discover_sorts_by_name_and_find_lists_known(tmp_path: Path) -> None:
    write_case(tmp_path, "zeta", VALID)
    write_case(tmp_path, "alpha", VALID)
    (tmp_path / "not-a-case").mkdir()
    assert [c.name for c in discover_cases(tmp_path)] == ["alpha", "zeta"]
    assert find_case("zeta", tmp_path).name == "zeta"
    with pytest.raises(CaseFileError, match=r"no case named 'beta' .*known: alpha, zeta"):
        find_case("beta", tmp_path)
    with pytest.raises(CaseFileError, match="no such case file"):
        load_case(tmp_path / "not-a-case")


def test_case_is_hashable_and_raw_read_only(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, "c", VALID))
    assert hash(case) == hash(load_case(tmp_path / "c"))
    with pytest.raises(TypeError):
        case.raw["description"] = "changed"  # type: ignore[index]
