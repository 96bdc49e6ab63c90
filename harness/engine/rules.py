"""The planner's vocabulary: every rule id a decision may name, in one table.

Each `Rule` is its id (a `str`: plans compare, hash and serialise as the plain id), the group
`harness plan` prints it under, the engine-contract.md section that states it, the outcomes it
may give (`harness.model.Outcome`) and one line saying what it means. The planner names its
rules through this enum, the invariant checker rejects any other id, and the table in
engine-contract.md §3.11 is rendered from it (`rules_markdown`); a unit test keeps the two
equal. Rule ids are stable: reports and cases quote them.
"""

from __future__ import annotations

from enum import Enum

from harness.model import Outcome

# The decision groups, in the order `harness plan` prints them.
DECISION_GROUPS = (
    "projections",
    "merges",
    "fallbacks",
    "metadata",
    "distributions",
    "console scripts",
    "data",
)

_P, _M, _U, _F = Outcome.PROJECT, Outcome.MERGE, Outcome.UNION, Outcome.FALLBACK
_R, _S, _I = Outcome.REFUSE, Outcome.SUPERSEDED, Outcome.INSTALL


class Rule(str, Enum):
    """One rule id with its group, contract section, possible outcomes and meaning."""

    group: str
    section: str  # a heading number of engine-contract.md
    outcomes: tuple[Outcome, ...]
    meaning: str

    def __new__(
        cls, rule_id: str, group: str, section: str, outcomes: tuple[Outcome, ...], meaning: str
    ) -> Rule:
        member = str.__new__(cls, rule_id)
        member._value_ = rule_id
        member.group = group
        member.section = section
        member.outcomes = outcomes
        member.meaning = meaning
        return member

    __str__ = str.__str__
    __format__ = str.__format__

    # (id, group, section, outcomes, meaning), in the order of the contract's table
    SINGLE_CLAIMANT = (
        "single-claimant",
        "projections",
        "3.1",
        (_P,),
        "the only claimant of a top-level projects it whole",
    )
    NAMESPACE_UNION = (
        "namespace-union",
        "projections",
        "3.2",
        (_U,),
        "a top-level every claimant ships as a namespace: its entries are projected one by one",
    )
    NAMESPACE_ENTRY = (
        "namespace-entry",
        "projections",
        "3.3",
        (_P,),
        "a namespace entry one wheel ships is projected to it",
    )
    NAMESPACE_TAKEOVER = (
        "namespace-takeover",
        "projections",
        "3.3",
        (_P,),
        "a namespace entry several wheels ship goes to the last; earlier owners on fallback",
    )
    NAMESPACE_PREFIX = (
        "namespace-prefix",
        "projections",
        "3.3",
        (_P, _F),
        "an entry below another owned entry is dropped; a different deeper owner on fallback",
    )
    NAMESPACE_COLLAPSE = (
        "namespace-collapse",
        "projections",
        "3.4",
        (_P,),
        "entries collapse to the shallowest namespace directory a single wheel owns",
    )
    NATIVE_SPAN_LAST_REGULAR = (
        "native-span-last-regular",
        "projections",
        "3.2.2",
        (_P, _F),
        "a conflicted root holding native code is projected whole to its last regular claimant",
    )
    NATIVE_LAST_REGULAR = (
        "native-last-regular",
        "projections",
        "3.5",
        (_P,),
        "a directory collision with native code: the last non-namespace claimant wins whole",
    )
    FILE_LAST_WINS = (
        "file-last-wins",
        "projections",
        "3.6",
        (_P,),
        "a collision involving a file: the last claimant wins whole, the others on fallback",
    )
    WHOLE_TREE_LAST_CLAIMANT = (
        "whole-tree-last-claimant",
        "projections",
        "7.2",
        (_P,),
        "`whole-tree`: a directory collision projects its last claimant whole, nothing merged",
    )
    CONFLICTED_ROOT_MERGE = (
        "conflicted-root-merge",
        "merges",
        "3.7",
        (_M,),
        "a regular package spanning namespace wheels is merged from them in wheel order",
    )
    MIXED_MERGE = (
        "mixed-merge",
        "merges",
        "3.5",
        (_M,),
        "a directory collision without native code is merged from every claimant in wheel order",
    )
    FALLBACK_PLAIN = (
        "fallback-plain",
        "fallbacks",
        "3.10",
        (_F,),
        "a known-layout wheel not fully covered gets a plain path line",
    )
    FALLBACK_ADDSITEDIR = (
        "fallback-addsitedir",
        "fallbacks",
        "3.10",
        (_F,),
        "a wheel of unknown layout gets an `addsitedir` line, so its root `.pth` files run",
    )
    PTH_FALLBACK = (
        "pth-fallback",
        "fallbacks",
        "7.3",
        (_F,),
        "`pth`: every wheel is one fallback line, in wheel order",
    )
    FLAT_INSTALL = (
        "flat-install",
        "fallbacks",
        "7.4",
        (_I, _S),
        "`flat`: each wheel installed in order; an earlier copy of a distribution is replaced",
    )
    METADATA_PROJECT = (
        "metadata-project",
        "metadata",
        "4.1",
        (_P,),
        "no copy of a distribution left on fallback: the last claimant's dist-info is projected",
    )
    METADATA_FALLBACK_OWNER = (
        "metadata-fallback-owner",
        "metadata",
        "4.1",
        (_F,),
        "one copy left on fallback: it owns discovery and nothing is projected",
    )
    METADATA_FIRST_ON_PATH = (
        "metadata-first-on-path",
        "metadata",
        "7.3",
        (_F,),
        "`pth`: the first copy on `sys.path` is the one `importlib.metadata` returns",
    )
    DISTRIBUTION_SUPERSEDED = (
        "distribution-superseded",
        "distributions",
        "4.3",
        (_S,),
        "an earlier version of a distribution is dropped whole: no files, metadata or scripts",
    )
    CONSOLE_SCRIPT_LAST_WINS = (
        "console-script-last-wins",
        "console scripts",
        "3.8",
        (_P,),
        "a console script goes to its last claimant's entry point",
    )
    CONSOLE_SCRIPT_RESERVED = (
        "console-script-reserved",
        "console scripts",
        "3.8",
        (_R,),
        "a console script named like the venv's own `bin/python*` is not written",
    )
    DATA_LAST_WINS = (
        "data-last-wins",
        "data",
        "3.9",
        (_P,),
        "a data file goes to its last claimant",
    )
    DATA_COLLAPSE = (
        "data-collapse",
        "data",
        "3.9",
        (_P,),
        "data files collapse to the shallowest directory whose kept files one wheel owns",
    )
    DATA_RESERVED = (
        "data-reserved",
        "data",
        "3.9",
        (_R,),
        "a data file under a prefix root the venv owns is not projected",
    )
    DATA_NESTED = (
        "data-nested",
        "data",
        "3.9",
        (_R,),
        "a data file below another kept data file is not projected",
    )


