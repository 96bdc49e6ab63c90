"""`harness facts` on real wheels (issue 2 "done when"): the shapes the merge engine relies on.

Real files from the configured index through harness.supply (network on the first run, then
the wheel cache). These double as premise guards: if an upstream re-release changed protobuf's
or google's layout, the collision case built on them would silently stop testing anything.
"""

from __future__ import annotations

import json

import pytest

from harness.cli import main

pytestmark = pytest.mark.e2e


def _facts_json(capsys, *argv: str) -> list[dict]:
    status = main(["facts", *argv, "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def test_protobuf_6_33_5_is_a_google_namespace_with_native_roots(capsys):
    (facts,) = _facts_json(capsys, "protobuf==6.33.5", "--python", "3.11")
    assert facts["name"] == "protobuf" and facts["version"] == "6.33.5"
    assert facts["dist_info"] == "protobuf-6.33.5.dist-info"
    # google/ has no __init__.py in protobuf: an implicit namespace top-level...
    assert facts["namespace_top_levels"] == ["google"]
    assert facts["regular_top_levels"] == []
    # ...holding the regular package google.protobuf and the native google/_upb extension.
    assert facts["regular_roots"] == ["google/protobuf"]
    assert facts["namespace_entries"] == ["google/_upb/_message.abi3.so", "google/protobuf"]
    assert facts["native_roots"] == ["google", "google/_upb"]
    assert len(facts["sha256"]) == 64 and facts["filename"].endswith(".whl")


def test_google_1_9_3_is_a_regular_google_package(capsys):
    (facts,) = _facts_json(capsys, "google==1.9.3", "--python", "3.11")
    # google 1.9.3 ships google/__init__.py: a regular top-level colliding with protobuf's namespace.
    assert facts["regular_top_levels"] == ["google"]
    assert facts["namespace_top_levels"] == []
    assert "google/__init__.py" in facts["site_paths"]


def test_both_in_one_call_keep_argument_order_and_the_trees_are_read_only(capsys):
    facts = _facts_json(capsys, "google==1.9.3", "protobuf==6.33.5", "--python", "3.11")
    assert [f["name"] for f in facts] == ["google", "protobuf"]
    from harness.config import trees_dir

    for entry in facts:
        tree = trees_dir() / entry["sha256"]
        assert (tree / ".complete").is_file()
        init = (
            tree
            / "site-packages"
            / "google"
            / ("__init__.py" if entry["name"] == "google" else "protobuf/__init__.py")
        )
        assert init.is_file() and init.stat().st_mode & 0o222 == 0


def test_human_output_names_each_fact(capsys):
    assert main(["facts", "protobuf==6.33.5", "--python", "3.11"]) == 0
    out = capsys.readouterr().out
    assert "google                     namespace" in out
    assert "  native roots:\n    google\n    google/_upb\n" in out
    assert "  regular roots:\n    google/protobuf\n" in out
