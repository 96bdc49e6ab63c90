"""Write a `Plan` as a real venv (engine-contract.md §2).

The materializer decides nothing: every path it writes is in the plan, which has already
refused what the venv owns (data files under `bin`, `lib`, `pyvenv.cfg`, `CACHEDIR.TAG` or
`.harness`, console scripts named like `bin/python*`); what it finds there anyway is an error,
never a choice. It creates the venv with virtualenv for the target interpreter, then writes,
inside site-packages, relative symlinks for projections (with real parent directories without
`__init__.py`), physically merged directories (`harness.engine.merge`) and the engine `.pth`
file; under the prefix, `bin/` console script wrappers and `.data/data` projections; and under
`<venv>/.harness/` the plan and a manifest so a later `harness check VENV` can re-read
everything.

Every link is relative and computed between real paths, so the install trees and the venv can
move together. Install trees are never written to by the venv: links point at them, merges link
or copy the files each tree's RECORD lists into real directories the materializer owns (0o755),
so the venv can be deleted with a plain `shutil.rmtree` even though merged hard links share
read-only inodes with the trees. Before any of that, every tree the plan uses is compiled for
the target interpreter, once (`harness.supply.bytecode`, under the tree's lock), so neither the venv's
start-up nor its imports ever need to write bytecode; merged directories carry that bytecode
with their sources.

The `flat` engine (the oracle) is not written here: `harness.oracle.install_flat` installs the
wheel files with pypa/installer, so a bug in this module or in `merge_tree` cannot move the
oracle the engine is judged against. `materialize` refuses a flat plan.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.engine.plan_scripts import script_problem
from harness.errors import MaterializeError
from harness.model import RESERVED_PREFIX_ROOTS, Fallback, InstallTree, Interpreter, Plan, to_plain
from harness.supply.bytecode import TreeBytecode, compile_trees
from harness.supply.venvs import STATE_DIR, create_virtualenv, site_packages_of
from harness.supply.wheel import site_files

if TYPE_CHECKING:
    from harness.engine.merge import Conflict, MergeResult, MergeSource

ENGINE_PTH = "_harness_engine.pth"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Venv:
    """A written venv. `owners` maps a site-packages relpath of every real file a merge (or the
    flat oracle, `harness.oracle`) wrote to the label that supplied it (symlinked paths are
    owned by their target's tree, so they are not listed)."""

    path: Path
    python: Path  # <venv>/bin/python
    site_packages: Path
    engine: str
    owners: Mapping[str, str] = field(default_factory=dict, hash=False)
    merge_conflicts: tuple[Conflict, ...] = ()  # rel is site-packages relative
    notes: tuple[str, ...] = ()  # flat: what pip would warn about (overwrites, uninstalls)


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


# --------------------------------------------------------------------------- the venv itself


def prepare_out(out: Path, replace: bool) -> None:
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


# --------------------------------------------------------------------------- .pth and scripts


def pth_line(fallback: Fallback, tree_site_packages: Path, site_packages: Path, venv: Path) -> str:
    """One engine `.pth` line (engine-contract.md §2.4); every line is total (a raising line
    would abort the rest of the file).

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
    # The planner refuses these (engine-contract.md §3.8); a wrapper is never written for one.
    problem = script_problem(name, module, attr)
    if problem is not None:
        raise MaterializeError(problem)
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


def _write_console_scripts(bin_dir: Path, scripts: Sequence[tuple[str, str, str, str]]) -> None:
    """One wrapper per script the plan resolved (engine-contract.md §3.8). The plan refused the
    names the venv owns; one that is there anyway is never replaced."""
    for name, label, module, attr in scripts:
        wrapper = console_script_wrapper(name, module, attr)
        path = bin_dir / name
        if os.path.lexists(path):
            raise MaterializeError(
                f"console script `{name}` of {label} would replace the venv's own bin/{name}; "
                "the plan should have refused it (console-script-reserved)"
            )
        path.write_text(wrapper)
        path.chmod(0o755)


# --------------------------------------------------------------------------- materialize


def materialize(
    plan: Plan,
    trees: Mapping[str, InstallTree],
    interpreter: Interpreter,
    out: Path,
    *,
    replace: bool = False,
) -> Venv:
    """Write `plan` as a venv at `out` for `interpreter`; see the module docstring.

    Merge conflicts are recorded in the result, not judged: the policy is applied to them by
    `harness.engine.policy.enforce_on_venv`. A `flat` plan is refused: the oracle is
    `harness.oracle.install_flat` (`assemble(engine="flat")` calls it), never this engine's code.
    """
    if plan.engine == "flat":
        raise MaterializeError(
            "materialize does not write the `flat` oracle: harness.oracle.install_flat installs "
            "the wheel files, independently of the engine (use assemble(..., engine='flat'))"
        )
    out = Path(os.path.abspath(out))
    for label in plan.wheels:
        _tree(trees, label)
    prepare_out(out, replace)
    bytecode = compile_trees([_tree(trees, label) for label in plan.wheels], interpreter)
    create_virtualenv(interpreter, out)
    venv = _real(out)
    site_packages = site_packages_of(venv, interpreter)

    owners, conflicts = _write_layout(plan, trees, venv, site_packages, bytecode)
    _write_console_scripts(venv / "bin", plan.console_scripts)
    write_state(plan, trees, interpreter, venv, site_packages, owners, conflicts)

    return Venv(
        path=out,
        python=out / "bin" / "python",
        site_packages=out / site_packages.relative_to(venv),
        engine=plan.engine,
        owners=dict(sorted(owners.items())),
        merge_conflicts=tuple(conflicts),
    )


def merge_tree(into: Path, sources: Sequence[MergeSource]) -> MergeResult:
    """`harness.engine.merge.merge_tree`, imported when a plan has a merge: most venvs have
    none, and a warm `harness assemble` should not pay for loading code it does not run."""
    from harness.engine import merge

    return merge.merge_tree(into, sources)


def merge_source(
    label: str, tree: InstallTree, root: str, bytecode: TreeBytecode | None
) -> MergeSource:
    """What `label` contributes to the merge of `root`: the files its RECORD lists under it and
    the bytecode compiled for the target interpreter, never a walk of the live tree."""
    from harness.engine.merge import MergeSource

    prefix = root + "/"
    files = [p[len(prefix) :] for p in site_files(tree.root) if p.startswith(prefix)]
    compiled = [
        p[len(prefix) :]
        for p in (bytecode.site_paths() if bytecode else ())
        if p.startswith(prefix)
    ]
    return MergeSource(
        label, tree.site_packages / root, tuple(files + compiled), frozenset(compiled)
    )


def _write_layout(
    plan: Plan,
    trees: Mapping[str, InstallTree],
    venv: Path,
    site_packages: Path,
    bytecode: Mapping[Path, TreeBytecode | None],
) -> tuple[dict[str, str], list[Conflict]]:
    """merge, whole-tree, pth: projections, merges, the engine .pth, data projections."""
    real_site: dict[str, Path] = {}  # label -> its tree's real site-packages (one realpath each)

    def tree_site(label: str) -> Path:
        if label not in real_site:
            real_site[label] = _real(_tree(trees, label).site_packages)
        return real_site[label]

    for path, label in plan.projections:
        _symlink(site_packages, path, tree_site(label) / path, "projection")

    owners: dict[str, str] = {}
    conflicts: list[Conflict] = []
    if plan.merges:
        from harness.engine.merge import Conflict
    for group in sorted(plan.merges, key=lambda g: g.root):
        parts = _check_rel(group.root, "merge root")
        into = _real_dirs(site_packages, parts[:-1]) / parts[-1]
        if os.path.lexists(into):
            raise MaterializeError(f"merge root `{group.root}` is written twice (or nests)")
        sources = [
            merge_source(
                label,
                _tree(trees, label),
                group.root,
                bytecode.get(Path(_tree(trees, label).root)),
            )
            for label in group.contributors
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
        pth_line(fallback, tree_site(fallback.label), site_packages, venv)
        for fallback in plan.fallbacks
    ]
    (site_packages / ENGINE_PTH).write_text("".join(line + "\n" for line in lines))

    for path, label in plan.data_projections:
        parts = _check_rel(path, "data file")
        if parts[0] in RESERVED_PREFIX_ROOTS:  # the plan refuses these (data-reserved)
            raise MaterializeError(
                f"data file `{path}` of {label} lies under `{parts[0]}`, which the venv owns; "
                f"the planner must not project it (engine-contract.md §2.6)"
            )
        existing = venv.joinpath(*parts)
        if existing.is_dir() and not existing.is_symlink() and not any(existing.iterdir()):
            existing.rmdir()  # an empty directory virtualenv made (include/)
        _symlink(venv, path, _real(_tree(trees, label).data) / path, "data file")
    return owners, conflicts


def write_state(
    plan: Plan,
    trees: Mapping[str, InstallTree],
    interpreter: Interpreter,
    venv: Path,
    site_packages: Path,
    owners: Mapping[str, str],
    conflicts: Sequence[Conflict],
) -> None:
    """`.harness/plan.json` and `manifest.json`: everything `harness check VENV` needs, with
    tree roots relative to the venv so the pair can move. `assemble` also writes them for the
    flat oracle's venv (with the oracle's owners and no conflicts)."""
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
    "prepare_out",
    "pth_line",
    "read_manifest",
    "remove_venv",
    "write_state",
]