# rule id -> group: the lookup `harness plan` and the decision sort use (keys are plain ids).
RULE_GROUPS: dict[str, str] = {rule.value: rule.group for rule in Rule}

RULES_BEGIN = "<!-- decision vocabulary: generated from harness.engine.rules; do not edit -->"
RULES_END = "<!-- end of decision vocabulary -->"


def rules_markdown() -> str:
    """The outcome and rule tables of engine-contract.md §3.11, between their markers."""
    lines = [RULES_BEGIN, "", "| outcome | meaning |", "|---|---|"]
    lines += [f"| `{o.value}` | {o.meaning} |" for o in Outcome]
    lines += ["", "| rule | group | outcomes | section | meaning |", "|---|---|---|---|---|"]
    for rule in Rule:
        outcomes = ", ".join(f"`{o.value}`" for o in rule.outcomes)
        lines.append(
            f"| `{rule.value}` | {rule.group} | {outcomes} | §{rule.section} | {rule.meaning} |"
        )
    lines += ["", RULES_END]
    return "\n".join(lines)


def with_rules_block(document: str) -> str:
    """`document` with its generated block replaced by `rules_markdown()` (unchanged without
    markers). Pure: the unit test compares, a maintainer writes the result back."""
    if RULES_BEGIN not in document or RULES_END not in document:
        return document
    head, rest = document.split(RULES_BEGIN, 1)
    return head + rules_markdown() + rest.split(RULES_END, 1)[1]


__all__ = [
    "DECISION_GROUPS",
    "RULES_BEGIN",
    "RULES_END",
    "RULE_GROUPS",
    "Rule",
    "rules_markdown",
    "with_rules_block",
]
