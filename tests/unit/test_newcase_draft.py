"""`harness new-case` writes its draft in a case file's reading order, and the draft parses."""

from __future__ import annotations

import sys

from harness.cases import order as caseorder
from harness.cases.documents import toml_document
from harness.cases.parse import parse_case
from harness.model import Pin, WheelFile
from harness.run.newcase import DRAFT, Observed, render_draft
from harness.supply.interpreters import resolve

JWT = Pin("jwt", "1.4.0", (WheelFile("jwt-1.4.0-py3-none-any.whl", "a" * 64, 10),))
PYJWT = Pin("PyJWT", "2.10.1", (WheelFile("PyJWT-2.10.1-py3-none-any.whl", "b" * 64, 20),))
SIX = Pin("six", "1.17.0", (WheelFile("six-1.17.0-py2.py3-none-any.whl", "c" * 64, 30),))

SEEN = Observed(
    premises=(("jwt", "regular_top_levels", "jwt"), ("pyjwt", "regular_top_levels", "jwt")),
    whole_tree_differs=True,
    collisions=(("top-level", "jwt"),),
    fallbacks=("jwt-1.4.0-py3-none-any.whl",),
    modules=(("jwt", "PyJWT-2.10.1-py3-none-any.whl"), ("gone", None)),
    metadata=(("jwt", "1.4.0"), ("pyjwt", "2.10.1")),
    flat_differences=("jwt.help",),
)


def draft() -> str:
    return render_draft("regular-merge-x", [JWT, PYJWT], [SIX], [resolve(sys.executable)], SEEN)


def test_the_draft_reads_top_down_with_pins_last(tmp_path):
    text = draft()
    assert caseorder.problems(text) == []
    assert text.index("[[premise]]") < text.index("[[expect.collision]]")
    assert text.index("[[expect.flat_difference]]") < text.index("[[support]]")
    assert text.index("[[support]]") < text.index("[[wheels]]")
    assert caseorder.reordered(text) == text  # nothing for the tool to move


def test_the_draft_is_a_valid_unreviewed_case_of_what_was_seen(tmp_path):
    path = tmp_path / "regular-merge-x" / "case.toml"
    case = parse_case("regular-merge-x", path, toml_document(draft(), path))
    assert not case.reviewed and case.detects == ("whole-tree",)
    assert case.pins == (SIX, JWT, PYJWT)
    assert [(m.name, m.owner, m.absent) for m in case.expect.modules] == [
        ("jwt", "PyJWT-2.10.1-py3-none-any.whl", False),
        ("gone", None, True),
    ]
    assert [(p.wheel, p.contains) for p in case.premises] == [("jwt", "jwt"), ("pyjwt", "jwt")]
    assert [c.name for c in case.expect.collisions] == ["jwt"]
    assert [f.wheel for f in case.expect.fallbacks] == ["jwt-1.4.0-py3-none-any.whl"]
    assert [d.module for d in case.expect.flat_differences] == ["jwt.help"]
    every = [*case.premises, *case.expect.modules, *case.expect.metadata]
    assert all(
        getattr(e, "why", None) == DRAFT or getattr(e, "explanation", None) == DRAFT for e in every
    )
