"""The runtime probe: asks a venv's own interpreter where every module really comes from.

Run as a SCRIPT by the target interpreter (never imported into it):

    <venv>/bin/python -E -s -B probe.py < request.json > report.json

Standard library only, and valid on CPython 3.8 to 3.13 (hence no 3.9+ syntax at run time and
quoted annotations). The request and report schema is documented in docs/probe-schema.md.

One file on purpose, though longer than the ~500 lines other harness modules keep to: the
target interpreter runs it by path (`harness.observe.runtime.PROBE_SCRIPT`), and a second file could
only be imported as a top-level module of the interpreter under test, where it would sit in
`sys.modules` (and so in the report) and could shadow a module of the venv by the same name.
Its sections (resolve mode, import mode, console scripts, bytecode, environment) keep each
function short instead.

Two modes per module:

- *resolve* emulates the path finder without executing package code: builtin and frozen
  importers, then every path entry's finder (from `sys.path_hooks` / `sys.path_importer_cache`)
  for top-levels over `sys.path`, for submodules over the parent's search locations (computed
  the same way, cached). A name already in `sys.modules` (put there at start-up, e.g. by a `.pth`
  import line) is reported from that module object, because a real import would return it.
- *import* runs `importlib.import_module` for the names a case marks.

Console scripts (`scripts`) are resolved through their own code without being run: the script's
source is parsed, its final `sys.exit(TARGET())` (or `raise SystemExit(TARGET())`) becomes
"capture TARGET and stop", and the rest runs as written, so whatever the wrapper does to find
its entry point (import the module, walk a dotted attribute) happens for real and only the call
is left out. Package code of the entry point's module runs (it is imported).

Package code may print: file descriptor 1 is pointed at stderr while the probe runs, and the
report goes to a saved duplicate of the original stdout. The probe ends with `os._exit` after
flushing, so threads or atexit hooks started by imported packages cannot hang or alter it.
"""

import sys

# First statement after `import sys`: what start-up (site, .pth import lines) already imported.
MODULES_AT_START = sorted(sys.modules)

import ast  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import importlib.machinery  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402

SCHEMA_VERSION = 1
_REQUEST_KEYS = (
    "resolve",
    "import",
    "env",
    "distributions",
    "resolve_after_import",
    "scripts",
    "bytecode",
)
_NOT_FOUND = "not-found"
_STARTUP_MODULES = frozenset(MODULES_AT_START)

_realpath_cache = {}  # type: dict


def realpath(path: "str | None") -> "str | None":
    """`os.path.realpath`, memoized: thousands of modules share a few directories."""
    if path is None:
        return None
    try:
        return _realpath_cache[path]
    except KeyError:
        value = os.path.realpath(path)
        _realpath_cache[path] = value
        return value


def normalize_name(name: str) -> str:
    """PEP 503 normalization, so `Foo_Bar` and `foo-bar` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _error(exc: BaseException) -> "dict":
    return {"type": type(exc).__name__, "message": str(exc)}


def _qualname(obj: object) -> str:
    """A finder or loader as `module.Class` (classes in meta_path are their own name)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return "{}.{}".format(cls.__module__, getattr(cls, "__qualname__", cls.__name__))


def _is_extension(spec: object, origin: "str | None") -> bool:
    if isinstance(getattr(spec, "loader", None), importlib.machinery.ExtensionFileLoader):
        return True
    return bool(origin) and origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def classify(spec: object) -> str:
    """The kind of a found spec: namespace, builtin, frozen, package, extension or module."""
    origin = getattr(spec, "origin", None)
    locations = getattr(spec, "submodule_search_locations", None)
    loader = getattr(spec, "loader", None)
    if locations is not None and origin in (None, "namespace"):
        return "namespace"
    if origin == "built-in" or loader is importlib.machinery.BuiltinImporter:
        return "builtin"
    if origin == "frozen" or loader is importlib.machinery.FrozenImporter:
        return "frozen"
    if locations is not None:
        return "package"
    if _is_extension(spec, origin):
        return "extension"
    return "module"


def _record(name: str, mode: str, status: str, **fields: object) -> "dict":
    record = {
        "name": name,
        "mode": mode,
        "status": status,
        "kind": None,
        "origin": None,
        "origin_realpath": None,
        "file": None,
        "loader": None,
        "search_locations": None,
        "search_locations_realpaths": None,
        "preloaded": False,
        "error": None,
    }
    record.update(fields)
    return record


