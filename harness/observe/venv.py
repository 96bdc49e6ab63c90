"""Observe any venv from facts alone: the wheels' RECORD, the venv on disk, its interpreter.

`observe_venv` needs no plan, no manifest and no word from whatever built the venv: the
harness's own engines, an adapter's (uv, pex) or a venv an engine author built by hand are
observed the same way. Ownership comes from content (`harness.observe.ownership`), site-packages and
sys.path from the probe running in the venv's own interpreter, fallbacks from the sys.path
entries that hold a wheel's dist-info, console scripts from the `bin/` files themselves (each
resolved through its own code by the probe), bytecode and resolved conflicts from what sits in
the real directories of site-packages against what the wheels' RECORD says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.cases.case import Case
from harness.errors import HarnessError
from harness.model import Interpreter, PreparedWheel, WheelFacts
from harness.observe import observation
from harness.observe.concrete import concrete_view
from harness.observe.ownership import Ownership, read_wheel_record
from harness.observe.runtime import ProbeReport, resolve_scripts, run_probe


@dataclass(frozen=True)
class Facts:
    """What the wheels say, gathered once per wheel set: facts, RECORD ownership, modules."""

    wheels: tuple[WheelFacts, ...]
    ownership: Ownership
    shipped: Mapping[str, frozenset[str]]  # label -> dotted names its files make importable
    suffixes: tuple[str, ...]  # the target interpreter's extension suffixes


def wheel_facts(prepared: Sequence[PreparedWheel], suffixes: Sequence[str]) -> Facts:
    """RECORD ownership and shipped modules of prepared wheels (wheel order)."""
    records = [read_wheel_record(p.path, p.label, p.facts.filename or None) for p in prepared]
    return Facts(
        wheels=tuple(p.facts for p in prepared),
        ownership=Ownership(records),
        shipped={
            p.label: frozenset(observation.shipped_modules(p.facts, suffixes)) for p in prepared
        },
        suffixes=tuple(suffixes),
    )


_SUFFIXES: dict[str, tuple[str, ...]] = {}


def extension_suffixes(interp: Interpreter) -> tuple[str, ...]:
    """The target's extension-module suffixes, asked once per interpreter."""
    if interp.executable not in _SUFFIXES:
        report = run_probe(Path(interp.executable), distributions=False)
        _SUFFIXES[interp.executable] = tuple(report.interpreter.extension_suffixes)
    return _SUFFIXES[interp.executable]


def site_packages_of(venv: Path, report: ProbeReport) -> str:
    """The venv's own site-packages (realpath), as its interpreter reports it."""
    prefix = os.path.realpath(venv)
    for entry in report.site_packages:
        real = os.path.realpath(entry)
        if (real == prefix or real.startswith(prefix + os.sep)) and os.path.isdir(real):
            return real
    raise HarnessError(
        f"{venv}: its interpreter reports no site-packages inside the venv "
        f"(site.getsitepackages() = {list(report.site_packages)}); is it a venv?"
    )


def _site_packages(venv: Path, python: Path) -> str:
    """The one `lib/python*/site-packages` of a POSIX venv; else ask its interpreter."""
    found = sorted(venv.glob("lib/python*/site-packages"))
    if len(found) == 1 and found[0].is_dir():
        return os.path.realpath(found[0])
    return site_packages_of(venv, run_probe(python, distributions=False))


def observe_venv(
    venv: Path,
    facts: Facts,
    names: Iterable[str],
    case: Case,
    *,
    python: Path | None = None,
) -> observation.Observation:
    """Probe `venv` (its `bin/python` unless `python` is given) and reduce it to plain values."""
    venv = Path(os.path.abspath(venv))
    python = Path(python) if python else venv / "bin" / "python"
    site = _site_packages(venv, python)
    view = concrete_view(Path(site), extension_suffixes=facts.suffixes)
    all_names = sorted(set(names) | set(view.names))
    report, bytecode = _probe(python, site, all_names, case, facts)
    ownership = facts.ownership
    bin_dir = venv / "bin"
    script_names = sorted(
        {cs.name for w in facts.wheels for cs in w.console_scripts}
        | {c.name for c in case.expect.console_scripts}
    )
    owners_of_scripts = {
        name: script_owners(bin_dir / name, name, facts.wheels) for name in script_names
    }
    runs = _script_runs(python, bin_dir, owners_of_scripts, facts.wheels, case)
    file_realpaths = {
        f.path: os.path.realpath(os.path.join(site, f.path)) for f in case.expect.files
    }
    sys_path = tuple(e.realpath for e in report.sys_path if e.exists)
    fallbacks = {
        entry: labels
        for entry in sys_path
        if entry != site and (labels := ownership.wheels_at(entry))
    }
    concrete = {
        m.name: observation.ConcreteModule(m.name, m.kind, m.path, m.realpath) for m in view.modules
    }
    runtime = {m.name: _runtime_module(m) for m in report.modules if m.mode == "resolve"}
    imported = {m.name: _runtime_module(m) for m in report.modules if m.mode == "import"}
    distributions = tuple(
        observation.Distribution(
            d.normalized_name or "", d.version or "", d.realpath or d.path or ""
        )
        for d in report.distributions
    )
    asked = _paths_judged(concrete, [*runtime.values(), *imported.values()], distributions, runs)
    return observation.Observation(
        site_packages=site,
        concrete=concrete,
        runtime=runtime,
        imported=imported,
        sys_path=sys_path,
        distributions=distributions,
        owners={p: ownership(p) for p in sorted({*asked, *file_realpaths.values()})},
        file_realpaths=file_realpaths,
        fallback_roots=fallbacks,
        symlink_counts={
            b.under: _count_symlinks(Path(site) / b.under) for b in case.expect.budgets
        },
        file_kinds={f.path: _kind(os.path.join(site, f.path)) for f in case.expect.files},
        prefix_kinds={f.path: _kind(os.path.join(venv, f.path)) for f in case.expect.prefix_files},
        prefix_owners={
            f.path: _label(ownership(os.path.realpath(os.path.join(venv, f.path))))
            for f in case.expect.prefix_files
        },
        scripts={
            cs.name: os.access(os.path.join(venv, "bin", cs.name), os.X_OK)
            for cs in case.expect.console_scripts
        },
        script_owners=owners_of_scripts,
        script_runs=runs,
        bytecode=tuple(bytecode),
        shared_paths=_shared_paths(Path(site), facts),
    )


