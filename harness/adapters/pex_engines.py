"""pex as a venv engine, three ways: a `--venv` PEX's runtime venv, and `pex3 venv create` with
and without `--collisions-ok` (docs/shared reference: external-engines.md).

Every wheel is handed over as `--pre-resolved-dist FILE` *and* named `NAME==VERSION` (a
pre-resolved dist alone installs nothing), with `--no-pypi` and no find-links, so pex never
asks an index. pex insists on a complete dependency set: each requirement name of any wheel
that is not itself one of the wheels is passed as `--exclude NAME`. pex silently drops a wheel
that does not fit the target when another satisfies its requirement, so every adapter checks
which wheels really landed (by the `*.pex-info/original-whl-info.json` pex writes beside each
dist-info) and refuses when one did not.

Orders: `pex3 venv create` populates in the order of the `--pre-resolved-dist` arguments (the
request's) and keeps the *first* wheel's file on a collision; the runtime venv follows pex's
own order (PEX-INFO's requirements, sorted as strings, each resolved depth first before its
dependencies), which this adapter derives, checks against the layout and reports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from harness.adapters import Refused
from harness.adapters._common import (
    Job,
    ToolFailed,
    Wheel,
    marker_environment,
    output,
    read_request,
    requires_dist,
    run,
    site_packages,
    tool_env,
    version_tuple,
)

MINIMUM = (2, 105, 2)
NS_PKGS = "pex-ns-pkgs"

# pex's messages for a wheel set it will not build (as opposed to a broken tool or file).
_REFUSALS = (
    "Encountered collision",  # "collision" for one, "collisions" for several
    "incompatible candidates",
    "Failed to resolve compatible distributions",
    "Failed to resolve all requirements",
)
_WARNING = re.compile(
    r"^\S+:\d+: (?:\w*Warning): (.*?)(?=^\S+:\d+: \w*Warning: |\Z)", re.MULTILINE | re.DOTALL
)


def available() -> str | None:
    try:
        version = metadata.version("pex")
    except metadata.PackageNotFoundError:
        hint = "pip install 'venv-merge-harness[engines]'"
        return f"pex is not installed for {sys.executable} ({hint})"
    if version_tuple(version) < MINIMUM:
        return f"pex {version} is too old (need >= {'.'.join(map(str, MINIMUM))})"
    return None


def _command(script: str, module: str) -> list[str]:
    """pex's console script beside this interpreter's scripts, else `python -m`."""
    beside = Path(sysconfig.get_path("scripts")) / script
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return [sys.executable, "-m", module]


def _env(job: Job, **extra: str) -> dict[str, str]:
    return tool_env(PEX_ROOT=str(job.store / "pex-root"), PEX_IGNORE_RCFILES="1", **extra)


def _inputs(job: Job) -> tuple[list[str], list[str], list[str], dict[str, list[Requirement]]]:
    """(--pre-resolved-dist args, NAME==VERSION requirements, --exclude args, Requires-Dist)."""
    dists = [arg for w in job.wheels for arg in ("--pre-resolved-dist", str(w.path))]
    pins = list(dict.fromkeys(w.pin for w in job.wheels))
    requires = {w.label: requires_dist(w.path) for w in job.wheels}
    given = {w.name for w in job.wheels}
    missing = sorted(
        {canonicalize_name(r.name) for reqs in requires.values() for r in reqs} - given
    )
    excludes = [arg for name in missing for arg in ("--exclude", name)]
    return dists, pins, excludes, requires


def _pex_warnings(stderr: str) -> list[str]:
    found = []
    for match in _WARNING.finditer(stderr):
        lines = match.group(1).rstrip().splitlines()
        if lines and lines[-1].startswith("  ") and not lines[-1].startswith("\t"):
            lines = lines[:-1]  # the source line Python's warning display adds
        found.append("pex: " + "\n".join(lines).rstrip())
    return found


def _refuse_or_fail(what: str, done: subprocess.CompletedProcess[str]) -> None:
    """Raise `Refused` when pex refused the wheel set, else `ToolFailed`."""
    said = output(done)
    if any(marker in said for marker in _REFUSALS):
        raise Refused(f"pex refused: {said}")
    raise ToolFailed(f"{what} failed (exit {done.returncode}): {said}")


def _landed(site: Path) -> dict[str, Path]:
    """Wheel file name -> the site-packages directory pex put it in (root or pex-ns-pkgs/N)."""
    landed = {}
    for info in sorted(site.glob("*.pex-info/original-whl-info.json")) + sorted(
        site.glob(f"{NS_PKGS}/*/*.pex-info/original-whl-info.json")
    ):
        try:
            filename = json.loads(info.read_text(encoding="utf-8"))["filename"]
        except (OSError, ValueError, KeyError) as exc:
            raise ToolFailed(f"{info}: unreadable pex provenance ({exc})") from exc
        landed.setdefault(filename, info.parent.parent)
    return landed


def _check_landed(job: Job, landed: Mapping[str, Path]) -> None:
    dropped = [w for w in job.wheels if w.filename not in landed]
    if not dropped:
        return
    tags = set(job.tags)
    details = []
    for w in dropped:
        wheel_tags = _wheel_tags(w.filename)
        if not tags or not wheel_tags:
            why = ""
        elif wheel_tags & tags:
            why = " (its tags fit the target)"
        else:
            why = f" (the target supports none of its tags: {', '.join(sorted(wheel_tags))})"
        details.append(f"{w.label} ({w.filename}){why}")
    kept = [w.label for w in job.wheels if w.filename in landed]
    raise Refused(
        "pex did not install " + "; ".join(details) + ": pex silently drops a wheel it will not "
        "use for the target when another one satisfies the same requirement, so this venv "
        f"would not be the requested set (installed: {', '.join(kept) or 'nothing'})",
        applied_order=kept,
    )


def _wheel_tags(filename: str) -> set[str]:
    try:
        return {str(t) for t in parse_wheel_filename(filename)[3]}
    except InvalidWheelFilename:
        return set()


def _installed_once(job: Job) -> tuple[list[Wheel], list[str]]:
    """The wheels pex installs, first label per file: one file given under two labels is one
    distribution to pex (it installs it once); a warning says which label was folded in."""
    first: dict[str, Wheel] = {}
    warnings = []
    for wheel in job.wheels:
        if wheel.filename in first:
            warnings.append(
                f"{wheel.label} is the same file as {first[wheel.filename].label} "
                f"({wheel.filename}): pex installs it once, so only {first[wheel.filename].label}"
                " is in applied_order"
            )
        else:
            first[wheel.filename] = wheel
    return list(first.values()), warnings


# --------------------------------------------------------------------------- pex3 venv create


def _build_pex3(request: Mapping, collisions_ok: bool) -> dict:
    job = read_request(request)
    dists, pins, excludes, _requires = _inputs(job)
    env = _env(job)
    argv = [
        *_command("pex3", "pex.cli"),
        "venv",
        "create",
        "-d",
        str(job.out),
        "--python",
        job.python,
        "--no-pypi",
        "--pex-root",
        env["PEX_ROOT"],
        *(["--collisions-ok"] if collisions_ok else []),
        *dists,
        *pins,
        *excludes,
    ]
    done = run(argv, env=env, cwd=job.store)
    if done.returncode:
        _refuse_or_fail("pex3 venv create", done)
    site = site_packages(job.out)
    landed = _landed(site)
    _check_landed(job, landed)
    installed, warnings = _installed_once(job)
    warnings += _pex_warnings(done.stderr)
    if collisions_ok and any("collisions" in w for w in warnings):
        warnings.append(
            "pex keeps the first wheel's file on a collision (--collisions-ok), where a flat "
            "install keeps the last one's"
        )
    return {
        "schema": 1,
        "status": "built",
        "venv": str(job.out),
        "python": str(job.out / "bin" / "python"),
        "message": f"pex3 venv create (pex {metadata.version('pex')}): hard links, the "
        "--pre-resolved-dist order is the request's"
        + (", --collisions-ok" if collisions_ok else ""),
        "warnings": warnings,
        "applied_order": [w.label for w in installed],
    }


def build_venv(request: Mapping) -> dict:
    """pex3 venv create: hard-linked venv in the request's order; refuses colliding files."""
    return _build_pex3(request, collisions_ok=False)


