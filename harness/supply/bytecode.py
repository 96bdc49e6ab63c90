"""Bytecode for install trees, compiled on purpose, once per tree and target interpreter.

An installer (pip, installer, uv with `--compile-bytecode`) compiles a wheel's modules when it
installs them, so a venv never writes at run time. Install trees are shared by every venv and
every interpreter, so this module does the same for them, once per (tree, interpreter cache
tag), under the tree's lock, and nothing else ever writes bytecode into a tree:

* **where**: in the tree's own `__pycache__` directories, next to the sources, exactly where the
  import system looks (`importlib.util.cache_from_source`). A symlinked package, a `.pth` line to
  the tree and a moved venv-with-its-trees all find it with no configuration; a physically merged
  directory links (or copies) it with its source (`harness.engine.merge`). One tree serves many
  interpreters because each file carries its cache tag (`mod.cpython-311.pyc`,
  `mod.cpython-313.pyc`), as a shared system site-packages does. A `sys.pycache_prefix` store
  was rejected: it is process-wide, keyed by absolute source paths (so it breaks when a venv
  moves) and needs the environment or a start-up hook in every venv.
* **how**: `py_compile` in the target interpreter itself (its magic number and marshal format),
  with `PycInvalidationMode.UNCHECKED_HASH`: the pyc holds the source's hash, not its mtime, so
  the bytes do not depend on when the tree was unpacked, a copy keeps it valid, and the import
  system never reads the source again to check it. CHECKED_HASH would re-read and hash every
  imported source at every start-up (it costs start-up time against the flat install, whose
  timestamp pycs need one stat); the source cannot change under an unchecked pyc because trees
  are read-only and `harness cache verify` re-hashes every source against RECORD and every pyc
  against the manifest below. Each module's code object is named by its path relative to
  site-packages (`dfile`), so the bytes do not depend on where the cache lives either (the
  import system rewrites `co_filename` to the real location at load time), and the compiler
  runs with `PYTHONHASHSEED=0` so set/frozenset constants marshal in one order.
* **what**: every `.py` file RECORD routes to site-packages, outside `*.dist-info`/`__pycache__`;
  a source the interpreter cannot compile (Python 2 syntax, a newer grammar) is listed as failed
  (its import fails the same way at run time, without writing anything); a source whose pyc
  path the wheel itself ships is left alone (listed as shipped).
* **proof**: `<tree>/.bytecode/<cache tag>.json` lists every pyc written, with its sha256; it is
  written last, atomically, so its presence means the whole tree is compiled for that tag.
  Compilation happens in a private directory under `<trees>/tmp/` and each pyc is renamed into
  place, so no reader ever sees a partial file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.logs import lazy_logger
from harness.model import InstallTree, Interpreter
from harness.supply.digests import file_sha256
from harness.supply.trees import tree_lock
from harness.supply.wheel import site_files

log = lazy_logger("harness.supply.bytecode")

BYTECODE_DIR = ".bytecode"  # <tree>/.bytecode/<cache tag>.json
MANIFEST_FORMAT = "harness-tree-bytecode 1"
INVALIDATION_MODE = "unchecked-hash"
_SKIPPED_SEGMENTS = ("__pycache__",)

# Runs inside the target interpreter (3.8+, stdlib only): compile each job to a private file.
_COMPILER = r"""
import importlib.util, json, py_compile, sys
request = json.load(sys.stdin)
if sys.implementation.cache_tag != request["tag"]:
    print(json.dumps({"tag": sys.implementation.cache_tag}))
    sys.exit(3)
