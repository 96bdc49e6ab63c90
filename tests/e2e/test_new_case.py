"""`harness new-case` as a newcomer uses it: draft, refused until reviewed, then it runs."""

from __future__ import annotations

import pytest

from harness.cli import main

pytestmark = pytest.mark.e2e


def test_draft_is_refused_until_reviewed_and_then_passes(tmp_path, capsys):
    cases = tmp_path / "cases"
    assert (
        main(
            [
                "new-case",
                "regular-union-pyjwt-jwt",
                "PyJWT==2.10.1",
                "jwt==1.4.0",
                "--cases-dir",
                str(cases),
            ]
        )
        == 0
    )
    text = (cases / "regular-union-pyjwt-jwt" / "case.toml").read_text()
    assert "reviewed = false" in text and "DRAFT" in text
    # both wheels ship a regular jwt/: the draft must record the collision and the union's owner
    assert 'kind = "top-level"' in text and 'name = "jwt"' in text
    capsys.readouterr()
    assert main(["run", "--cases-dir", str(cases), "-j", "1"]) == 2
    assert "unreviewed" in capsys.readouterr().err
    # the draft describes what was observed, so it must pass as it stands
    assert main(["run", "--cases-dir", str(cases), "-j", "1", "--allow-unreviewed"]) == 0