def _found_record(
    name: str,
    mode: str,
    kind: str,
    spec: object,
    locations: object,
    file: "str | None",
    preloaded: bool,
) -> "dict":
    origin = getattr(spec, "origin", None) if spec is not None else None
    if origin is None and spec is None and file:
        # a module object that replaced itself in sys.modules (a deprecation wrapper, say)
        # may drop __spec__ but keeps __file__: the file is still where it came from
        origin = file
    has_location = kind in ("module", "extension", "package") and origin is not None
    search = None if locations is None else [str(p) for p in locations]
    return _record(
        name,
        mode,
        "found",
        kind=kind,
        origin=origin,
        origin_realpath=realpath(origin) if has_location else None,
        file=file,
        loader=_qualname(spec.loader) if getattr(spec, "loader", None) is not None else None,
        search_locations=search,
        search_locations_realpaths=None if search is None else [realpath(p) for p in search],
        preloaded=preloaded,
    )


def _module_record(name: str, mode: str, module: object, preloaded: bool) -> "dict":
    """Describe an imported module object from its spec and attributes."""
    spec = getattr(module, "__spec__", None)
    locations = getattr(module, "__path__", None)
    file = getattr(module, "__file__", None)
    if spec is not None:
        kind = classify(spec)
    elif locations is not None:
        kind = "package" if file else "namespace"
    elif file and os.path.basename(file).split(".", 1)[-1] not in ("py", "pyc"):
        kind = "extension"
    else:
        kind = "module"
    if locations is not None:
        locations = list(locations)
    return _found_record(name, mode, kind, spec, locations, file, preloaded)


def _not_found(name: str, mode: str, missing: str) -> "dict":
    message = "No module named {!r}".format(missing)
    return _record(
        name, mode, _NOT_FOUND, error={"type": "ModuleNotFoundError", "message": message}
    )


def _invalid(name: object) -> "str | None":
    if not isinstance(name, str) or not name:
        return "module name must be a non-empty string, got {!r}".format(name)
    if any(not part for part in name.split(".")):
        return "module name {!r} has an empty segment (relative names are not resolvable)".format(
            name
        )
    return None


# --------------------------------------------------------------------------- resolve mode


def _path_finder(entry: str) -> object:
    """The finder for one path entry, exactly as PathFinder picks (and caches) it."""
    try:
        return sys.path_importer_cache[entry]
    except KeyError:
        pass
    finder = None
    for hook in sys.path_hooks:
        try:
            finder = hook(entry)
            break
        except ImportError:
            continue
    sys.path_importer_cache[entry] = finder
    return finder


def _entry_spec(finder: object, fullname: str) -> object:
    """`finder.find_spec`, or the legacy `find_loader` protocol (zipimporter before 3.10)."""
    find_spec = getattr(finder, "find_spec", None)
    if find_spec is not None:
        return find_spec(fullname)
    find_loader = getattr(finder, "find_loader", None)
    if find_loader is None:
        return None
    loader, portions = find_loader(fullname)
    if loader is not None:
        return importlib.util.spec_from_loader(fullname, loader)
    spec = importlib.machinery.ModuleSpec(fullname, None)
    spec.submodule_search_locations = list(portions or [])
    return spec


def find_in_path(fullname: str, path: "list") -> "tuple":
    """PathFinder's scan (`_get_spec`) over `path`: (spec, namespace portions).

    A loader-bearing spec returns at once (regular package, module, extension); bare directories
    are collected as namespace portions and the scan continues (PEP 420). Unlike
    `PathFinder.find_spec`, no `_NamespacePath` is built, because that reads the parent from
    `sys.modules`, which resolve mode never populates.
    """
    portions = []
    for entry in path:
        if not isinstance(entry, str):
            continue
        finder = _path_finder(entry)
        if finder is None:
            continue
        spec = _entry_spec(finder, fullname)
        if spec is None:
            continue
        if spec.loader is not None:
            return spec, None
        portions.extend(spec.submodule_search_locations or [])
    return None, portions