def _probe(
    python: Path, site: str, names: Sequence[str], case: Case, facts: Facts
) -> tuple[ProbeReport, list[observation.CachedBytecode]]:
    """The probe's report (every name resolved, the case's imports imported) and the bytecode
    in site-packages' real directories with the headers the target interpreter read.

    Bytecode is listed before the probe runs (it runs with -B: it writes none); the ones no
    wheel ships are checked by the target interpreter, which is what would load them."""
    bytecode = _bytecode(Path(site), facts.ownership)
    unshipped = [b for b in bytecode if not b.pyc_owners]
    report = run_probe(
        python,
        resolve=list(names),
        imports=list(case.imports),
        env=dict(case.env),
        resolve_after_import=bool(case.imports),
        bytecode=[
            {"pyc": os.path.join(site, b.path), "source": os.path.join(site, b.source)}
            for b in unshipped
        ],
    )
    headers = {os.path.relpath(h.pyc, site).replace(os.sep, "/"): h.header for h in report.bytecode}
    return report, [replace(b, header=headers.get(b.path, b.header)) for b in bytecode]


def _paths_judged(
    concrete: Mapping[str, observation.ConcreteModule],
    runtime: Iterable[observation.RuntimeModule],
    distributions: Iterable[observation.Distribution],
    runs: Mapping[str, observation.ScriptRun],
) -> set[str]:
    """Every path whose owner the checks may ask for (`observation.Observation.owners`)."""
    paths = {m.realpath for m in concrete.values()}
    for rt in runtime:
        paths.update(rt.locations)
        if rt.origin:
            paths.add(rt.origin)
    paths.update(os.path.join(d.path, "WHEEL") for d in distributions if d.path)
    paths.update(
        r.module_file or r.object_file for r in runs.values() if r.module_file or r.object_file
    )
    return paths


def _script_runs(
    python: Path,
    bin_dir: Path,
    owners: Mapping[str, tuple[str, ...]],
    wheels: Sequence[WheelFacts],
    case: Case,
) -> dict[str, observation.ScriptRun]:
    """Every console script some wheel declares that `bin/` holds, resolved by the probe."""
    by_label = {w.label: w for w in wheels}
    requests = []
    for name, claimed in owners.items():
        path = bin_dir / name
        if not path.is_file():
            continue
        module = next(
            (
                cs.module
                for label in claimed
                for cs in by_label[label].console_scripts
                if cs.name == name
            ),
            None,
        )
        requests.append({"name": name, "path": str(path), "module": module})
    found = resolve_scripts(python, requests, env=dict(case.env))
    return {
        r.name or "": observation.ScriptRun(
            name=r.name or "",
            status=r.status,
            object=r.object,
            object_file=r.object_file,
            module=r.module,
            module_file=r.module_file,
            error=f"{r.error.type}: {r.error.message}" if r.error else None,
        )
        for r in found
    }


def cached_source(name: str) -> str | None:
    """The source file name a `__pycache__` entry caches: `mod.cpython-311.pyc` and
    `mod.cpython-311.opt-2.pyc` -> `mod.py`, `api.v1.cpython-311.pyc` -> `api.v1.py`; None for
    a name without a cache tag. (Restated here from PEP 3147/488, not taken from the engine.)"""
    if not name.endswith(".pyc"):
        return None
    parts = name[: -len(".pyc")].split(".")
    if len(parts) > 1 and parts[-1].startswith("opt-") and parts[-1] != "opt-":
        parts = parts[:-1]
    if len(parts) < 2 or not all(parts):
        return None
    return ".".join(parts[:-1]) + ".py"


