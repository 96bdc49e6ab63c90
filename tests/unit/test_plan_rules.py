"""The decision vocabulary: one table of rule ids and outcomes, the docs rendered from it, and a
planner that uses nothing else and touches no file system.

`harness.engine.rules.Rule` is the one list of rule ids (with group, section, outcomes and
meaning) and `harness.model.Outcome` the one list of outcomes. engine-contract.md §3.11 holds a
block generated from them; these tests fail when the block, the headings it cites or the
planner's decisions over the synthetic shapes drift from the table.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

from test_docs_citations import headings
from test_invariants import BASE
from test_plan_conflict import _NESTED
from test_plan_resolver import GOOGLE, PROTOBUF
from test_plan_support import wheel

from harness.engine import plan as planner
from harness.engine.rules import (
    RULE_GROUPS,
    RULES_BEGIN,
    RULES_END,
    Rule,
    rules_markdown,
    with_rules_block,
)
from harness.model import Decision, Outcome, WheelFacts, plan_from_plain, to_plain

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "engine-contract.md"
ENGINE = ROOT / "harness" / "engine"


def test_the_contract_block_is_rendered_from_the_table() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    assert text.count(RULES_BEGIN) == 1 and text.count(RULES_END) == 1
    block = text[text.index(RULES_BEGIN) : text.index(RULES_END) + len(RULES_END)]
    assert block == rules_markdown(), (
        "docs/engine-contract.md's decision vocabulary differs from harness.engine.rules; "
        "rewrite it with `harness.engine.rules.with_rules_block(text)`, which gives:\n\n"
        + rules_markdown()
    )
    assert with_rules_block(text) == text


def test_every_rule_cites_a_contract_heading_and_says_what_it_does() -> None:
    known = headings(ROOT / "docs")["engine-contract.md"]
    for rule in Rule:
        assert rule.section in known, f"{rule.value}: engine-contract.md has no §{rule.section}"
        assert rule.group in set(planner.DECISION_GROUPS), rule.value
        assert rule.outcomes and set(rule.outcomes) <= set(Outcome), rule.value
        assert rule.meaning and "\n" not in rule.meaning and "|" not in rule.meaning, rule.value
    assert {rule.value: rule.group for rule in Rule} == RULE_GROUPS
    assert planner.RULE_GROUPS is RULE_GROUPS  # the name callers import from the planner


def test_rules_and_outcomes_are_plain_strings_in_json() -> None:
    # why: plan.json and reports keep their shape; a plan read back compares equal.
    result = planner.plan([GOOGLE, PROTOBUF])
    plain = json.loads(result.to_json())
    assert all(type(d["rule"]) is str and type(d["outcome"]) is str for d in plain["decisions"])
    assert type(to_plain(Outcome.PROJECT)) is str and to_plain(Rule.MIXED_MERGE) == "mixed-merge"
    assert f"{Outcome.MERGE} {Rule.MIXED_MERGE}" == "merge mixed-merge"
    again = plan_from_plain(plain)
    assert again == result and again.to_json() == result.to_json()
    assert all(isinstance(d.outcome, Outcome) for d in again.decisions)


def _shapes() -> list[tuple[list[WheelFacts], str]]:
    """Wheel sets covering every rule and outcome (engine-contract.md §3, §4, §7)."""
    nested_owner = dataclasses.replace(
        wheel("nested", ["ns/a/x.py", "ns/a/b/y.py"]),
        namespace_entries=("ns/a", "ns/a/b"),  # hand-built: one owner's entries nest
    )
    sets = [
        BASE,
        [
            wheel("a", ["a_mod.py"], scripts=["python3=a_mod:main"], data=["bin/x", "share/t"]),
            wheel("b", ["b_mod.py"], data=["share/t/nested.txt"]),
        ],
        [nested_owner, wheel("other", ["ns/c.py"])],
        [wheel("file", ["ns/thing"]), wheel("dir", ["ns/thing/nested.py"])],
        [wheel(label, _NESTED[label]) for label in ("graft", "regular")],
        [dataclasses.replace(wheel("unknown", ["u.py"]), top_levels=())],
    ]
    return [(s, engine) for s in sets for engine in ("merge", "whole-tree", "pth", "flat")]


def test_the_planner_emits_exactly_the_table() -> None:
    # why: every (rule, outcome) a decision names is in the table, and every table entry is
    # reached by some synthetic shape, so the table holds no rule the planner lost.
    emitted: set[tuple[str, str]] = set()
    for wheels, engine in _shapes():
        for d in planner.plan(wheels, engine).decisions:
            assert isinstance(d.rule, Rule) and isinstance(d.outcome, Outcome), d
            assert d.outcome in d.rule.outcomes, f"{d.rule} gave {d.outcome} for {d.path}"
            emitted.add((d.rule.value, d.outcome.value))
    table = {(rule.value, outcome.value) for rule in Rule for outcome in rule.outcomes}
    assert emitted <= table
    assert table - emitted == set(), f"no synthetic shape reaches {sorted(table - emitted)}"
    assert {o for _, o in emitted} == {o.value for o in Outcome}


def test_decisions_made_by_hand_still_compare_by_their_strings() -> None:
    # why: faults and older code may spell a rule as a plain string; it is the same decision.
    typed = Decision("x", Rule.SINGLE_CLAIMANT, ("a",), Outcome.PROJECT, "a")
    assert typed == Decision("x", "single-claimant", ("a",), "project", "a")
    assert hash(typed) == hash(Decision("x", "single-claimant", ("a",), "project", "a"))


# --------------------------------------------------------------------------- the planner's shape

PLANNER_FILES = ("plan.py", "plan_*.py", "rules.py", "policy.py")
FORBIDDEN_IMPORTS = {"os", "pathlib", "shutil", "io", "tempfile", "subprocess", "glob"}


def _planner_files() -> list[Path]:
    return sorted({p for pattern in PLANNER_FILES for p in ENGINE.glob(pattern)})


def test_the_planner_is_pure() -> None:
    # why: the planner is a function of the wheel facts (architecture: "the planner never
    # touches the file system"); no module of it imports a file-system module or calls open().
    for path in _planner_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name}:{node.lineno} calls open()"
                continue
            else:
                continue
            assert not names & FORBIDDEN_IMPORTS, f"{path.name}:{node.lineno} imports {names}"


def test_every_step_module_is_patched_by_fault_swaps() -> None:
    # why: a fault swaps a planner function in every module that binds it; a step module left
    # out of STEP_MODULES would keep calling the original and the fault would silently vanish.
    steps = {p.stem for p in ENGINE.glob("plan_*.py")}
    assert {m.__name__.rsplit(".", 1)[1] for m in planner.STEP_MODULES} == steps
