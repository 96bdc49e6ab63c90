"""Write a `Plan` as a real venv (merge-engine.md §2, reference §2).

The materializer decides nothing: every path it writes is in the plan. It creates the venv with
virtualenv for the target interpreter, then writes, inside site-packages, relative symlinks for
projections (with real parent directories without `__init__.py`), physically merged directories
(`harness.engine.merge`) and the engine `.pth` file; under the prefix, `bin/` console script
wrappers and `.data/data` projections; and under `<venv>/.harness/` the plan and a manifest so a
later `harness check VENV` can re-read everything.

Every link is relative and computed between real paths, so the install trees and the venv can
move together. Install trees are never written to: links point at them, merges link or copy
their files into real directories the materializer owns (0o755), so the venv can be deleted
with a plain `shutil.rmtree` even though merged hard links share read-only inodes with the trees.

The `flat` engine (the oracle) is different on purpose: no symlinks at all. Each wheel in wheel
order is overlaid into the one site-packages with the same `merge_tree` (later files overwrite
earlier ones, as pip does), `scripts/` into `bin/`, `data/` under the prefix, console script
wrappers from each wheel's `entry_points.txt` (last wins). It copies from the
*install trees* rather than re-installing the wheel files with an installer, so the oracle and
the engine under test see byte-identical files and differ only in layout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.engine.merge import Conflict, merge_tree
from harness.errors import MaterializeError, PolicyError
from harness.facts import parse_console_scripts
from harness.model import Fallback, InstallTree, Interpreter, Plan, to_plain

ENGINE_PTH = "_harness_engine.pth"
STATE_DIR = ".harness"
MANIFEST_FORMAT = 1

# The venv owns these prefix roots; data files may not land there (reference §3.9).
RESERVED_PREFIX_ROOTS = frozenset({"bin", "lib", "pyvenv.cfg", STATE_DIR})

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_VIRTUALENV_LOCK = threading.Lock()


@dataclass(frozen=True)
class Venv:
    """A written venv. `owners` maps a site-packages relpath of every real file a merge or the
    flat install wrote to the label that supplied it (symlinked paths are owned by their
    target's tree, so they are not listed)."""

    path: Path
    python: Path  # <venv>/bin/python
    site_packages: Path
    engine: str
    owners: Mapping[str, str] = field(default_factory=dict, hash=False)
    merge_conflicts: tuple[Conflict, ...] = ()  # rel is site-packages relative
    notes: tuple[str, ...] = ()  # things skipped on purpose (flat: venv-owned names)


# --------------------------------------------------------------------------- helpers


def _check_rel(path: str, what: str) -> tuple[str, ...]:
    """A plan path must be relative, normalised and one line: refuse anything else."""
    parts = tuple(path.split("/"))
    if (
        not path
        or path.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or any(c in path for c in "\n\r\0")
    ):
        raise MaterializeError(
            f"{what} `{path!r}` in the plan is not a normalised relative POSIX path; expected "
            f"segments without '', '.', '..' or line breaks"
        )
    return parts


def _real_dirs(base: Path, parts: Sequence[str]) -> Path:
    """Create `base/parts...` as real directories, refusing to pass through a symlink.

    A symlink on the way would mean the plan nests an output under a projected path; writing
    through it would write into a read-only install tree (invariant 3).
    """
    current = base
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise MaterializeError(
                f"cannot create {current}: it is already a symlink (a projected path), so the "
                f"plan nests an output under it; expected a real directory"
            )
        if not current.exists():
            current.mkdir()
            current.chmod(0o755)
        elif not current.is_dir():
            raise MaterializeError(f"cannot create directory {current}: a file is there")
    return current


def _symlink(base: Path, rel: str, target: Path, what: str) -> None:
    """A relative symlink `base/rel` -> `target`, with real parent directories."""
    parts = _check_rel(rel, what)
    parent = _real_dirs(base, parts[:-1])
    link = parent / parts[-1]
    if not os.path.lexists(target):
        raise MaterializeError(
            f"{what} `{rel}` points at {target}, which does not exist in the install tree; the "
            f"plan and the tree disagree"
        )
    if os.path.lexists(link):
        raise MaterializeError(f"{what} `{rel}` is written twice (or nests): {link} exists")
    os.symlink(os.path.relpath(target, parent), link)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _tree(trees: Mapping[str, InstallTree], label: str) -> InstallTree:
    try:
        return trees[label]
    except KeyError:
        raise MaterializeError(
            f"the plan names wheel `{label}` but no install tree was given for it; trees: "
            f"{', '.join(sorted(trees)) or '(none)'}"
        ) from None


def _site_packages(venv: Path, interpreter: Interpreter) -> Path:
    candidate = venv / "lib" / f"python{interpreter.short_version}" / "site-packages"
    if candidate.is_dir():
        return candidate
    found = sorted((venv / "lib").glob("python*/site-packages"))
    if len(found) == 1:
        return found[0]
    raise MaterializeError(
        f"virtualenv made {venv} but its site-packages is not at {candidate} (found: "
        f"{[str(p) for p in found]})"
    )


# --------------------------------------------------------------------------- the venv itself


def _prepare_out(out: Path, replace: bool) -> None:
    """Refuse a non-empty directory unless `replace`; then only remove something venv-shaped."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise MaterializeError(f"--out {out} exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return
    if not replace:
        raise MaterializeError(
            f"--out {out} exists and is not empty; expected a new or empty directory (pass "
            f"replace=True / --replace to remove the venv that is there)"
        )
    if not ((out / "pyvenv.cfg").exists() or (out / STATE_DIR).exists()):
        raise MaterializeError(
            f"refusing to replace {out}: it has neither pyvenv.cfg nor {STATE_DIR}/, so it is "
            f"not a venv this tool wrote; remove it yourself if it should go"
        )
    remove_venv(out)


def remove_venv(path: Path) -> None:
    """Delete a venv. Directories the materializer makes are writable, so no chmod is needed;
    none is ever attempted on files, because a merged file may share its inode with a tree."""
    shutil.rmtree(path)


def create_virtualenv(interpreter: Interpreter, out: Path) -> None:
    """virtualenv in-process: no seed packages, no network, no activators, no .gitignore.

    In-process `cli_run` takes a few ms per venv once virtualenv has queried the interpreter
    (about 0.1 s the first time per process); a subprocess pays ~0.2 s of startup every time.
    """
    import virtualenv  # deferred: ~70 ms to import, only venv writers need it

    args = [
        str(out),
        "--python",
        interpreter.executable,
        "--no-seed",
        "--no-periodic-update",
        "--no-vcs-ignore",
        "--activators",
        "",
        "--quiet",
    ]
    try:
        with _VIRTUALENV_LOCK:  # virtualenv keeps process-wide caches
            virtualenv.cli_run(args, setup_logging=False)
    except (RuntimeError, OSError, SystemExit) as exc:
        raise MaterializeError(
            f"virtualenv could not create {out} for {interpreter.executable}: {exc}"
        ) from exc


# --------------------------------------------------------------------------- .pth and scripts


def pth_line(fallback: Fallback, tree_site_packages: Path, site_packages: Path, venv: Path) -> str:
    """One engine `.pth` line (reference §2.4); every line is total (a raising line would abort
    the rest of the file).

    Known layout: a plain path relative to site-packages (`site` joins and normalises it).
    Unknown layout: `site.addsitedir` so the wheel's own root `.pth` files run, passing the
    enclosing `addpackage` frame's `known_paths` so each runs once and startup stays O(N); the
    path is joined to `sys.prefix`, which always exists, unlike `sitedir` outside `addpackage`.
    """
    if not fallback.addsitedir:
        return os.path.relpath(tree_site_packages, site_packages)
    from_prefix = os.path.relpath(tree_site_packages, venv)
    return (
        "import os, site, sys; site.addsitedir(os.path.normpath(os.path.join(sys.prefix, "
        f"{from_prefix!r})), vars().get('known_paths'))"
    )


def console_script_wrapper(name: str, module: str, attr: str) -> str:
    """A relocatable `bin/<name>`: `/bin/sh` re-executes the file with the `python` beside it.

    The first two lines are both a shell `exec` and a Python string literal, so the rest is
    plain Python (no shell quoting of names). It imports the module, resolves a dotted attribute
    path (`invoke.main:program.run`), sets `sys.argv[0]` to the script name and exits with the
    return value, as pip's wrappers do.
    """
    if not _DOTTED.match(module) or not _DOTTED.match(attr):
        raise MaterializeError(
            f"console script `{name}` = `{module}:{attr}`: expected a dotted module and a dotted "
            f"attribute path of Python identifiers"
        )
    return (
        "#!/bin/sh\n"
        '\'\'\'exec\' "$(dirname -- "$0")/python" "$0" "$@"\n'
        "' '''\n"
        f"# console script {name} -> {module}:{attr}, written by harness\n"
        "import importlib\n"
        "import sys\n"
        "\n"
        f"sys.argv[0] = {name!r}\n"
        f"target = importlib.import_module({module!r})\n"
        f"for attribute in {attr!r}.split('.'):\n"
        "    target = getattr(target, attribute)\n"
        "sys.exit(target())\n"
    )


def _write_console_scripts(
    bin_dir: Path, scripts: Sequence[tuple[str, str, str, str]], reserved: frozenset[str]
) -> None:
    for name, label, module, attr in scripts:
        if "/" in name or name in ("", ".", "..") or any(c in name for c in "\n\r\0"):
            raise MaterializeError(f"console script name {name!r} of {label} is not a file name")
        if name in reserved:
            raise MaterializeError(
                f"console script `{name}` of {label} would replace the venv's own bin/{name}"
            )
        path = bin_dir / name
        if path.is_symlink() or path.is_dir():
            raise MaterializeError(f"console script `{name}`: {path} is not a plain file")
        path.unlink(missing_ok=True)  # flat: a later wrapper replaces a copied script
        path.write_text(console_script_wrapper(name, module, attr))
        path.chmod(0o755)


# --------------------------------------------------------------------------- materialize


def materialize(
    plan: Plan,
    trees: Mapping[str, InstallTree],
    interpreter: Interpreter,
    out: Path,
    *,
    replace: bool = False,
    policy: str = "warning",
) -> Venv:
    """Write `plan` as a venv at `out` for `interpreter`; see the module docstring.

    `policy="error"` raises `PolicyError` after writing when a merge met a conflict (the venv
    stays for inspection); `flat` overwrites are the oracle's normal behaviour and never raise.
    """
    out = Path(os.path.abspath(out))
    for label in plan.wheels:
        _tree(trees, label)
    _prepare_out(out, replace)
    create_virtualenv(interpreter, out)
    venv = _real(out)
    site_packages = _site_packages(venv, interpreter)
    bin_dir = venv / "bin"
    reserved_bin = frozenset(p.name for p in bin_dir.iterdir())

    if plan.engine == "flat":
        owners, conflicts, notes = _write_flat(plan, trees, venv, site_packages, reserved_bin)
        scripts = _flat_console_scripts(plan, trees)
    else:
        owners, conflicts = _write_layout(plan, trees, venv, site_packages)
        notes, scripts = (), plan.console_scripts
    _write_console_scripts(bin_dir, scripts, reserved_bin)
    _write_state(plan, trees, interpreter, venv, site_packages, owners, conflicts)

    result = Venv(
        path=out,
        python=out / "bin" / "python",
        site_packages=out / site_packages.relative_to(venv),
        engine=plan.engine,
        owners=dict(sorted(owners.items())),
        merge_conflicts=tuple(conflicts),
        notes=tuple(notes),
    )
    if policy == "error" and conflicts and plan.engine != "flat":
        raise PolicyError(
            "merge conflicts under the `error` policy: "
            + " ".join(c.describe(result.site_packages) for c in conflicts)
        )
    return result


def _write_layout(
    plan: Plan, trees: Mapping[str, InstallTree], venv: Path, site_packages: Path
) -> tuple[dict[str, str], list[Conflict]]:
    """merge, whole-tree, pth: projections, merges, the engine .pth, data projections."""
    for path, label in plan.projections:
        target = _real(_tree(trees, label).site_packages) / path
        _symlink(site_packages, path, target, "projection")

    owners: dict[str, str] = {}
    conflicts: list[Conflict] = []
    for group in sorted(plan.merges, key=lambda g: g.root):
        parts = _check_rel(group.root, "merge root")
        into = _real_dirs(site_packages, parts[:-1]) / parts[-1]
        if os.path.lexists(into):
            raise MaterializeError(f"merge root `{group.root}` is written twice (or nests)")
        sources = [
            (label, _tree(trees, label).site_packages / group.root) for label in group.contributors
        ]
        try:
            merged = merge_tree(into, sources)
        except OSError as exc:
            raise MaterializeError(f"merging `{group.root}` into {into} failed: {exc}") from exc
        owners.update({f"{group.root}/{rel}": label for rel, label in merged.owners.items()})
        conflicts.extend(
            Conflict(f"{group.root}/{c.rel}", c.kind, c.previous, c.current)
            for c in merged.conflicts
        )

    lines = [
        pth_line(fallback, _real(_tree(trees, fallback.label).site_packages), site_packages, venv)
        for fallback in plan.fallbacks
    ]
    (site_packages / ENGINE_PTH).write_text("".join(line + "\n" for line in lines))

    for path, label in plan.data_projections:
        parts = _check_rel(path, "data file")
        if parts[0] in RESERVED_PREFIX_ROOTS:
            raise MaterializeError(
                f"data file `{path}` of {label} lies under `{parts[0]}`, which the venv owns; "
                f"the planner must not project it (reference §3.9)"
            )
        existing = venv.joinpath(*parts)
        if existing.is_dir() and not existing.is_symlink() and not any(existing.iterdir()):
            existing.rmdir()  # an empty directory virtualenv made (include/)
        _symlink(venv, path, _real(_tree(trees, label).data) / path, "data file")
    return owners, conflicts


def _write_flat(
    plan: Plan,
    trees: Mapping[str, InstallTree],
    venv: Path,
    site_packages: Path,
    reserved_bin: frozenset[str],
) -> tuple[dict[str, str], list[Conflict], list[str]]:
    """The pip-like oracle: overlay each wheel's tree in order, no links to trees at all."""
    superseded = set(plan.superseded)
    labels = [label for label in plan.wheels if label not in superseded]
    site_sources = [(label, _tree(trees, label).site_packages) for label in labels]
    merged = merge_tree(site_packages, site_sources)
    notes: list[str] = []

    script_sources = []
    for label in labels:
        scripts = _tree(trees, label).scripts
        if not scripts.is_dir():
            continue
        clashes = sorted(p.name for p in scripts.iterdir() if p.name in reserved_bin)
        if clashes:
            raise MaterializeError(
                f"{label} ships scripts {clashes} that would replace the venv's own bin/ entries"
            )
        script_sources.append((label, scripts))
    for conflict in merge_tree(venv / "bin", script_sources).conflicts:
        notes.append(conflict.describe(venv / "bin"))

    data_sources = []
    for label in labels:
        data = _tree(trees, label).data
        if not data.is_dir():
            continue
        taken = sorted(
            p.name for p in data.iterdir() if p.name in ("pyvenv.cfg", STATE_DIR)
        ) + sorted(p.name for p in (data / "bin").glob("*") if p.name in reserved_bin)
        if taken:
            raise MaterializeError(
                f"{label} ships data files {taken} that would replace the venv's own files"
            )
        data_sources.append((label, data))
    for conflict in merge_tree(venv, data_sources).conflicts:
        notes.append(conflict.describe(venv))
    return dict(merged.owners), list(merged.conflicts), notes


def _flat_console_scripts(
    plan: Plan, trees: Mapping[str, InstallTree]
) -> tuple[tuple[str, str, str, str], ...]:
    """pip's rule: each installed wheel writes the wrappers its `entry_points.txt` declares, in
    order, so the last one to declare a name wins. Read from the installed dist-info, as pip
    reads it from the wheel."""
    superseded = set(plan.superseded)
    scripts: dict[str, tuple[str, str, str, str]] = {}
    for label in plan.wheels:
        if label in superseded:
            continue
        for entry_points in sorted(
            _tree(trees, label).site_packages.glob("*.dist-info/entry_points.txt")
        ):
            for script in parse_console_scripts(entry_points.read_text(encoding="utf-8")):
                scripts[script.name] = (script.name, label, script.module, script.attr)
    return tuple(scripts[name] for name in sorted(scripts))


def _write_state(
    plan: Plan,
    trees: Mapping[str, InstallTree],
    interpreter: Interpreter,
    venv: Path,
    site_packages: Path,
    owners: Mapping[str, str],
    conflicts: Sequence[Conflict],
) -> None:
    """`.harness/plan.json` and `manifest.json`: everything `harness check VENV` needs, with
    tree roots relative to the venv so the pair can move."""
    state = venv / STATE_DIR
    state.mkdir()
    (state / "plan.json").write_text(plan.to_json())
    manifest = {
        "format": MANIFEST_FORMAT,
        "engine": plan.engine,
        "interpreter": to_plain(interpreter),
        "python": "bin/python",
        "site_packages": site_packages.relative_to(venv).as_posix(),
        "engine_pth": ENGINE_PTH if plan.engine != "flat" else None,
        "trees": {
            label: os.path.relpath(_real(_tree(trees, label).root), venv) for label in plan.wheels
        },
        "owners": dict(sorted(owners.items())),
        "merge_conflicts": [to_plain(c) for c in conflicts],
    }
    (state / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(venv: Path) -> dict:
    """The manifest of a written venv, with `trees` resolved to absolute paths."""
    path = Path(venv) / STATE_DIR / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MaterializeError(f"{venv} has no readable {STATE_DIR}/manifest.json: {exc}") from exc
    manifest["trees"] = {
        label: os.path.normpath(os.path.join(os.path.realpath(venv), rel))
        for label, rel in manifest["trees"].items()
    }
    return manifest


__all__ = [
    "ENGINE_PTH",
    "RESERVED_PREFIX_ROOTS",
    "STATE_DIR",
    "Venv",
    "console_script_wrapper",
    "create_virtualenv",
    "materialize",
    "pth_line",
    "read_manifest",
    "remove_venv",
]
