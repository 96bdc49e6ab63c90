"""Plain, frozen data passed between the stages (see docs/architecture in shared/).

Every stage takes and returns these values, so each can be tested alone and serialised to
stable JSON (`to_json`): sorted keys, tuples as lists, no timestamps.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- wheels


@dataclass(frozen=True, order=True)
class ConsoleScript:
    """One `[console_scripts]` entry: `name = module:attr` (attr may be dotted)."""

    name: str
    module: str
    attr: str


@dataclass(frozen=True)
class WheelFacts:
    """Layout facts of one wheel, derived from its RECORD alone (engine-contract.md §1.3).

    `label` is the wheel's identity in a plan: unique within one input sequence, stable across
    runs (the wheel file name, or a case-given alias). Every path is POSIX, relative to the
    wheel's site-packages (or to the prefix for `data_files`).
    """

    label: str
    name: str  # normalized distribution name (PEP 503), from the dist-info read in the archive
    version: str
    dist_info: str  # e.g. "protobuf-6.33.5.dist-info", as found in the archive
    site_paths: tuple[str, ...]  # every site-packages path RECORD routes (sorted)
    top_levels: tuple[str, ...]  # first segments, dist-info included; empty = layout unknown
    regular_top_levels: tuple[str, ...]
    namespace_top_levels: tuple[str, ...]
    top_level_dirs: tuple[str, ...]
    namespace_entries: tuple[str, ...]
    namespace_dirs: tuple[str, ...]
    regular_roots: tuple[str, ...]
    native_roots: tuple[str, ...]
    console_scripts: tuple[ConsoleScript, ...] = ()
    data_files: tuple[str, ...] = ()
    root_pth_files: tuple[str, ...] = ()
    sha256: str = ""
    filename: str = ""

    @property
    def layout_known(self) -> bool:
        return bool(self.top_levels)

    @property
    def metadata_top_levels(self) -> tuple[str, ...]:
        return tuple(t for t in self.top_levels if t.endswith((".dist-info", ".egg-info")))


@dataclass(frozen=True)
class WheelFile:
    """One pinned file of a pin: the exact bytes a case expects."""

    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Pin:
    """A pinned distribution: `name==version` and every wheel file a target may select.

    `label` names the wheel in plans (default: the selected file name); `filename` forces one
    exact file whatever the interpreter's tags (two builds of one version in one venv);
    `platform` selects, for each interpreter, its best file built for that platform tag
    (`musllinux_1_1_x86_64` on a glibc host: the same two builds on every interpreter).
    """

    name: str
    version: str
    files: tuple[WheelFile, ...]
    label: str | None = None
    filename: str | None = None
    synthetic: bytes | None = None  # a case-built wheel's bytes (`[wheels.synthetic]`)
    platform: str | None = None


@dataclass(frozen=True)
class InstallTree:
    """A wheel unpacked once, read-only, keyed by its sha256 (engine-contract.md §1.5)."""

    root: Path

    @property
    def site_packages(self) -> Path:
        return self.root / "site-packages"

    @property
    def scripts(self) -> Path:
        return self.root / "scripts"

    @property
    def headers(self) -> Path:
        return self.root / "headers"

    @property
    def data(self) -> Path:
        return self.root / "data"


@dataclass(frozen=True)
class Interpreter:
    """A target CPython, as it reports itself (asked in a subprocess)."""

    executable: str  # realpath of the interpreter binary
    version: tuple[int, int, int]
    implementation: str  # "cpython"
    tags: tuple[str, ...]  # supported wheel tags, most preferred first ("cp311-cp311-manylinux...")

    @property
    def short_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@dataclass(frozen=True)
class PreparedWheel:
    """A wheel ready for an engine: verified file, install tree and facts."""

    label: str
    path: Path  # the verified wheel file
    tree: InstallTree
    facts: WheelFacts


# --------------------------------------------------------------------------- plans

ENGINES = ("merge", "whole-tree", "pth", "flat")
# `fault:NAME`: the merge engine with one known bug planted (harness.engine.faults).
FAULT_PREFIX = "fault:"


def is_fault(engine: str) -> bool:
    """A fault variant of the merge engine (`fault:NAME`), run in process like the others."""
    return engine.startswith(FAULT_PREFIX)


POLICIES = ("error", "warning", "ignore")

# `<venv>/.harness/`: the plan and manifest a later `harness check VENV` reads (`harness.supply.venvs`).
STATE_DIR = ".harness"

# The prefix roots the venv owns (engine-contract.md §2.6): what virtualenv writes there (its
# empty `include/` aside, which a data file may replace) and the harness state. The planner
# refuses a data file at or below one of them (`data-reserved`); the materializer only asserts
# it never gets one.
RESERVED_PREFIX_ROOTS = ("bin", "lib", "pyvenv.cfg", "CACHEDIR.TAG", STATE_DIR)


def venv_owned_script(name: str) -> bool:
    """A `bin/` name virtualenv writes for a CPython venv: `python`, `python3`, `python3.N`.

    The planner refuses a console script of that name (`console-script-reserved`), so no wrapper
    ever replaces the venv's own interpreter links."""
    if name in ("python", "python3"):
        return True
    return name.startswith("python3.") and name[len("python3.") :].isdigit()


COLLISION_KINDS = (
    "top-level",
    "namespace entry",
    "console script",
    "data file",
    "distribution metadata entry",
    "distribution",
)


