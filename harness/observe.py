"""Observe any venv from facts alone: the wheels' RECORD, the venv on disk, its interpreter.

`observe_venv` needs no plan, no manifest and no word from whatever built the venv: the
harness's own engines, an adapter's (uv, pex) or a venv an engine author built by hand are
observed the same way. Ownership comes from content (`harness.ownership`), site-packages and
sys.path from the probe running in the venv's own interpreter, fallbacks from the sys.path
entries that hold a wheel's dist-info, console scripts from the `bin/` files themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import check
from harness.concrete import concrete_view
from harness.errors import HarnessError
from harness.expectations import CaseSpec
from harness.model import PreparedWheel, WheelFacts
from harness.ownership import Ownership, read_wheel_record
from harness.runtime import ProbeReport, run_probe


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
        shipped={p.label: frozenset(check.shipped_modules(p.facts, suffixes)) for p in prepared},
        suffixes=tuple(suffixes),
    )


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
    spec: CaseSpec,
    *,
    python: Path | None = None,
) -> check.Observation:
    """Probe `venv` (its `bin/python` unless `python` is given) and reduce it to plain values."""
    venv = Path(os.path.abspath(venv))
    python = Path(python) if python else venv / "bin" / "python"
    site = _site_packages(venv, python)
    view = concrete_view(Path(site), extension_suffixes=facts.suffixes)
    all_names = sorted(set(names) | set(view.names))
    report = run_probe(
        python,
        resolve=all_names,
        imports=list(spec.imports),
        env=dict(spec.env),
        resolve_after_import=bool(spec.imports),
    )
    ownership = facts.ownership
    sys_path = tuple(e.realpath for e in report.sys_path if e.exists)
    fallbacks = {
        entry: labels
        for entry in sys_path
        if entry != site and (labels := ownership.wheels_at(entry))
    }
    return check.Observation(
        site_packages=site,
        concrete={
            m.name: check.ConcreteModule(m.name, m.kind, m.path, m.realpath) for m in view.modules
        },
        runtime={m.name: _runtime_module(m) for m in report.modules if m.mode == "resolve"},
        imported={m.name: _runtime_module(m) for m in report.modules if m.mode == "import"},
        sys_path=sys_path,
        distributions=tuple(
            check.Distribution(d.normalized_name or "", d.version or "", d.realpath or d.path or "")
            for d in report.distributions
        ),
        owner_of=ownership,
        fallback_roots=fallbacks,
        symlink_counts={b.under: _count_symlinks(Path(site) / b.under) for b in spec.budgets},
        file_kinds={f.path: _kind(os.path.join(site, f.path)) for f in spec.files},
        prefix_kinds={f.path: _kind(os.path.join(venv, f.path)) for f in spec.prefix_files},
        prefix_owners={
            f.path: _label(ownership(os.path.realpath(os.path.join(venv, f.path))))
            for f in spec.prefix_files
        },
        scripts={
            cs.name: os.access(os.path.join(venv, "bin", cs.name), os.X_OK)
            for cs in spec.console_scripts
        },
        script_owners={
            cs.name: script_owners(venv / "bin" / cs.name, cs.name, facts.wheels)
            for cs in spec.console_scripts
        },
    )


def script_owners(path: Path, name: str, wheels: Sequence[WheelFacts]) -> tuple[str, ...]:
    """The wheels whose `name = module:attr` entry point the script at `path` runs.

    Read from the script itself (every engine writes its own wrapper: pip's and installer's
    `from module import attr`, the harness's `import_module('module')`): a wheel matches when
    its module and the first part of its attribute both appear as whole words in the text.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    words = {prefix for word in _words(text) for prefix in _prefixes(word)}
    return tuple(
        w.label
        for w in wheels
        for cs in w.console_scripts
        if cs.name == name and cs.module in words and cs.attr in words
    )


def _prefixes(dotted: str) -> Iterable[str]:
    parts = dotted.split(".")
    return (".".join(parts[:i]) for i in range(1, len(parts) + 1))


def _words(text: str) -> Iterable[str]:
    import re

    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", text)


def _label(owner) -> str | None:
    return owner.label if owner else None


def _runtime_module(m) -> check.RuntimeModule:
    error = f"{m.error.type}: {m.error.message}" if getattr(m, "error", None) else None
    return check.RuntimeModule(
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


__all__ = ["Facts", "observe_venv", "script_owners", "site_packages_of", "wheel_facts"]