def build_venv_collisions_ok(request: Mapping) -> dict:
    """pex3 venv create --collisions-ok: the first wheel's file stays, collisions are warnings."""
    return _build_pex3(request, collisions_ok=True)


# --------------------------------------------------------------------------- --venv PEX


_PREFIX_CODE = "import json, sys; print(json.dumps(sys.prefix))"


def build_runtime_venv(request: Mapping) -> dict:
    """pex --venv: the symlinked venv a PEX builds under PEX_ROOT/venvs on its first run."""
    job = read_request(request)
    dists, pins, excludes, requires = _inputs(job)
    env = _env(job)
    pex_file = job.store / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', job.engine or 'engine')}.pex"
    argv = [
        *_command("pex", "pex"),
        "--no-pypi",
        "--pex-root",
        env["PEX_ROOT"],
        *dists,
        *pins,
        *excludes,
        "--venv",
        "--python",
        job.python,
        "-o",
        str(pex_file),
    ]
    done = run(argv, env=env, cwd=job.store)
    if done.returncode:
        _refuse_or_fail("pex (building the PEX)", done)
    ran = run(
        [job.python, str(pex_file), "-c", _PREFIX_CODE],
        env=_env(job, PEX_INTERPRETER="1"),
        cwd=job.store,
    )
    if ran.returncode:
        _refuse_or_fail("running the PEX once (to build its venv)", ran)
    try:
        prefix = Path(json.loads(ran.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError) as exc:
        raise ToolFailed(f"the PEX did not print its venv's sys.prefix: {ran.stdout!r}") from exc
    site = site_packages(prefix)
    landed = _landed(site)
    _check_landed(job, landed)
    installed, warnings = _installed_once(job)
    warnings += _pex_warnings(done.stderr) + _pex_warnings(ran.stderr)
    with zipfile.ZipFile(pex_file) as archive:
        info = json.loads(archive.read("PEX-INFO"))
    order = pex_order(
        info.get("requirements", pins),
        installed,
        {canonicalize_name(x) for x in info.get("excluded", ())},
        requires,
        marker_environment(job.python),
    )
    order += [w.label for w in installed if w.label not in order]
    warnings += _order_warnings(job, order, site)
    python = prefix / "bin" / "python"
    if os.path.realpath(python) != os.path.realpath(job.python):
        warnings.append(
            f"the PEX built its venv on {os.path.realpath(python)}, not on {job.python}"
        )
    return {
        "schema": 1,
        "status": "built",
        "venv": str(prefix),
        "python": str(python),
        "message": f"pex {metadata.version('pex')} --venv: the runtime venv {pex_file.name} "
        f"built under PEX_ROOT/venvs (symlinks into PEX_ROOT/installed_wheels)",
        "warnings": warnings,
        "applied_order": order,
    }


def pex_order(
    roots: Sequence[str],
    wheels: Sequence[Wheel],
    excluded: set[str],
    requires: Mapping[str, Sequence[Requirement]],
    environment: Mapping[str, str],
) -> list[str]:
    """The labels in the order a PEX resolves (and so populates) its distributions: each root
    requirement in PEX-INFO's order, resolved before its dependencies, depth first; a name
    already resolved or excluded is skipped (pex's `PEXEnvironment.resolve_dists`)."""
    by_name: dict[str, list[Wheel]] = {}
    for wheel in wheels:
        by_name.setdefault(wheel.name, []).append(wheel)
    resolved: dict[str, str] = {}
    order: list[str] = []

    def visit(requirement: Requirement) -> None:
        name = canonicalize_name(requirement.name)
        if name in excluded or name in resolved:
            return
        candidates = [w for w in by_name.get(name, ()) if _satisfies(requirement, w.version)]
        if not candidates:
            return
        chosen = candidates[0]
        resolved[name] = chosen.label
        order.append(chosen.label)
        for dependency in requires.get(chosen.label, ()):
            if dependency.marker is not None and not any(
                dependency.marker.evaluate({**environment, "extra": extra})
                for extra in (sorted(requirement.extras) or [""])
            ):
                continue
            visit(dependency)

    for root in roots:
        visit(Requirement(root))
    return order


def _satisfies(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return True


def _owner(link: Path, by_file: Mapping[str, str]) -> str | None:
    """The label whose installed wheel a pex symlink points into."""
    if not link.is_symlink():
        return None
    for part in Path(os.readlink(link)).parts:
        if part in by_file:
            return by_file[part]
    return None


def _order_warnings(job: Job, order: Sequence[str], site: Path) -> list[str]:
    """Say that the order is pex's, when it differs from the request, whether the layout
    agrees with it, and which distributions pex moved to pex-ns-pkgs/."""
    warnings = []
    requested = [label for label in job.labels if label in order]
    if list(order) != requested:
        warnings.append(
            "pex applied the wheels in its own order, not the request's: PEX-INFO keeps the "
            "requirements sorted as strings and pex resolves each before its dependencies, "
            f"depth first. Applied (derived, checked against the layout): {', '.join(order)}; "
            f"requested: {', '.join(requested)}"
        )
    by_file: dict[str, str] = {}
    for wheel in job.wheels:
        by_file.setdefault(wheel.filename, wheel.label)
    position = {label: i for i, label in enumerate(order)}
    claims: dict[str, list[tuple[int, str]]] = {}
    places = [(0, site)] + [
        (int(d.name), d) for d in sorted(site.glob(f"{NS_PKGS}/*")) if d.name.isdigit()
    ]
    for depth, directory in places:
        for entry in sorted(directory.iterdir()):
            owner = _owner(entry, by_file)
            if owner is not None:
                claims.setdefault(entry.name, []).append((depth, owner))
    for top_level, owners in sorted(claims.items()):
        owners.sort()
        ranks = [position.get(label, -1) for _, label in owners]
        if ranks != sorted(ranks):
            warnings.append(
                f"the layout contradicts the derived order for {top_level}: "
                + ", ".join(f"{label} at depth {depth}" for depth, label in owners)
            )
        for depth, label in owners:
            if depth:
                first = owners[0][1]
                warnings.append(
                    f"pex put {label} whole (code and dist-info) in site-packages/{NS_PKGS}/"
                    f"{depth}, listed by {NS_PKGS}.pth, because its top-level {top_level} is "
                    f"already taken by {first}; no collision is reported"
                )
    return list(dict.fromkeys(warnings))
