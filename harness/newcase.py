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


def draft_case(
    name: str,
    pins: Sequence[Pin],
    support: Sequence[Pin],
    interps: Sequence[Interpreter],
) -> str:
    """Run the pins under merge and flat on the first interpreter; return a draft case.toml.

    The venvs live until the draft is written: ownership is read from their files as the
    observations are used (harness.ownership), so they must outlive every use."""
    with tempfile.TemporaryDirectory(prefix="harness-new-case-") as tmp:
        return _draft_case_in(Path(tmp), name, pins, support, interps)


def _draft_case_in(
    tmp: Path,
    name: str,
    pins: Sequence[Pin],
    support: Sequence[Pin],
    interps: Sequence[Interpreter],
) -> str:
    from harness import check, runner, supply
    from harness.casepins import pin_fragment_toml
    from harness.cases import Case
    from harness.engine.assemble import assemble
    from harness.observe import observe_venv, wheel_facts

    interp = interps[0]
    prepared = supply.prepare([*support, *pins], interp)
    under_test = prepared[len(support) :]
    spec = Case(name=name, path=Path(f"cases/{name}/case.toml"), description="draft")
    facts = wheel_facts(prepared, runner.extension_suffixes(interp))
    names = set().union(*facts.shipped.values())
    merge = assemble(prepared, interp, tmp / "merge", engine="merge", policy="ignore")
    flat = runner.build_flat(prepared, interp, tmp / "flat")
    flat_obs = observe_venv(flat, facts, names, spec)
    names |= set(flat_obs.concrete)
    obs = observe_venv(merge.venv.path, facts, names, spec)
    whole = assemble(prepared, interp, tmp / "whole-tree", engine="whole-tree", policy="ignore")
    whole_obs = observe_venv(whole.venv.path, facts, names, spec)
    plan = merge.plan

    versions = sorted(
        {".".join(map(str, i.version[:2])) for i in interps},
        key=lambda v: tuple(map(int, v.split("."))),
    )
    out = [
        f"# Draft written by `harness new-case {name}`. Review every expectation, replace each",
        "# DRAFT explanation with the reason from the import system, delete what the case should",
        "# not pin down, then set reviewed = true. The runner refuses the case until then.",
        'description = """',
        f"{', '.join(f'{p.name} {p.version}' for p in pins)}: DRAFT, describe the collision shape and why it matters.",
        '"""',
        "reviewed = false",
        f'python = ">={versions[0]}"',
    ]
    differing = _flat_differences(obs, flat_obs, names)
    if check.check_a1(whole_obs) or _flat_differences(whole_obs, flat_obs, names) - differing:
        out.append(
            'detects = ["whole-tree"]  # DRAFT: the whole-tree engine disagreed here; explain why'
        )
    out.append("")
    if support:
        out.append(pin_fragment_toml(support, "support"))
    out.append(pin_fragment_toml(pins, "wheels"))

    premises = sorted(
        {
            (p.facts.name, fact, value)
            for p in under_test
            for fact in ("regular_top_levels", "namespace_top_levels", "native_roots")
            for value in getattr(p.facts, fact)
        }
    )
    for wheel, fact, value in premises:
        out += [
            "[[premise]]",
            f"wheel = {_toml(wheel)}",
            f'fact = "{fact}"',
            f"contains = {_toml(value)}",
            f"why = {_toml(DRAFT)}",
            "",
        ]
    for c in plan.collisions:
        out += [
            "[[expect.collision]]",
            f"kind = {_toml(c.kind)}",
            f"name = {_toml(c.name)}",
            f"explanation = {_toml(DRAFT)}",
            "",
        ]
    for fb in plan.fallbacks:
        if fb.label in {p.label for p in under_test}:
            out += [
                "[[expect.fallback]]",
                f"wheel = {_toml(fb.label)}",
                f"explanation = {_toml(DRAFT)}",
                "",
            ]
    for top in sorted(
        {
            t
            for p in under_test
            for t in p.facts.top_levels
            if re.fullmatch(r"[A-Za-z_]\w*", t.removesuffix(".py"))
        }
    ):
        module = top.removesuffix(".py")
        rt = obs.runtime.get(module)
        if rt is None or rt.status != "found":
            out += [
                "[[expect.module]]",
                f"name = {_toml(module)}",
                "absent = true",
                f"explanation = {_toml(DRAFT)}",
                "",
            ]
            continue
        owners = [obs.owner_of(rt.origin)] if rt.origin else [obs.owner_of(x) for x in rt.locations]
        labels = sorted({label for o in owners if o for label in o.labels})
        if labels:
            out += [
                "[[expect.module]]",
                f"name = {_toml(module)}",
                f"owner = {_toml(labels[-1])}",
                f"explanation = {_toml(DRAFT)}",
                "",
            ]
    for p in under_test:
        copies = [d for d in obs.distributions if d.name == p.facts.name]
        if len(copies) == 1:
            out += [
                "[[expect.metadata]]",
                f"name = {_toml(p.facts.name)}",
                f"version = {_toml(copies[0].version)}",
                f"explanation = {_toml(DRAFT)}",
                "",
            ]
    for module in sorted(_roots(differing)):
        out += [
            "[[expect.flat_difference]]",
            f"module = {_toml(module)}",
            f"explanation = {_toml(DRAFT)}",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def _flat_differences(obs, flat_obs, names) -> set[str]:
    from harness.check import differences_from_flat

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
