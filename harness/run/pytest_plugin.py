"""A pytest plugin: assemble a venv from pins or wheel files and probe it, in your own tests.

Enabled automatically once the harness is installed (entry point `pytest11`). Fixtures:

    def test_google_wins(harness_venv, harness_probe):
        asm = harness_venv("google==1.9.3", "protobuf==6.33.5", python="3.11")
        report = harness_probe(asm, resolve=["google", "google.protobuf"])
        assert report.module("google").status == "found"
        assert report.module("google.protobuf").status == "not-found"

`harness_venv(*specs, python="default", engine="merge", policy="warning")` returns the
`Assembly` (plan, venv, warnings); each venv lives under pytest's tmp_path and goes with it.
`harness_judge(venv, *specs, python="default", case=None)` judges any venv (an `Assembly` or a
path, built by anything) against the wheels it was built from, through the same pipeline as
`harness run` and `harness check` (`harness.run.pipeline.judge_venv`), and returns its findings:

    def test_my_engine(tmp_path, harness_judge):
        venv = my_engine.build(tmp_path / "v", ["google==1.9.3", "protobuf==6.33.5"])
        assert harness_judge(venv, "google==1.9.3", "protobuf==6.33.5") == []
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def harness_venv(tmp_path: Path) -> Callable[..., Any]:
    """Factory: assemble a venv from `NAME==VERSION` pins or local `.whl` paths, in order."""
    from harness.cases.words import prepare_args
    from harness.engine.assemble import assemble
    from harness.supply.interpreters import resolve

    counter = iter(range(1_000_000))

    def build(*specs: str, python: str = "default", engine: str = "merge", policy: str = "warning"):
        interpreter = resolve(python)
        prepared = prepare_args(list(specs), interpreter)
        return assemble(
            prepared, interpreter, tmp_path / f"venv-{next(counter)}", engine=engine, policy=policy
        )

    return build


@pytest.fixture
def harness_probe() -> Callable[..., Any]:
    """Run the probe inside an assembled venv: `harness_probe(asm, resolve=[...], imports=[...])`."""
    from harness.observe.runtime import run_probe

    def probe(assembly: Any, resolve: Sequence[str] = (), imports: Sequence[str] = (), env=None):
        return run_probe(
            Path(assembly.venv.python), resolve=list(resolve), imports=list(imports), env=env
        )

    return probe


@pytest.fixture
def harness_judge() -> Callable[..., Any]:
    """Judge a venv against its wheels: `harness_judge(venv, *specs, python=..., case=...)`."""
    from harness.cases import find_case
    from harness.cases.words import prepare_args
    from harness.run.pipeline import judge_venv
    from harness.supply import prepare
    from harness.supply.interpreters import resolve

    def judge(
        venv: Any, *specs: str, python: str = "default", case: str | None = None
    ) -> list[Any]:
        path = Path(venv.venv.path if hasattr(venv, "venv") else venv)
        interpreter = resolve(python)
        named = find_case(case) if case else None
        if specs or named is None:
            prepared = prepare_args(list(specs), interpreter)
        else:
            prepared = prepare([*named.support, *named.wheels], interpreter)
        engine = getattr(getattr(venv, "plan", None), "engine", "external")
        return judge_venv(path, prepared, interpreter, named, engine=engine)[0]

    return judge