class Resolver:
    """Resolve dotted names without executing package code; parents are cached."""

    def __init__(self, use_imported: bool = False) -> None:
        self._results = {}  # type: dict
        # After real imports, a package in sys.modules is taken as imported: its real
        # __path__ (which pkgutil.extend_path may have rewritten) decides its children.
        self._use_imported = use_imported

    def resolve(self, name: str) -> "dict":
        """The resolve-mode record for `name` (its internal `_locations` kept for children)."""
        cached = self._results.get(name)
        if cached is None:
            cached = self._resolve(name)
            self._results[name] = cached
        return cached

    def _resolve(self, name: str) -> "dict":
        invalid = _invalid(name)
        if invalid:
            return _record(
                name, "resolve", "error", error={"type": "ValueError", "message": invalid}
            )
        if name in _STARTUP_MODULES or (self._use_imported and name in sys.modules):
            # a real import would return this very object
            module = sys.modules.get(name)
            if module is not None:
                return _module_record(name, "resolve", module, preloaded=True)
        parent_name, _, _ = name.rpartition(".")
        try:
            if not parent_name:
                for importer in (
                    importlib.machinery.BuiltinImporter,
                    importlib.machinery.FrozenImporter,
                ):
                    spec = importer.find_spec(name)
                    if spec is not None:
                        return _found_record(
                            name, "resolve", classify(spec), spec, None, None, False
                        )
                return self._from_path(name, list(sys.path), name)
            parent = self.resolve(parent_name)
            if parent["status"] == _NOT_FOUND:
                return _record(name, "resolve", _NOT_FOUND, error=parent["error"])
            if parent["status"] != "found":
                return _record(name, "resolve", "error", error=parent["error"])
            locations = parent["search_locations"]
            if locations is None:
                message = "No module named {!r}; {!r} is not a package".format(name, parent_name)
                return _record(
                    name,
                    "resolve",
                    "error",
                    error={"type": "ModuleNotFoundError", "message": message},
                )
            spec = importlib.machinery.FrozenImporter.find_spec(name, locations)
            if spec is not None:
                return _found_record(name, "resolve", classify(spec), spec, None, None, False)
            return self._from_path(name, locations, name)
        except Exception as exc:  # a broken path hook or unreadable directory
            return _record(name, "resolve", "error", error=_error(exc))

    def _from_path(self, name: str, path: "list", missing: str) -> "dict":
        spec, portions = find_in_path(name, path)
        if spec is None:
            if not portions:
                return _not_found(name, "resolve", missing)
            namespace = importlib.machinery.ModuleSpec(name, None)
            namespace.submodule_search_locations = portions
            return _found_record(name, "resolve", "namespace", namespace, portions, None, False)
        kind = classify(spec)
        locations = spec.submodule_search_locations
        file = spec.origin if getattr(spec, "has_location", False) else None
        return _found_record(
            name, "resolve", kind, spec, None if locations is None else list(locations), file, False
        )


# --------------------------------------------------------------------------- import mode


