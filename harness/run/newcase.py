"""Draft a new corpus case from pins: lock, fetch, run under merge and flat, write `case.toml`.

The draft records what was *observed* — premise facts, who owns each top-level at runtime,
recorded collisions, fallbacks, metadata, differences from flat — as expectations marked
`reviewed = false`, each explanation starting with `DRAFT:`. The runner refuses an unreviewed
case, so a person must replace every draft explanation with the reason from the import system
(and delete what the case should not pin down) before the case counts.

Pins come from `NAME==VERSION` words, or from a lock file users already have: `uv.lock`, or a
PEP 751 `pylock.toml` read with `packaging.pylock`. Support wheels a real import needs can be
resolved with pip's own resolver (`pip install --dry-run --ignore-installed --report`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from harness.errors import HarnessError
from harness.model import Interpreter, Pin, WheelFile

DRAFT = "DRAFT: observed, not yet explained; replace with the reason from the import system"


def _toml(value: str) -> str:
    return json.dumps(value)


# --------------------------------------------------------------------------- pins from lock files


def pins_from_lockfile(
    path: Path, interps: Sequence[Interpreter], only: Sequence[str] = ()
) -> list[Pin]:
    """Wheel pins from a `uv.lock` or a PEP 751 `pylock.toml` (wheels with sha256 only).

    Files not compatible with any of `interps` are dropped; packages without a usable wheel
    are an error naming them. `only` keeps just those distribution names (in lock order).
    """
    import tomllib

    from harness.supply import compatible

    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"{path}: cannot read lock file: {exc}") from exc
    if path.name == "uv.lock" or ("package" in doc and "lock-version" not in doc):
        entries = _uv_lock_entries(doc)
    else:
        entries = _pylock_entries(path, doc)
    wanted = {canonicalize_name(n) for n in only}
    pins, unusable = [], []
    for name, version, wheels in entries:
        if wanted and canonicalize_name(name) not in wanted:
            continue
        fitting = tuple(w for w in wheels if compatible(w.filename, interps))
        if not fitting:
            unusable.append(f"{name}=={version}")
            continue
        pins.append(Pin(name=name, version=version, files=fitting))
    if unusable:
        raise HarnessError(
            f"{path}: no wheel with sha256 and size fits the interpreters for: {', '.join(unusable)}"
        )
    if wanted and len(pins) != len(wanted):
        missing = wanted - {canonicalize_name(p.name) for p in pins}
        raise HarnessError(
            f"{path}: the lock file has no package named {', '.join(sorted(missing))}"
        )
    return pins


def _uv_lock_entries(doc: dict) -> list[tuple[str, str, list[WheelFile]]]:
    entries = []
    for package in doc.get("package", []):
        if "version" not in package or "wheels" not in package:
            continue  # the workspace root itself, or an sdist-only package
        wheels = []
        for wheel in package["wheels"]:
            digest = str(wheel.get("hash", ""))
            if not digest.startswith("sha256:") or "size" not in wheel:
                continue
            filename = str(wheel.get("url") or wheel.get("path") or "").rsplit("/", 1)[-1]
            wheels.append(WheelFile(filename, digest.removeprefix("sha256:"), int(wheel["size"])))
        entries.append((package["name"], package["version"], wheels))
    return entries


def _pylock_entries(path: Path, doc: dict) -> list[tuple[str, str, list[WheelFile]]]:
    from packaging.pylock import Pylock, PylockValidationError

    try:
        lock = Pylock.from_dict(doc)
    except PylockValidationError as exc:
        raise HarnessError(f"{path}: not a valid PEP 751 lock file: {exc}") from exc
    entries = []
    for package in lock.packages:
        wheels = []
        for wheel in package.wheels or ():
            digest = (wheel.hashes or {}).get("sha256")
            filename = wheel.name or (wheel.url or "").rsplit("/", 1)[-1]
            if digest and wheel.size is not None and filename:
                wheels.append(WheelFile(filename, digest, int(wheel.size)))
        entries.append((str(package.name), str(package.version), wheels))
    return entries


# --------------------------------------------------------------------------- support wheels


def resolve_support(requirements: Sequence[str], interp: Interpreter) -> list[str]:
    """`NAME==VERSION` of everything pip's resolver adds to `requirements` for `interp`.

    Runs `pip install --dry-run --ignore-installed --report` with the target's version and
    binary-only wheels, against the same configured index as the rest of the harness.
    """
    from harness.config import index_url

    version = f"{interp.version[0]}.{interp.version[1]}"
    with tempfile.TemporaryDirectory(prefix="harness-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
            "--only-binary", ":all:", "--python-version", version, "--index-url", index_url(),
            "--report", str(report), *requirements,
        ]  # fmt: skip
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PIP_CONSTRAINT": ""},
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
            raise HarnessError(
                f"pip could not resolve support wheels for {' '.join(requirements)}:\n{tail}"
            )
        data = json.loads(report.read_text())
    asked = {canonicalize_name(r.split("==")[0]) for r in requirements}
    found = sorted(
        f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in data.get("install", [])
        if canonicalize_name(item["metadata"]["name"]) not in asked
    )
    return found


# --------------------------------------------------------------------------- the draft


@dataclass(frozen=True)
class Observed:
    """What the pins did under merge, flat and whole-tree, reduced to the values a draft
    records (read while the venvs exist: ownership is read from their files)."""

    premises: tuple[tuple[str, str, str], ...]  # (wheel, fact, value) of the wheels under test
    whole_tree_differs: bool  # whole-tree failed A1 or differed from flat where merge did not
    collisions: tuple[tuple[str, str], ...]  # (kind, name) the merge plan recorded
    fallbacks: tuple[str, ...]  # labels of wheels under test merge left on a fallback
    modules: tuple[tuple[str, str | None], ...]  # (top-level, its runtime owner; None: absent)
    metadata: tuple[tuple[str, str], ...]  # (distribution, version) found exactly once
    flat_differences: tuple[str, ...]  # the shallowest names merge resolves unlike flat


def draft_case(
    name: str,
    pins: Sequence[Pin],
    support: Sequence[Pin],
    interps: Sequence[Interpreter],
) -> str:
    """Run the pins under merge and flat on the first interpreter; return a draft case.toml.

    The venvs live in a temporary directory only while they are observed: an observation is
    plain data (owners included), so nothing is read from them afterwards."""
    with tempfile.TemporaryDirectory(prefix="harness-new-case-") as tmp:
        seen = _observe(Path(tmp), name, pins, support, interps[0])
    return render_draft(name, pins, support, interps, seen)


def _observe(
    tmp: Path, name: str, pins: Sequence[Pin], support: Sequence[Pin], interp: Interpreter
) -> Observed:
    from harness import judge, supply
    from harness.engine.assemble import assemble
    from harness.run.pipeline import observe_and_judge, reference

    prepared = supply.prepare([*support, *pins], interp)
    under_test = prepared[len(support) :]
    ref = reference(prepared, interp, tmp / "flat", None)
    flat_obs, names = ref.flat, ref.names
    merge = assemble(prepared, interp, tmp / "merge", engine="merge", policy="ignore")
    obs, _ = observe_and_judge(merge.venv.path, ref, None)
    whole = assemble(prepared, interp, tmp / "whole-tree", engine="whole-tree", policy="ignore")
    whole_obs, _ = observe_and_judge(whole.venv.path, ref, None)
    differing = _flat_differences(obs, flat_obs, names)
    labels = {p.label for p in under_test}
    return Observed(
        premises=tuple(
            sorted(
                {
                    (p.facts.name, fact, value)
                    for p in under_test
                    for fact in ("regular_top_levels", "namespace_top_levels", "native_roots")
                    for value in getattr(p.facts, fact)
                }
            )
        ),
        whole_tree_differs=bool(
            judge.check_a1(whole_obs) or _flat_differences(whole_obs, flat_obs, names) - differing
        ),
        collisions=tuple((c.kind, c.name) for c in merge.plan.collisions),
        fallbacks=tuple(fb.label for fb in merge.plan.fallbacks if fb.label in labels),
        modules=tuple(_module_owners(obs, under_test)),
        metadata=tuple(
            (p.facts.name, copies[0].version)
            for p in under_test
            if len(copies := [d for d in obs.distributions if d.name == p.facts.name]) == 1
        ),
        flat_differences=tuple(sorted(_roots(differing))),
    )


def _module_owners(obs, under_test) -> list[tuple[str, str | None]]:
    """Each importable top-level of the wheels under test and the wheel runtime binds it to
    (None: runtime does not find it). A name whose owner cannot be told is left out."""
    found: list[tuple[str, str | None]] = []
    tops = {
        t.removesuffix(".py")
        for p in under_test
        for t in p.facts.top_levels
        if re.fullmatch(r"[A-Za-z_]\w*", t.removesuffix(".py"))
    }
    for module in sorted(tops):
        rt = obs.runtime.get(module)
        if rt is None or rt.status != "found":
            found.append((module, None))
            continue
        owners = [obs.owner_of(rt.origin)] if rt.origin else [obs.owner_of(x) for x in rt.locations]
        labels = sorted({label for o in owners if o for label in o.labels})
        if labels:
            found.append((module, labels[-1]))
    return found


def render_draft(
    name: str,
    pins: Sequence[Pin],
    support: Sequence[Pin],
    interps: Sequence[Interpreter],
    seen: Observed,
) -> str:
    """The draft's text, in a case file's reading order (harness.cases.order): description and
    top keys, premises, expectations, then the pins."""
    from harness.cases.pins import pin_fragment_toml

    blocks = [_preamble(name, pins, interps, seen.whole_tree_differs)]
    blocks += [
        _table("[[premise]]", wheel=wheel, fact=fact, contains=value, why=DRAFT)
        for wheel, fact, value in seen.premises
    ]
    blocks += [
        _table("[[expect.collision]]", kind=kind, name=n, explanation=DRAFT)
        for kind, n in seen.collisions
    ]
    blocks += [_table("[[expect.fallback]]", wheel=w, explanation=DRAFT) for w in seen.fallbacks]
    blocks += [
        _table("[[expect.module]]", name=m, absent=True, explanation=DRAFT)
        if owner is None
        else _table("[[expect.module]]", name=m, owner=owner, explanation=DRAFT)
        for m, owner in seen.modules
    ]
    blocks += [
        _table("[[expect.metadata]]", name=n, version=v, explanation=DRAFT)
        for n, v in seen.metadata
    ]
    blocks += [
        _table("[[expect.flat_difference]]", module=m, explanation=DRAFT)
        for m in seen.flat_differences
    ]
    if support:
        blocks.append(pin_fragment_toml(support, "support"))
    blocks.append(pin_fragment_toml(pins, "wheels"))
    return "\n".join(b.rstrip("\n") + "\n" for b in blocks)


def _preamble(name: str, pins: Sequence[Pin], interps: Sequence[Interpreter], detects: bool) -> str:
    versions = sorted({i.version[:2] for i in interps})
    lines = [
        f"# Draft written by `harness new-case {name}`. Review every expectation, replace each",
        "# DRAFT explanation with the reason from the import system, delete what the case should",
        "# not pin down, then set reviewed = true. The runner refuses the case until then.",
        'description = """',
        f"{', '.join(f'{p.name} {p.version}' for p in pins)}: DRAFT, describe the collision shape and why it matters.",
        '"""',
        "reviewed = false",
        f'python = ">={versions[0][0]}.{versions[0][1]}"',
    ]
    if detects:
        lines.append(
            'detects = ["whole-tree"]  # DRAFT: the whole-tree engine disagreed here; explain why'
        )
    return "\n".join(lines) + "\n"


def _table(header: str, **keys: str | bool) -> str:
    """One TOML table: the header, then `key = value` lines (strings quoted, booleans bare)."""
    lines = [header]
    for key, value in keys.items():
        lines.append(f"{key} = {'true' if value is True else _toml(str(value))}")
    return "\n".join(lines) + "\n"


def _flat_differences(obs, flat_obs, names) -> set[str]:
    from harness.judge import differences_from_flat

    return set(differences_from_flat(obs, flat_obs, names))


def _roots(names: set[str]) -> set[str]:
    """The shallowest names of a set: a declared difference covers its submodules."""
    return {n for n in names if not any(n.startswith(o + ".") for o in names)}


def write_case(root: Path, name: str, text: str, *, force: bool = False) -> Path:
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", name):
        raise HarnessError(
            f"case name {name!r}: use lowercase letters, digits, '.' and '-' (<shape>-<packages>)"
        )
    path = root / name / "case.toml"
    if path.exists() and not force:
        raise HarnessError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
