"""`harness plan` end to end on real (synthetic, in-memory built) wheel files, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.supply.wheelbuilder import write_wheel


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("HARNESS_WHEELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_TREES", str(tmp_path / "trees"))
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    src = tmp_path / "src"
    google = write_wheel(
        src, "google", "1.9.3", {"google/__init__.py": "", "google/modules/search.py": ""}
    )
    protobuf = write_wheel(
        src,
        "protobuf",
        "6.33.5",
        {
            "google/_upb/_message.abi3.so": b"\x7fELF",
            "google/protobuf/__init__.py": "",
        },
    )
    pyjwt = write_wheel(src, "PyJWT", "2.10.1", {"jwt/__init__.py": "", "jwt/api_jwt.py": ""})
    jwt = write_wheel(src, "jwt", "1.4.0", {"jwt/__init__.py": "", "jwt/jwa.py": ""})
    return {
        "google": str(google),
        "protobuf": str(protobuf),
        "pyjwt": str(pyjwt),
        "jwt": str(jwt),
    }


def test_human_output_names_each_rule(wheels: dict[str, str], capsys) -> None:
    # why: google is regular, protobuf's `google` namespace holds native code → native branch.
    assert main(["plan", wheels["google"], wheels["protobuf"]]) == 0
    out, err = capsys.readouterr()
    assert "projections (" in out and "fallbacks (" in out and "metadata (" in out
    google_line = next(line for line in out.splitlines() if line.strip().startswith("google "))
    assert "native-last-regular  project -> google-1.9.3-py3-none-any.whl" in google_line
    assert "(google-1.9.3-py3-none-any.whl, protobuf-6.33.5-py3-none-any.whl)" in google_line
    assert "collisions (1):" in out
    assert "warning: Package collision: top-level `google`" in err


def test_json_is_byte_identical_across_runs(wheels: dict[str, str], capsys) -> None:
    args = ["plan", wheels["pyjwt"], wheels["jwt"], "--json", "--policy", "ignore"]
    assert main(args) == 0
    first, err = capsys.readouterr()
    assert err == ""  # ignore: no policy messages
    assert main(args) == 0
    second, _ = capsys.readouterr()
    assert first == second
    data = json.loads(first)
    # why: two regular jwt/ without native code → merged in argument order.
    assert data["merges"] == [
        {
            "root": "jwt",
            "contributors": ["PyJWT-2.10.1-py3-none-any.whl", "jwt-1.4.0-py3-none-any.whl"],
        }
    ]


def test_engine_option_switches_variant(wheels: dict[str, str], capsys) -> None:
    # why: whole-tree projects the last claimant (protobuf's tree) as `google`.
    assert (
        main(["plan", wheels["google"], wheels["protobuf"], "--engine", "whole-tree", "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert ["google", "protobuf-6.33.5-py3-none-any.whl"] in data["projections"]


def test_error_policy_exits_2_after_printing_the_plan(wheels: dict[str, str], capsys) -> None:
    assert main(["plan", wheels["pyjwt"], wheels["jwt"], "--policy", "error"]) == 2
    out, err = capsys.readouterr()
    assert "mixed-merge" in out
    assert "top-level `jwt`" in err and "--policy warning" in err


def test_plan_error_exits_2(tmp_path: Path, wheels: dict[str, str], capsys) -> None:
    # why: three copies of one distribution, two of them losing `six.py` → fatal metadata rule.
    copies = [
        write_wheel(
            tmp_path,
            "six",
            "1.17.0",
            {"six.py": f"# copy {i}\n"},
            filename=f"six-1.17.0-{i}-py3-none-any.whl",  # a build tag keeps the labels apart
        )
        for i in range(3)
    ]
    status = main(["plan", *map(str, copies)])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert "visible metadata copies" in err
