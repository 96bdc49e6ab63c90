"""One observe-and-judge pipeline, shared by the runner, `harness check` and `harness new-case`.

Every venv is judged the same way, whoever built it: the wheels' facts (RECORD) are gathered
once, the flat oracle is installed and observed once (`Reference`), then each venv is observed
(`harness.observe.venv.observe_venv`) and judged (`harness.judge.judge`) against that reference.
The reference is installed by the oracle itself (`harness.oracle.install_flat`, pypa/installer),
never through an engine, so no engine code stands between a venv and what it is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.cases.case import Case
from harness.judge import Finding, check_premises, judge, static_blind_spots, strict_layout
from harness.model import Interpreter, Plan, PreparedWheel
from harness.observe.observation import Observation
from harness.observe.venv import Facts, extension_suffixes, observe_venv, wheel_facts


@dataclass(frozen=True)
class Reference:
    """What every venv of one wheel set is judged against: the wheels' facts, the names to
    judge, and the flat oracle's observation."""

    facts: Facts
    names: frozenset[str]
    flat: Observation


def judged_names(facts: Facts, case: Case | None) -> set[str]:
    """Every module a wheel ships, plus those the case expects or imports."""
    names: set[str] = set().union(*facts.shipped.values())
    if case is not None:
        names |= {m.name for m in case.expect.modules} | set(case.imports)
    return names


def blank_case(name: str, path: Path) -> Case:
    """A case that expects nothing: how a venv is observed when no case describes it."""
    return Case(name=name, path=path, description="no case: facts only")


def reference(
    prepared: Sequence[PreparedWheel], interp: Interpreter, out: Path, case: Case | None
) -> Reference:
    """Install the flat oracle at `out` and observe it; the names to judge grow by what its
    concrete view shows."""
    from harness.oracle import install_flat

    facts = wheel_facts(prepared, extension_suffixes(interp))
    names = judged_names(facts, case)
    flat_venv = install_flat(prepared, interp, out).path
    flat = observe_venv(flat_venv, facts, names, case or blank_case(out.name, out))
    return Reference(facts, frozenset(names | set(flat.concrete)), flat)


def observe_and_judge(
    venv: Path,
    ref: Reference,
    case: Case | None,
    *,
    python: Path | None = None,
    explain: Plan | None = None,
    reports: Sequence[str] | None = None,
    strict_layout: bool = False,
) -> tuple[Observation, list[Finding]]:
    """Observe `venv` and judge it against `ref`. `case` is already narrowed to the engine
    (`Case.for_engine`), or None: then only the facts speak (no A5, no expectations)."""
    observed = observe_venv(
        venv, ref.facts, ref.names, case or blank_case(venv.name, venv), python=python
    )
    findings = judge(
        observed, ref.flat, ref.facts, case, ref.names, explain, reports, strict_layout
    )
    return observed, findings


def judge_venv(
    venv: Path,
    prepared: Sequence[PreparedWheel],
    interp: Interpreter,
    case: Case | None = None,
    *,
    engine: str = "external",
    python: Path | None = None,
    explain: Plan | None = None,
) -> tuple[list[Finding], list[str]]:
    """Judge one venv, built by anything, against the wheels it was built from: the case's
    premises (when a case is named), then A1-A8 and the case's expectations for `engine`.
    Returns the findings and the modules runtime finds that static tools cannot see."""
    import tempfile

    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="harness-check-") as tmp:
        ref = reference(prepared, interp, Path(tmp) / "flat", case)
    if case is not None:
        findings += check_premises(case, ref.facts.wheels)
    observed, judged = observe_and_judge(
        venv,
        ref,
        case.for_engine(engine) if case else None,
        python=python,
        explain=explain,
        strict_layout=strict_layout(engine),
    )
    return findings + judged, static_blind_spots(observed, sorted(ref.names))


__all__ = [
    "Reference",
    "blank_case",
    "judge_venv",
    "judged_names",
    "observe_and_judge",
    "reference",
]