def import_record(name: str) -> "dict":
    """Really import `name`; every failure except KeyboardInterrupt is recorded, not raised."""
    invalid = _invalid(name)
    if invalid:
        return _record(name, "import", "error", error={"type": "ValueError", "message": invalid})
    preloaded = name in sys.modules
    try:
        module = importlib.import_module(name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit from package code is an error too
        chain = set()
        parts = name.split(".")
        for index in range(1, len(parts) + 1):
            chain.add(".".join(parts[:index]))
        not_found = (
            isinstance(exc, ModuleNotFoundError)
            and exc.name in chain
            and "is not a package" not in str(exc)
        )
        return _record(name, "import", _NOT_FOUND if not_found else "error", error=_error(exc))
    return _module_record(name, "import", module, preloaded=preloaded)


# --------------------------------------------------------------------------- console scripts


class _Resolved(BaseException):
    """Raised in place of the entry point's call: carries the resolved object out."""

    def __init__(self, target: object) -> None:
        BaseException.__init__(self)
        self.target = target


def _capture(target: object) -> None:
    raise _Resolved(target)


def _exit_call(node: object) -> "object | None":
    """`sys.exit(F())` / `exit(F())` / `SystemExit(F())` with F called without arguments: the
    inner call node, else None."""
    if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
        return None
    func = node.func
    is_exit = (
        isinstance(func, ast.Attribute)
        and func.attr == "exit"
        and isinstance(func.value, ast.Name)
        and func.value.id == "sys"
    ) or (isinstance(func, ast.Name) and func.id in ("exit", "SystemExit"))
    inner = node.args[0]
    if is_exit and isinstance(inner, ast.Call) and not inner.args and not inner.keywords:
        return inner
    return None


def script_code(source: str, path: str) -> "object | None":
    """The script compiled with its last `sys.exit(F())` turned into `__harness_capture__(F)`;
    None when it is not Python or has no such call (a binary launcher, a shell script)."""
    try:
        tree = ast.parse(source, path)
    except (SyntaxError, ValueError):
        return None
    found = None
    for node in ast.walk(tree):
        inner = _exit_call(node)
        if inner is not None and (
            found is None or (node.lineno, node.col_offset) > (found[0].lineno, found[0].col_offset)
        ):
            found = (node, inner)
    if found is None:
        return None
    node, inner = found
    node.func = ast.Name(id="__harness_capture__", ctx=ast.Load())
    node.args = [inner.func]
    ast.fix_missing_locations(tree)
    return compile(tree, path, "exec")


def _object_file(target: object) -> "str | None":
    """The file whose code the resolved object runs: a function's (or method's) code file, a
    class's module file; None for other objects (an instance: see `module_file`)."""
    func = getattr(target, "__func__", target)
    code = getattr(func, "__code__", None)
    if code is not None:
        return realpath(code.co_filename)
    if isinstance(target, type):
        module = sys.modules.get(getattr(target, "__module__", None) or "")
        return realpath(getattr(module, "__file__", None))
    return None


def _describe(target: object) -> str:
    module = getattr(target, "__module__", None)
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    if name is None:
        return "<{} object>".format(type(target).__name__)
    return "{}.{}".format(module, name) if module else str(name)


def script_record(request: "dict") -> "dict":
    """Resolve one console script (see the module docstring); never raises."""
    name, path, module = request.get("name"), request.get("path"), request.get("module")
    record = {
        "name": name,
        "path": path,
        "module": module,
        "status": "error",
        "object": None,
        "object_file": None,
        "module_file": None,
        "error": None,
    }
    try:
        with open(str(path), "rb") as stream:
            source = stream.read().decode("utf-8", "replace")
    except OSError as exc:
        record.update(status="missing", error=_error(exc))
        return record
    code = script_code(source, str(path))
    if code is None:
        record["status"] = "unparsed"
        return record
    saved_argv = sys.argv
    sys.argv = [str(path)]
    namespace = {
        "__name__": "__main__",
        "__file__": str(path),
        "__builtins__": __builtins__,
        "__harness_capture__": _capture,
    }
    try:
        exec(code, namespace)
    except _Resolved as resolved:
        record.update(
            status="resolved",
            object=_describe(resolved.target),
            object_file=_object_file(resolved.target),
        )
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit from package code is an error too
        record["error"] = _error(exc)
    else:
        record["error"] = {"type": "RuntimeError", "message": "the script ended without a call"}
    finally:
        sys.argv = saved_argv
    if module:
        loaded = sys.modules.get(module)
        record["module_file"] = realpath(getattr(loaded, "__file__", None))
    return record


# --------------------------------------------------------------------------- bytecode


def bytecode_header(pyc: str, source: str) -> str:
    """`fresh`, `stale` or `unknown`: a `.pyc` header (PEP 552) against the source on disk, as
    this interpreter would validate it. Timestamp pycs compare the source's mtime and size;
    hash-based ones (checked or not) the source's hash, computed here only when the pyc's magic
    number is this interpreter's (the hash is keyed by it)."""
    try:
        with open(pyc, "rb") as stream:
            head = stream.read(16)
        st = os.stat(source)
    except OSError:
        return "unknown"
    if len(head) < 16:
        return "stale"
    flags = int.from_bytes(head[4:8], "little")
    if flags == 0:
        mtime = int.from_bytes(head[8:12], "little")
        size = int.from_bytes(head[12:16], "little")
        fresh = mtime == int(st.st_mtime) & 0xFFFFFFFF and size == st.st_size & 0xFFFFFFFF
        return "fresh" if fresh else "stale"
    if head[:4] != importlib.util.MAGIC_NUMBER:
        return "unknown"
    try:
        with open(source, "rb") as stream:
            digest = importlib.util.source_hash(stream.read())
    except OSError:
        return "unknown"
    return "fresh" if head[8:16] == digest else "stale"


# --------------------------------------------------------------------------- environment


def interpreter_report() -> "dict":
    machinery = importlib.machinery
    return {
        "executable": sys.executable,
        "realpath": realpath(sys.executable),
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "platform": sys.platform,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "exec_prefix": sys.exec_prefix,
        "extension_suffixes": list(machinery.EXTENSION_SUFFIXES),
        "source_suffixes": list(machinery.SOURCE_SUFFIXES),
        "bytecode_suffixes": list(machinery.BYTECODE_SUFFIXES),
    }


def sys_path_report() -> "list":
    return [
        {"entry": entry, "realpath": realpath(entry), "exists": os.path.exists(entry)}
        for entry in sys.path
        if isinstance(entry, str)
    ]


def site_packages_report() -> "list":
    import site

    getsitepackages = getattr(site, "getsitepackages", None)
    return list(getsitepackages()) if getsitepackages is not None else []


def distributions_report() -> "list":
    """Every distribution importlib.metadata finds, duplicates included, in a stable order.

    `order` is the discovery index (sys.path order: the first of a name is what
    `distribution(name)` returns); the list is sorted by normalized name, then that order.
    """
    import importlib.metadata as metadata

    found = []
    for order, dist in enumerate(metadata.distributions()):
        try:
            name = dist.metadata["Name"]
        except Exception:
            name = None
        try:
            version = dist.version
        except Exception:
            version = None
        path = getattr(dist, "_path", None)
        path = None if path is None else str(path)
        found.append(
            {
                "name": name,
                "normalized_name": normalize_name(name) if name else None,
                "version": version,
                "path": path,
                "realpath": realpath(path),
                "order": order,
            }
        )
    found.sort(key=lambda d: (d["normalized_name"] or "", d["order"]))
    return found


def _drop_script_dir() -> "str | None":
    """Running a script puts its directory first on sys.path; it is not part of the venv."""
    script_dir = os.path.dirname(os.path.abspath(__file__))
    first = sys.path[0] if sys.path else None
    if isinstance(first, str) and first and realpath(first) == realpath(script_dir):
        return sys.path.pop(0)
    return None


def read_request(text: str) -> "dict":
    request = json.loads(text) if text.strip() else {}
    if not isinstance(request, dict):
        raise ValueError("the request must be a JSON object, got {}".format(type(request).__name__))
    unknown = sorted(set(request) - set(_REQUEST_KEYS))
    if unknown:
        raise ValueError(
            "unknown request keys {}; expected some of {}".format(unknown, list(_REQUEST_KEYS))
        )
    for key in ("resolve", "import"):
        if not isinstance(request.get(key, []), list):
            raise ValueError("request[{!r}] must be a list of dotted names".format(key))
    scripts = request.get("scripts", [])
    if not isinstance(scripts, list) or not all(
        isinstance(s, dict) and isinstance(s.get("path"), str) for s in scripts
    ):
        raise ValueError("request['scripts'] must be a list of objects with a string 'path'")
    pairs = request.get("bytecode", [])
    if not isinstance(pairs, list) or not all(
        isinstance(b, dict) and isinstance(b.get("pyc"), str) and isinstance(b.get("source"), str)
        for b in pairs
    ):
        raise ValueError("request['bytecode'] must be a list of {'pyc': str, 'source': str}")
    return request


def run(request: "dict", removed_script_dir: "str | None" = None) -> "dict":
    """Build the whole report. Order matters: resolve before anything imports package code."""
    after_import = bool(request.get("resolve_after_import"))
    modules = []
    if after_import:
        # The case asked for real imports so that packages rewriting __path__ count: run
        # them first, then resolve every name against what they left in sys.modules.
        for name in dict.fromkeys(request.get("import", [])):
            modules.append(import_record(name))
    resolver = Resolver(use_imported=after_import)
    for name in dict.fromkeys(request.get("resolve", [])):
        modules.append(dict(resolver.resolve(name)))
    modules_after_resolve = sorted(sys.modules)
    report = {
        "schema": SCHEMA_VERSION,
        "interpreter": interpreter_report(),
        "sys_path": sys_path_report(),
        "site_packages": site_packages_report(),
        "meta_path": [_qualname(finder) for finder in sys.meta_path],
        "removed_script_dir": removed_script_dir,
        "modules_at_start": MODULES_AT_START,
        "modules_after_resolve": modules_after_resolve,
        "distributions": distributions_report() if request.get("distributions", True) else [],
        "bytecode": [
            {
                "pyc": b["pyc"],
                "source": b["source"],
                "header": bytecode_header(b["pyc"], b["source"]),
            }
            for b in request.get("bytecode", [])
        ],
    }
    if not after_import:
        for name in dict.fromkeys(request.get("import", [])):
            modules.append(import_record(name))
    modules.sort(key=lambda m: (str(m["name"]), m["mode"]))
    report["modules"] = modules
    # Last: resolving a script imports its entry point's module (package code runs).
    report["scripts"] = [script_record(s) for s in request.get("scripts", [])]
    return report


def main() -> None:
    out = os.fdopen(os.dup(1), "w", encoding="ascii")
    os.dup2(2, 1)  # anything package code prints (even from C) goes to stderr
    with contextlib.suppress(Exception):
        sys.stdout.flush()  # what start-up left buffered goes to stderr too
    sys.stdout = sys.stderr
    removed = _drop_script_dir()
    try:
        request = read_request(sys.stdin.read())
    except ValueError as exc:
        sys.stderr.write("probe: invalid request: {}\n".format(exc))
        sys.stderr.flush()
        os._exit(2)
    report = run(request, removed)
    out.write(json.dumps(report, sort_keys=True, ensure_ascii=True))
    out.write("\n")
    out.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