results = []
for source, dfile, out in request["jobs"]:
    try:
        py_compile.compile(source, cfile=out, dfile=dfile, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        results.append(None)
    except py_compile.PyCompileError as exc:
        results.append("%s: %s" % (exc.exc_type_name, str(exc.exc_value).strip()))
    except (OSError, ValueError, UnicodeError) as exc:
        results.append("%s: %s" % (type(exc).__name__, exc))
print(json.dumps({"tag": sys.implementation.cache_tag,
                  "magic": importlib.util.MAGIC_NUMBER.hex(),
                  "version": ".".join(map(str, sys.version_info[:3])),
                  "results": results}))
"""


class BytecodeError(HarnessError):
    """The target interpreter could not be asked to compile a tree."""


@dataclass(frozen=True)
class TreeBytecode:
    """What `compile_trees` wrote into one tree for one cache tag (the manifest's content).

    Paths are relative to the tree root (`site-packages/pkg/__pycache__/m.cpython-311.pyc`).
    """

    cache_tag: str
    magic: str
    python: str  # the version that compiled it
    files: Mapping[str, str] = field(hash=False)  # pyc path -> sha256
    failed: Mapping[str, str] = field(hash=False)  # source path -> why it did not compile
    shipped: tuple[str, ...] = ()  # sources whose pyc path the wheel ships itself

    def site_paths(self) -> tuple[str, ...]:
        """The pyc files relative to site-packages, sorted."""
        prefix = "site-packages/"
        return tuple(sorted(p[len(prefix) :] for p in self.files if p.startswith(prefix)))

    def to_json(self) -> str:
        doc = {
            "format": MANIFEST_FORMAT,
            "cache_tag": self.cache_tag,
            "magic": self.magic,
            "python": self.python,
            "invalidation_mode": INVALIDATION_MODE,
            "files": dict(sorted(self.files.items())),
            "failed": dict(sorted(self.failed.items())),
            "shipped": sorted(self.shipped),
        }
        return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def cache_tag(interpreter: Interpreter) -> str:
    """`sys.implementation.cache_tag` of a CPython target (`cpython-311`), from its version.

    The compiler checks it against the interpreter's own answer before writing anything.
    """
    return f"{interpreter.implementation}-{interpreter.version[0]}{interpreter.version[1]}"


def manifest_path(root: Path, tag: str) -> Path:
    return Path(root) / BYTECODE_DIR / f"{tag}.json"


def manifest_tags(root: Path) -> list[str]:
    """Every cache tag a tree is compiled for (its manifests' names), sorted."""
    directory = Path(root) / BYTECODE_DIR
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(n[: -len(".json")] for n in names if n.endswith(".json"))


# manifest path -> (inode, size, mtime_ns, ctime_ns) when read, and what it held
_manifests_read: dict[str, tuple[tuple[int, int, int, int], TreeBytecode]] = {}


def _read_manifest_once(root: Path, tag: str) -> TreeBytecode | None:
    """`read_manifest`, remembered in this process while the file is the one it read (a
    manifest is replaced, never edited in place; an edit would move its ctime anyway)."""
    path = manifest_path(root, tag)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return read_manifest(root, tag)  # let it report the problem
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    known = _manifests_read.get(str(path))
    if known is not None and known[0] == stamp:
        return known[1]
    manifest = read_manifest(root, tag)
    if manifest is not None:
        _manifests_read[str(path)] = (stamp, manifest)
    return manifest


def read_manifest(root: Path, tag: str) -> TreeBytecode | None:
    """The bytecode manifest of a tree for `tag`, or None when the tree is not compiled for it."""
    path = manifest_path(root, tag)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BytecodeError(f"unreadable bytecode manifest {path}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise BytecodeError(
            f"bytecode manifest {path} is not in the format {MANIFEST_FORMAT!r}; the tree was "
            "compiled by another harness version (remove the tree to rebuild it)"
        )
    return TreeBytecode(
        cache_tag=doc["cache_tag"],
        magic=doc["magic"],
        python=doc["python"],
        files=dict(doc["files"]),
        failed=dict(doc["failed"]),
        shipped=tuple(doc["shipped"]),
    )


def pyc_path(source: str, tag: str) -> str:
    """`importlib.util.cache_from_source` for a POSIX relative path, at optimization level 0."""
    directory, _, name = source.rpartition("/")
    stem = name[: -len(".py")]
    cached = f"__pycache__/{stem}.{tag}.pyc"
    return f"{directory}/{cached}" if directory else cached


def sources_to_compile(site: Sequence[str]) -> list[str]:
    """The site-packages `.py` files an installer compiles: not in metadata or `__pycache__`."""
    out = []
    for path in site:
        if not path.endswith(".py"):
            continue
        segments = path.split("/")
        if any(s in _SKIPPED_SEGMENTS for s in segments[:-1]):
            continue
        if segments[0].endswith((".dist-info", ".egg-info")):
            continue
        out.append(path)
    return out


def compile_trees(
    trees: Iterable[InstallTree], interpreter: Interpreter, *, timeout: float = 1800
) -> dict[Path, TreeBytecode | None]:
    """Compile every tree for `interpreter`'s cache tag, once: tree root -> its manifest.

    Trees already compiled for the tag cost one small file read (a stat, when this process read
    the same manifest file before: `assemble` asks once to prepare, once to materialize). The
    others are locked (sorted by path, so two processes never wait on each other in opposite
    orders), checked again, and compiled together in one run of the target interpreter. None
    for a tree this process may not write (a cache owned by another user): its venvs then run
    without bytecode, and the interpreter cannot write any either.
    """
    tag = cache_tag(interpreter)
    roots = sorted({Path(t.root) for t in trees})
    result: dict[Path, TreeBytecode | None] = {}
    todo = []
    for root in roots:
        manifest = _read_manifest_once(root, tag)
        if manifest is None:
            todo.append(root)
        else:
            result[root] = manifest
    if not todo:
        return result
    with contextlib.ExitStack() as stack:
        for root in todo:
            stack.enter_context(
                tree_lock(root.parent, root.name, holder=f"compiling {root}", error=BytecodeError)
            )
        still = []
        for root in todo:
            manifest = read_manifest(root, tag)  # a peer may have compiled it while we waited
            if manifest is None:
                still.append(root)
            else:
                result[root] = manifest
        if still:
            result.update(_compile_locked(still, interpreter, tag, timeout))
    return result


def _compile_locked(
    roots: Sequence[Path], interpreter: Interpreter, tag: str, timeout: float
) -> dict[Path, TreeBytecode | None]:
    jobs: list[tuple[Path, str, str]] = []  # (tree root, source rel to site-packages, pyc rel)
    shipped: dict[Path, list[str]] = {}
    for root in roots:
        site = site_files(root)
        present = set(site)
        for source in sources_to_compile(site):
            target = pyc_path(source, tag)
            if target in present:
                shipped.setdefault(root, []).append(f"site-packages/{source}")
                continue
            jobs.append((root, source, target))
    tmp_parent = roots[0].parent / "tmp"
    tmp_parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"bytecode-{tag}-", dir=tmp_parent))
    try:
        answer = _run_compiler(interpreter, tag, jobs, workdir, timeout)
        return _install(roots, jobs, shipped, answer, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        with contextlib.suppress(OSError):
            tmp_parent.rmdir()  # only when empty: a peer may be building there


def _run_compiler(
    interpreter: Interpreter,
    tag: str,
    jobs: Sequence[tuple[Path, str, str]],
    workdir: Path,
    timeout: float,
) -> dict:
    request = {
        "tag": tag,
        "jobs": [
            [str(root / "site-packages" / source), source, str(workdir / f"{index}.pyc")]
            for index, (root, source, _target) in enumerate(jobs)
        ],
    }
    # -s: no user site; -B: the compiler's own imports write nothing. Not -E/-I: they would
    # drop PYTHONHASHSEED, which fixes the marshal order of set constants. The environment is
    # built from nothing, and the working directory is the private one (it is sys.path[0]).
    env = {"PATH": os.environ.get("PATH", os.defpath), "PYTHONHASHSEED": "0"}
    import subprocess  # only a tree not yet compiled for this interpreter needs it

    try:
        done = subprocess.run(
            [interpreter.executable, "-s", "-B", "-c", _COMPILER],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=workdir,
            env=env,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BytecodeError(
            f"could not compile {len(jobs)} modules with {interpreter.executable}: {exc}"
        ) from exc
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        answer = None
    if done.returncode == 3 and isinstance(answer, dict):
        raise BytecodeError(
            f"{interpreter.executable} has the cache tag {answer.get('tag')!r}, expected "
            f"{tag!r}; its bytecode would not be found under the name compiled for it"
        )
    if done.returncode != 0 or not isinstance(answer, dict) or "results" not in answer:
        raise BytecodeError(
            f"compiling {len(jobs)} modules with {interpreter.executable} failed (exit status "
            f"{done.returncode}): {done.stderr.strip()[-800:]}"
        )
    if len(answer["results"]) != len(jobs):
        raise BytecodeError(
            f"{interpreter.executable} answered for {len(answer['results'])} of {len(jobs)} modules"
        )
    return answer


def _install(
    roots: Sequence[Path],
    jobs: Sequence[tuple[Path, str, str]],
    shipped: Mapping[Path, list[str]],
    answer: dict,
    workdir: Path,
) -> dict[Path, TreeBytecode | None]:
    """Rename each pyc into its tree, then write each tree's manifest (last: the commit)."""
    files: dict[Path, dict[str, str]] = {root: {} for root in roots}
    failed: dict[Path, dict[str, str]] = {root: {} for root in roots}
    for index, ((root, source, target), error) in enumerate(
        zip(jobs, answer["results"], strict=True)
    ):
        if error is not None:
            failed[root][f"site-packages/{source}"] = error
            continue
        files[root][f"site-packages/{target}"] = file_sha256(workdir / f"{index}.pyc")
    out: dict[Path, TreeBytecode | None] = {}
    for root in roots:
        manifest = TreeBytecode(
            cache_tag=answer["tag"],
            magic=answer["magic"],
            python=answer["version"],
            files=files[root],
            failed=failed[root],
            shipped=tuple(shipped.get(root, ())),
        )
        sources = {
            rel: workdir / f"{index}.pyc"
            for index, (job_root, _source, target) in enumerate(jobs)
            if job_root == root and (rel := f"site-packages/{target}") in files[root]
        }
        try:
            with _writable(root) as opened:
                for rel, built in sorted(sources.items()):
                    destination = root / rel
                    opened(destination.parent.parent)
                    if not destination.parent.is_dir():
                        destination.parent.mkdir()
                    opened(destination.parent)
                    os.chmod(built, 0o444)
                    os.replace(built, destination)
                opened(root)
                (root / BYTECODE_DIR).mkdir(exist_ok=True)
                opened(root / BYTECODE_DIR)
                path = manifest_path(root, manifest.cache_tag)
                partial = path.with_name(path.name + ".part")
                partial.write_text(manifest.to_json(), encoding="utf-8")
                os.chmod(partial, 0o444)
                os.replace(partial, path)
        except PermissionError as exc:
            log.warning(
                "cannot write bytecode into the install tree %s (%s): its venvs run without "
                "bytecode for %s",
                root,
                exc,
                manifest.cache_tag,
            )
            out[root] = None
            continue
        out[root] = manifest
    return out


@contextlib.contextmanager
def _writable(root: Path) -> Iterator:
    """`opened(directory)` makes a tree directory writable until the block ends, then every
    opened directory is read-only again (0o555), even when the block fails."""
    opened: list[Path] = []

    def open_dir(directory: Path) -> None:
        if directory in opened or not directory.is_dir():
            return
        os.chmod(directory, 0o755)
        opened.append(directory)

    try:
        yield open_dir
    finally:
        for directory in reversed(opened):
            with contextlib.suppress(OSError):
                os.chmod(directory, 0o555)


def compiled_site_paths(root: Path, tag: str) -> tuple[str, ...]:
    """The pyc files (relative to site-packages) compiled into a tree for `tag`, or ()."""
    manifest = read_manifest(root, tag)
    return manifest.site_paths() if manifest else ()


__all__ = [
    "BYTECODE_DIR",
    "INVALIDATION_MODE",
    "BytecodeError",
    "TreeBytecode",
    "cache_tag",
    "compile_trees",
    "compiled_site_paths",
    "manifest_path",
    "manifest_tags",
    "pyc_path",
    "read_manifest",
    "sources_to_compile",
]