@dataclass(frozen=True)
class Collision:
    """A recorded collision: `kind` `name` is provided by both `first` and `second` (labels)."""

    kind: str
    name: str
    first: str
    second: str
    message: str = ""

    def describe(self) -> str:
        if self.message:
            return self.message
        return f"{self.kind} `{self.name}` is provided by both {self.first} and {self.second}"


class Outcome(str, Enum):
    """What a decision did with its path; serialised as the plain string (`"project"`).

    A `str`, so plans compare and hash as before and JSON holds the value; `str()` and format
    give the value on every Python (3.12 changed them for mixed-in enums)."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> Outcome:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    __str__ = str.__str__
    __format__ = str.__format__

    PROJECT = ("project", "linked from the winner's install tree (site-packages or the prefix)")
    MERGE = ("merge", "a real directory overlaid from every contributor in wheel order")
    UNION = ("union", "a PEP 420 namespace shared by several wheels, projected entry by entry")
    FALLBACK = ("fallback", "reached through the engine `.pth` (the winner's line), not linked")
    REFUSE = ("refuse", "not written at all: the venv owns the path, or another output covers it")
    SUPERSEDED = ("superseded", "an earlier version or copy of a distribution, dropped whole")
    INSTALL = ("install", "the flat oracle installs the wheel, in order (the `flat` plan)")


@dataclass(frozen=True)
class Decision:
    """Why one path ended up where it did: the rule that decided and who claimed it."""

    path: str  # a top-level, namespace entry, console script name, data path or metadata entry
    rule: str  # a rule id of `harness.engine.rules.Rule` (a `str`), e.g. "single-claimant"
    claimants: tuple[str, ...]  # labels, in wheel order
    outcome: Outcome
    winner: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class MergeGroup:
    """A real directory in site-packages overlaid from `contributors` in order (later wins)."""

    root: str
    contributors: tuple[str, ...]


@dataclass(frozen=True)
class Fallback:
    """A wheel reached through the engine `.pth`: a plain path line, or `addsitedir` when the
    wheel's layout is unknown (its root `.pth` files must then run)."""

    label: str
    addsitedir: bool = False


@dataclass(frozen=True)
class Plan:
    """What an engine will write, and why. The planner returns it; the materializer obeys it.

    `projections` maps a site-packages relative path to the label whose install tree it links
    to; `data_projections` does the same under the venv prefix.
    """

    engine: str
    wheels: tuple[str, ...]  # labels in (deduplicated) wheel order
    projections: tuple[tuple[str, str], ...]  # (path, label), sorted by path
    merges: tuple[MergeGroup, ...]
    fallbacks: tuple[Fallback, ...]  # wheel order
    metadata_owners: tuple[tuple[str, str], ...]  # (distribution name, label visible), sorted
    console_scripts: tuple[tuple[str, str, str, str], ...]  # (name, label, module, attr), sorted
    data_projections: tuple[tuple[str, str], ...]  # (prefix path, label), sorted
    collisions: tuple[Collision, ...]  # recording order
    decisions: tuple[Decision, ...]
    fully_covered: tuple[str, ...] = ()  # labels, wheel order
    superseded: tuple[str, ...] = ()  # labels dropped as an earlier version of a distribution

    def projection_map(self) -> dict[str, str]:
        return dict(self.projections)

    def to_json(self) -> str:
        return to_json(self)


# --------------------------------------------------------------------------- serialisation


_SCALARS = frozenset({str, int, float, bool, type(None)})


def to_plain(value: Any) -> Any:
    """Dataclasses, tuples and sets to JSON-ready dicts and lists (deterministic)."""
    if type(value) in _SCALARS:  # most values (a venv manifest holds ~1 000 tag strings)
        return value
    if isinstance(value, Enum):  # an Outcome or a rule id: its plain string
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(to_plain(v) for v in value)
    return value


def to_json(value: Any) -> str:
    """Stable JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(to_plain(value), indent=2, sort_keys=True) + "\n"


__all__ = [
    "COLLISION_KINDS",
    "ENGINES",
    "FAULT_PREFIX",
    "POLICIES",
    "RESERVED_PREFIX_ROOTS",
    "STATE_DIR",
    "Collision",
    "ConsoleScript",
    "Decision",
    "Fallback",
    "InstallTree",
    "Interpreter",
    "MergeGroup",
    "Outcome",
    "Pin",
    "Plan",
    "PreparedWheel",
    "WheelFacts",
    "WheelFile",
    "is_fault",
    "to_json",
    "to_plain",
    "venv_owned_script",
]


def plan_from_plain(data: dict[str, Any]) -> Plan:
    """The inverse of `to_plain(plan)`: read a `plan.json` back (for `harness check VENV`)."""
    pairs = lambda key: tuple(tuple(x) for x in data.get(key, ()))  # noqa: E731
    return Plan(
        engine=data["engine"],
        wheels=tuple(data["wheels"]),
        projections=pairs("projections"),
        merges=tuple(MergeGroup(m["root"], tuple(m["contributors"])) for m in data["merges"]),
        fallbacks=tuple(Fallback(f["label"], f["addsitedir"]) for f in data["fallbacks"]),
        metadata_owners=pairs("metadata_owners"),
        console_scripts=pairs("console_scripts"),
        data_projections=pairs("data_projections"),
        collisions=tuple(Collision(**c) for c in data["collisions"]),
        decisions=tuple(
            Decision(**{**d, "claimants": tuple(d["claimants"]), "outcome": Outcome(d["outcome"])})
            for d in data["decisions"]
        ),
        fully_covered=tuple(data.get("fully_covered", ())),
        superseded=tuple(data.get("superseded", ())),
    )