def _bytecode(site: Path, ownership) -> list[observation.CachedBytecode]:
    """Every `.pyc` in a real `__pycache__` of a real directory of site-packages (symlinked
    directories belong to one wheel's tree: nothing there was overlaid), beside its source.
    `header` is left `unknown`: the target interpreter checks the ones no wheel ships."""
    found = []
    for dirpath, dirnames, filenames in os.walk(site):
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)))
        if os.path.basename(dirpath) != "__pycache__":
            continue
        package = Path(dirpath).parent
        for name in sorted(filenames):
            pyc = Path(dirpath) / name
            source_name = cached_source(name)
            if source_name is None or pyc.is_symlink():
                continue
            source = package / source_name
            if not source.is_file():
                continue  # no source beside it: nothing it can be stale against
            pyc_owner = ownership(os.path.realpath(pyc))
            source_owner = ownership(os.path.realpath(source))
            found.append(
                observation.CachedBytecode(
                    path=pyc.relative_to(site).as_posix(),
                    source=source.relative_to(site).as_posix(),
                    pyc_owners=pyc_owner.labels if pyc_owner else (),
                    source_owners=source_owner.labels if source_owner else (),
                    header="unknown",
                )
            )
    return found


def _shared_paths(site: Path, facts: Facts) -> tuple[observation.SharedPath, ...]:
    """Paths two wheels ship differently (different bytes, or a file in one and a directory
    in the other), from RECORD, that sit physically in a real directory of the venv: a merge
    resolved them. Earlier versions of a distribution given twice are left out (the contract
    supersedes them: their files never meet the later version's)."""
    last_version = {}
    for record in facts.ownership.records:
        last_version[record.name] = record.version
    rank = {}
    digests: dict[str, dict[str, tuple[str, str]]] = {}
    for i, record in enumerate(facts.ownership.records):
        if record.version != last_version[record.name]:
            continue
        rank[record.label] = i
        for row in record.rows:
            if row.where == "site-packages":
                digests.setdefault(row.path, {})[record.label] = (row.algorithm, row.digest)
    dirs: dict[str, set[str]] = {}
    for path, by_label in digests.items():
        segments = path.split("/")
        for i in range(1, len(segments)):
            dirs.setdefault("/".join(segments[:i]), set()).update(by_label)
    found = []
    for path in sorted(set(digests) | set(dirs)):
        files = digests.get(path, {})
        if len(set(files.values())) >= 2:
            kind, labels = "distinct", set(files)
        elif files and dirs.get(path, set()) - set(files):
            kind, labels = "file_to_directory", set(files) | dirs[path]
        else:
            continue
        if _physical(site, path):
            found.append(observation.SharedPath(path, tuple(sorted(labels, key=rank.get)), kind))
    return tuple(found)


def _physical(site: Path, path: str) -> bool:
    """`path` exists in site-packages, and neither it nor any directory above it (below
    site-packages) is a symlink: it was written into a real directory, not projected."""
    current = site
    for part in path.split("/"):
        current = current / part
        if current.is_symlink():
            return False
    return os.path.lexists(current)


def script_owners(path: Path, name: str, wheels: Sequence[WheelFacts]) -> tuple[str, ...]:
    """The wheels whose `name = module:attr` entry point the script at `path` runs.

    Read from the script itself (every engine writes its own wrapper: pip's and installer's
    `from module import attr`, the harness's `import_module('module')`, pex's attribute walk
    over `('obj', 'attr')`): a wheel matches when its module appears as a whole dotted word and
    every part of its attribute path appears as a word.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    dotted = set(_words(text))
    parts = {part for word in dotted for part in word.split(".")}
    return tuple(
        w.label
        for w in wheels
        for cs in w.console_scripts
        if cs.name == name
        and _has_module(dotted, cs.module)
        and all(part in parts for part in cs.attr.split("."))
    )


def _has_module(words: set[str], module: str) -> bool:
    """`module` is a whole dotted word, or the start of one (`pkg.mod` in `pkg.mod.attr`)."""
    return any(w == module or w.startswith(module + ".") for w in words)


def _words(text: str) -> Iterable[str]:
    import re

    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", text)


def _label(owner) -> str | None:
    return owner.label if owner else None


def _runtime_module(m) -> observation.RuntimeModule:
    error = f"{m.error.type}: {m.error.message}" if getattr(m, "error", None) else None
    return observation.RuntimeModule(
        name=m.name,
        status=m.status,
        kind=m.kind,
        origin=m.origin_realpath,
        locations=tuple(m.search_locations_realpaths or ()),
        error=error,
    )


def _kind(path: str) -> str | None:
    if os.path.islink(path):
        return "symlink"
    if os.path.isdir(path):
        return "dir"
    if os.path.exists(path):
        return "file"
    return None


def _count_symlinks(root: Path) -> int:
    if root.is_symlink():
        return 1
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if os.path.islink(os.path.join(dirpath, name)):
                count += 1
    return count


__all__ = [
    "Facts",
    "cached_source",
    "observe_venv",
    "script_owners",
    "site_packages_of",
    "wheel_facts",
]
