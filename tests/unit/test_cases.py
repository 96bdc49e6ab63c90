"""Case files: a valid file parses once into one typed, frozen `Case`, pins in wheel order;
every error has the one format that names the file, the table and the key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from harness.cases import discover_cases, find_case, load_case
from harness.cases.case import Case
from harness.cases.expectations import ModuleExpectation
from harness.cases.pins import pin_fragment_toml
from harness.errors import CaseFileError
from harness.model import Pin, WheelFile

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64

VALID = f"""\
description = "google (regular) meets protobuf (namespace with native code)"
python = ">=3.9"
detects = ["whole-tree"]

[[expect.module]]
name = "google"
owner = "google"
explanation = "a regular google/__init__.py ends the PEP 420 scan at once"

[[support]]
name = "six"
version = "1.17.0"
filename = "six-1.17.0-py2.py3-none-any.whl"
files = [{{ filename = "six-1.17.0-py2.py3-none-any.whl", sha256 = "{SHA_C.replace("c", "d")}", size = 5 }}]

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
"""

# The one error format: `<file>: <table>[: <nested part>][: key '<key>']: <problem>`.
ONE_FORMAT = re.compile(
    r"(?P<file>[^:]+case\.toml): (?P<table>top level|\[\[?[a-z_.]+\]\]?(?: #\d+)?)"
    r"(?:: (?:files #\d+|\[[a-z_.]+\]))?(?:: key '[A-Za-z_]+')?: \S.*",
    re.DOTALL,
)


def write_case(root: Path, name: str, text: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "case.toml").write_text(text, encoding="utf-8")
    return directory


def test_valid_case_is_one_typed_object_in_wheel_order(tmp_path: Path) -> None:
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
    # the rest of the same file, read by the same parser into the same object
    assert case.detects == ("whole-tree",) and case.reviewed and not case.slow
    assert case.supports((3, 11, 0)) and not case.supports((3, 8, 10))
    assert case.expect.modules == (
        ModuleExpectation(
            "google", "google", False, "a regular google/__init__.py ends the PEP 420 scan at once"
        ),
    )
    assert case.for_engine("uv-symlink").expect.modules == case.expect.modules


def mutate(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


# (id, text, what follows `<file>: `, more of the message)
BAD = [
    (
        "missing description",
        VALID.replace(
            'description = "google (regular) meets protobuf (namespace with native code)"\n', ""
        ),
        "top level: key 'description': expected a non-empty string, got nothing",
        "",
    ),
    (
        "bad sha256",
        mutate(f'sha256 = "{SHA_C}", size = 4', 'sha256 = "XYZ", size = 4'),
        "[[wheels]] #2: files #2: key 'sha256': expected 64 lowercase hex characters, "
        "got a string 'XYZ'",
        "",
    ),
    (
        "uppercase sha256",
        mutate(f'sha256 = "{SHA_A}"', f'sha256 = "{SHA_A.upper()}"'),
        "[[wheels]] #1: files #1: key 'sha256': expected 64 lowercase hex characters",
        "",
    ),
    (
        "negative size",
        mutate("size = 3 }", "size = -3 }"),
        "[[wheels]] #2: files #1: key 'size': expected a positive integer (bytes), "
        "got an integer -3",
        "",
    ),
    (
        "size as string",
        mutate("size = 16926", 'size = "16926"'),
        "[[wheels]] #1: files #1: key 'size': expected a positive integer (bytes), "
        "got a string '16926'",
        "",
    ),
    (
        "not a wheel file name",
        mutate(
            'filename = "google-1.9.3-py2.py3-none-any.whl"', 'filename = "google-1.9.3.tar.gz"'
        ),
        "[[wheels]] #1: files #1: key 'filename': not a valid wheel file name",
        "",
    ),
    (
        "wheel of another project",
        mutate(
            'filename = "google-1.9.3-py2.py3-none-any.whl"',
            'filename = "googel-1.9.3-py2.py3-none-any.whl"',
        ),
        "[[wheels]] #1: files #1: key 'filename': a wheel of googel 1.9.3, "
        "expected one of google 1.9.3",
        "",
    ),
    (
        "wheel of another version",
        mutate('version = "1.9.3"', 'version = "1.9.4"'),
        "[[wheels]] #1: files #1: key 'filename': a wheel of google 1.9.3, "
        "expected one of google 1.9.4",
        "",
    ),
    (
        "invalid version",
        mutate('version = "1.9.3"', 'version = "one"'),
        "[[wheels]] #1: key 'version': not a PEP 440 version: 'one'",
        "",
    ),
    (
        "duplicate label",
        mutate('name = "google"\nversion', 'name = "google"\nlabel = "pb"\nversion'),
        "[[wheels]] #2: key 'label': can be labelled 'pb', as can [[wheels]] #1; labels name "
        "wheels in plans and must be unique",
        "",
    ),
    (
        "label equal to another wheel's file name",
        mutate('label = "pb"', 'label = "google-1.9.3-py2.py3-none-any.whl"'),
        "[[wheels]] #2: key 'label': can be labelled 'google-1.9.3-py2.py3-none-any.whl', "
        "as can [[wheels]] #1",
        "",
    ),
    (
        "forced file not among files",
        mutate('label = "pb"', 'filename = "protobuf-6.33.5-cp313-cp313-win32.whl"'),
        "[[wheels]] #2: key 'filename': forces 'protobuf-6.33.5-cp313-cp313-win32.whl', "
        "which is not one of its files",
        "",
    ),
    (
        "platform no file is built for",
        mutate('label = "pb"', 'platform = "musllinux_1_1_x86_64"'),
        "[[wheels]] #2: key 'platform': names 'musllinux_1_1_x86_64', but none of its files "
        "is built for it",
        "",
    ),
    (
        "platform and a forced file together",
        mutate(
            'label = "pb"',
            'platform = "manylinux2014_x86_64"\nfilename = "protobuf-6.33.5-py3-none-any.whl"',
        ),
        "[[wheels]] #2: key 'platform': chooses the file, and so does 'filename': give one",
        "",
    ),
    (
        "typo in a wheel key",
        mutate('label = "pb"', 'lable = "pb"'),
        "[[wheels]] #2: key 'lable': unknown key (known: filename, files, label, name, "
        "platform, synthetic, version); a typo?",
        "",
    ),
    (
        "typo in a file key",
        mutate("size = 16926", "sise = 16926"),
        "[[wheels]] #1: files #1: key 'sise': unknown key (known: filename, sha256, size)",
        "",
    ),
    (
        "no files",
        mutate(
            f'  {{ filename = "google-1.9.3-py2.py3-none-any.whl", sha256 = "{SHA_A}", size = 16926 }},\n',
            "",
        ),
        "[[wheels]] #1: key 'files': expected a non-empty array of {filename, sha256, size} "
        "tables, got an array []",
        "",
    ),
    (
        "file entry not a table",
        mutate("files = [{", 'files = ["six.whl", {'),
        "[[support]] #1: files #1: expected a table {filename, sha256, size}, "
        "got a string 'six.whl'",
        "",
    ),
    (
        "wheels not an array of tables",
        'description = "x"\nwheels = "google==1.9.3"\n',
        "top level: key 'wheels': expected an array of tables ([[wheels]]), "
        "got a string 'google==1.9.3'",
        "",
    ),
    (
        "no wheels",
        'description = "x"\n',
        "top level: key 'wheels': missing: a case needs at least one [[wheels]] table",
        "",
    ),
    (
        "same file pinned with two hashes",
        mutate(f'sha256 = "{SHA_C.replace("c", "d")}"', f'sha256 = "{SHA_B}"')
        .replace("six", "protobuf")
        .replace('version = "1.17.0"', 'version = "6.33.5"')
        .replace("protobuf-1.17.0-py2.py3", "protobuf-6.33.5-py3"),
        "[[wheels]] #2: files #2: pins protobuf-6.33.5-py3-none-any.whl as sha256 "
        f"{SHA_C} size 4, but [[support]] #1: files #1 pins it as sha256 {SHA_B} size 5",
        "",
    ),
    (
        "an expectation's key of the wrong type",
        mutate('owner = "google"', "owner = 3"),
        "[[expect.module]] #1: key 'owner': expected a non-empty string, got an integer 3",
        "",
    ),
    (
        "TOML syntax error",
        mutate('version = "1.9.3"', 'version = "1.9.3'),
        "TOML syntax error: ",
        "line 18",
    ),
]


@pytest.mark.parametrize(
    ("text", "where_and_problem", "more"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_each_error_names_the_file_the_table_the_key_and_the_problem(
    tmp_path: Path, text: str, where_and_problem: str, more: str
) -> None:
    directory = write_case(tmp_path, "broken", text)
    with pytest.raises(CaseFileError) as caught:
        load_case(directory)
    message = str(caught.value)
    assert message.startswith(f"{directory / 'case.toml'}: {where_and_problem}"), message
    assert more in message, message
    if not where_and_problem.startswith("TOML"):
        assert ONE_FORMAT.fullmatch(message), message


SECOND_MODULE = """
[[expect.module]]
name = "protobuf"
owner = 3
explanation = "x"
"""


def test_the_one_format_counts_tables_of_an_array_from_one(tmp_path: Path) -> None:
    text = VALID.replace("[[support]]", SECOND_MODULE.lstrip() + "\n[[support]]")
    with pytest.raises(CaseFileError) as caught:
        load_case(write_case(tmp_path, "x", text))
    assert str(caught.value) == (
        f"{tmp_path / 'x' / 'case.toml'}: [[expect.module]] #2: key 'owner': "
        "expected a non-empty string, got an integer 3"
    )


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
        + pin_fragment_toml(support, "support")
        + "\n"
        + pin_fragment_toml(pins)
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


def test_case_is_frozen_and_hashable(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, "c", VALID))
    assert hash(case) == hash(load_case(tmp_path / "c"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.detects = ()  # type: ignore[misc]


def test_a_case_made_by_hand_expects_nothing() -> None:
    blank = Case(name="v", path=Path("v"), description="venv check")
    assert blank.pins == () and blank.for_engine("merge").expect == blank.expect
    assert blank.accepted_refusal("uv-symlink") is None and blank.supports((3, 8, 0))
