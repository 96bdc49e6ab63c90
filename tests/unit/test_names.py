"""`harness.names` answers exactly what packaging.utils answers, without importing packaging.tags.

Every wheel file name the corpus pins, and a set of odd and invalid ones, go through both; an
invalid name must raise packaging's own `InvalidWheelFilename` with packaging's message.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from harness import names
from harness.cases import discover_cases


def _packaging(filename: str):
    name, version, build, tags = parse_wheel_filename(filename)
    return name, version, build, frozenset(str(tag) for tag in tags)


def _corpus_filenames() -> list[str]:
    return sorted({f.filename for case in discover_cases() for pin in case.pins for f in pin.files})


ODD = [
    "foo-1.0-py3-none-any.whl",
    "Foo_Bar-1.0-py2.py3-none-any.whl",
    "foo.bar-1.0-py3-none-any.whl",
    "foo-1.0-1-py3-none-any.whl",
    "foo-1.0-12abc-py3-none-any.whl",
    "foo-1.0-abc-py3-none-any.whl",  # a build tag must start with a digit
    "foo-1.0+local.7-py3-none-any.whl",
    "foo-1!2.0rc1.post3.dev4-py3-none-any.whl",
    "foo-1.0-CP311-CP311-MANYLINUX_2_17_X86_64.whl",
    "foo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "foo-1.0-cp313-cp313t-macosx_11_0_arm64.whl",
    "foo-1.0-cp39.cp310-abi3.none-win_amd64.whl",
    "foo-1.0-py3..py4-none-any.whl",  # an empty tag component
    "foo-1.0-3py-none-any.whl",  # an interpreter that is no identifier
    "foo-1.0-py3-none.whl",  # too few parts
    "foo-1.0-1-2-py3-none-any.whl",  # too many parts
    "foo-notaversion!-py3-none-any.whl",
    "foo-1.0-py3-none-any.zip",
    "foo__bar-1.0-py3-none-any.whl",
    "_foo-1.0-py3-none-any.whl",
    "foo.-1.0-py3-none-any.whl",
    "föo-1.0-py3-none-any.whl",
    "-1.0-py3-none-any.whl",
    "foo-v1.0-py3-none-any.whl",
    "foo-1.0-py3-none-any.WHL",
]


@pytest.mark.parametrize("filename", [*_corpus_filenames(), *ODD])
def test_parse_wheel_filename_is_packagings(filename):
    try:
        expected = _packaging(filename)
    except InvalidWheelFilename as exc:
        with pytest.raises(InvalidWheelFilename) as raised:
            names.parse_wheel_filename(filename)
        assert str(raised.value) == str(exc)
        return
    assert names.parse_wheel_filename(filename) == expected
    assert names.wheel_tags(filename) == expected[3]


@pytest.mark.parametrize(
    "name", ["Django", "oslo.concurrency", "Foo__Bar", "a-_.b", "zope.interface", "A", "ß_x"]
)
def test_canonicalize_name_is_packagings(name):
    assert names.canonicalize_name(name) == canonicalize_name(name)


def test_invalid_wheel_filename_is_packagings_class():
    assert names.InvalidWheelFilename is InvalidWheelFilename


def test_reading_plain_names_imports_no_packaging_tags():
    code = (
        "import sys\n"
        "from harness import names\n"
        "names.parse_wheel_filename('protobuf-6.33.5-cp39-abi3-manylinux2014_x86_64.whl')\n"
        "names.canonicalize_name('Foo.Bar')\n"
        "print('packaging.tags' in sys.modules, 'packaging.utils' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=_root()
    )
    assert done.stdout.split() == ["False", "False"]


def _root() -> str:
    from harness.config import PROJECT_ROOT

    return str(PROJECT_ROOT)
