"""The seed bug, as issue 4 states it: under whole-tree, google then protobuf, A1 names both sides.

And under pth nothing is concrete, so A1 has nothing to disagree with, while the report lists
every module static tools cannot see.
"""

from __future__ import annotations

import pytest

from harness.cases import find_case
from harness.run import runner
from harness.supply.interpreters import resolve

pytestmark = pytest.mark.e2e


def run(engine: str):
    unit = runner.Unit(find_case("native-overlay-google-protobuf"), resolve("default"), (engine,))
    (result,) = runner.run_unit(unit)
    return result


def test_whole_tree_a1_names_protobuf_concrete_and_google_runtime():
    result = run("whole-tree")
    assert result.status == "detected"  # whole-tree is a variant this case detects
    (a1,) = [f for f in result.findings if f.rule == "A1"]
    assert a1.subject == "google"
    assert "protobuf-6.33.5" in a1.concrete and "namespace" in a1.concrete
    assert "google/__init__.py from google-1.9.3" in a1.runtime
    assert sorted(w.split("-")[0] for w in a1.wheels) == ["google", "protobuf"]


def test_pth_has_no_a1_and_lists_what_static_tools_cannot_see():
    result = run("pth")
    assert [f for f in result.findings if f.rule == "A1"] == []
    assert {"google", "bs4", "soupsieve"} <= set(result.blind_spots)
