"""Case files read top-down: the order check, the block rewrite that keeps every line, and the
corpus held to it (so a new case stays readable)."""

from __future__ import annotations

import pytest

from harness.cases import CASE_FILE, default_cases_root
from harness.cases import order as caseorder

# Pins first, a divider comment, a multi-line string with a line starting with `[`, an array
# whose line starts with `[`, a synthetic wheel's nested table, [env] after the top keys.
OUT_OF_ORDER = '''\
description = """
a line of text that starts with a bracket:
[sitedir] is not a table header
"""
python = ">=3.9"
matrix = [
  [1, 2],
]

[env]
# a comment inside a table stays in it
A = "1"

# the wheels, second in wheel order
[[wheels]]
name = "b"
version = "1.0"
[wheels.synthetic]
files = { "b.py" = "B = '[x]'\\n" }

[[support]]
name = "s"
version = "1.0"

[[wheels]]
name = "a"
version = "1.0"

# ----------------------------------------------------------------------------- expectations

[[expect.module]]
name = "b"
owner = "b"
explanation = "first module"
[[premise]]
wheel = "b"
fact = "top_levels"
contains = "b.py"
why = "the premise"

[[expect.module]]
name = "a"
owner = "a"
explanation = "second module"

[expect.budget]
max_symlinks = 1
'''

IN_ORDER = '''\
description = """
a line of text that starts with a bracket:
[sitedir] is not a table header
"""
python = ">=3.9"
matrix = [
  [1, 2],
]

[env]
# a comment inside a table stays in it
A = "1"

[[premise]]
wheel = "b"
fact = "top_levels"
contains = "b.py"
why = "the premise"

# ----------------------------------------------------------------------------- expectations

[[expect.module]]
name = "b"
owner = "b"
explanation = "first module"

[[expect.module]]
name = "a"
owner = "a"
explanation = "second module"

[expect.budget]
max_symlinks = 1

[[support]]
name = "s"
version = "1.0"

# the wheels, second in wheel order
[[wheels]]
name = "b"
version = "1.0"
[wheels.synthetic]
files = { "b.py" = "B = '[x]'\\n" }

[[wheels]]
name = "a"
version = "1.0"
'''


def test_blocks_move_whole_with_their_comments_and_nested_tables():
    assert caseorder.reordered(OUT_OF_ORDER) == IN_ORDER
    # arrays of tables keep their relative order: the parsed document is the same
    caseorder._verify(OUT_OF_ORDER, IN_ORDER)


def test_a_file_in_reading_order_has_no_problems_and_is_left_as_it_is():
    assert caseorder.problems(IN_ORDER) == []
    assert caseorder.reordered(IN_ORDER) == IN_ORDER


def test_problems_name_the_misplaced_header_and_its_line():
    found = caseorder.problems(OUT_OF_ORDER)
    assert found[0] == (
        "line 21: [[support]] comes after [[wheels]] (line 15); [[support]] goes before [[wheels]]"
    )
    assert any(p.startswith("line 31: [[expect.module]] comes after [[wheels]]") for p in found)
    assert caseorder.problems('python = ">=3.9"\ndescription = "late"\n') == [
        "the first key is 'python', not 'description'"
    ]


def test_only_headers_outside_values_start_blocks():
    headers = [b.header for b in caseorder.blocks(OUT_OF_ORDER)]
    assert "[sitedir] is not a table header" not in headers and "[1, 2]," not in headers
    assert "[wheels.synthetic]" not in headers  # it belongs to the [[wheels]] block above it


def test_a_rewrite_that_would_change_the_document_or_its_lines_is_refused():
    with pytest.raises(caseorder.OrderError, match="parsed document"):
        caseorder._verify("a = [1, 2]\n", "a = [2, 1]\n")
    with pytest.raises(caseorder.OrderError, match="lose or add a line"):
        caseorder._verify("a = 1\n# why\n", "a = 1\n")
    with pytest.raises(caseorder.OrderError, match="not TOML"):
        caseorder.reordered('description = "x"\n[[wheels]\n')


def test_the_tool_reports_then_rewrites_and_never_writes_a_file_it_cannot_prove(tmp_path, capsys):
    good, broken = tmp_path / "good.toml", tmp_path / "broken.toml"
    good.write_text(OUT_OF_ORDER)
    broken.write_text('description = "x"\n[[wheels]]\nname = "a"\n[[premise]\n')
    assert caseorder.main([str(good)]) == 1
    assert "out of reading order" in capsys.readouterr().out
    assert good.read_text() == OUT_OF_ORDER  # reporting writes nothing
    assert caseorder.main(["--write", str(good), str(broken)]) == 1
    assert good.read_text() == IN_ORDER
    assert "not rewritten" in capsys.readouterr().err
    assert broken.read_text().endswith("[[premise]\n")
    assert caseorder.main([str(good)]) == 0


def test_every_corpus_case_reads_top_down():
    """description and top keys, [[premise]], [[expect.*]], then the pins: fix a new case with
    `python -m harness.cases.order --write cases/NAME/case.toml`."""
    files = sorted(default_cases_root().glob(f"*/{CASE_FILE}"))
    assert files
    out_of_order = {
        str(f.relative_to(default_cases_root())): caseorder.problems(f.read_text()) for f in files
    }
    assert {name: found for name, found in out_of_order.items() if found} == {}
