"""The wheel cache: content-addressed by sha256, verified, atomic, locked across processes.

Layout under the root (`HARNESS_WHEELS_CACHE`, default `wheels_cache/`):

    sha256/<aa>/<sha256>/<filename>   a verified wheel, read-only
    tmp/                              in-flight downloads (`<sha256>-*.part`; removed on failure,
                                      or by the next writer of that sha256 after a kill)
    locks/<sha256>.lock               one inter-process lock per file
    verified/<sha256>/<filename>      the file's inode, size, mtime and ctime when it last
                                      hashed to its sha256

Invariant: a file under `sha256/` was hash- and size-verified while it streamed, fsynced, then
renamed into place, so no partial or unverified file is ever visible there. It is hashed again
before use whenever anything may have changed it since it last hashed right: its inode, size,
mtime or ctime differ from the stamp recorded then (in this process, or by an earlier one in
`verified/`). Any write to the file, by hand or by a tool, moves its ctime, which no one can set
back, so an edited file is always re-hashed; a file that no longer matches is reported, removed
under the lock and fetched again, never used. Bytes that rot on disk without a write are left to
`harness cache verify`, which re-hashes every file regardless (as it does every install tree,
which is what a venv actually reads). A warm run thus hashes nothing: re-hashing a case's wheels
in every process cost up to 5 ms per megabyte-sized case (sha256 at ~1.2 GB/s).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from harness import config, names
from harness.errors import HarnessError, IntegrityError, OfflineError, WheelError
from harness.logs import lazy_logger
from harness.model import WheelFile
from harness.supply.digests import file_sha256

if TYPE_CHECKING:
    import filelock

    from harness.supply.index import IndexClient
    from harness.supply.progress import ProgressCallback

log = lazy_logger("harness.supply.cache")

UrlResolver = Callable[[WheelFile], str]

# Up to this many bytes of cached files are re-hashed in the calling thread (~0.1 s of sha256).
_SERIAL_HASH_BYTES = 128 << 20

# path -> (inode, size, mtime_ns, ctime_ns) of files this process has found correct
_verified: dict[str, tuple[int, int, int, int]] = {}
_verified_lock = threading.Lock()


def describe_wheel_file(wheel_file: WheelFile) -> str:
    """`name version (filename)` read from the file name, for error lists."""
    try:
        name, version, _build, _tags = names.parse_wheel_filename(wheel_file.filename)
    except names.InvalidWheelFilename:
        return wheel_file.filename
    return f"{name} {version} ({wheel_file.filename})"


@dataclass(frozen=True)
class FetchResult:
    """The outcome for one file: `cached`, `fetched` or `error` (then `error` says why)."""

    wheel_file: WheelFile
    path: Path | None
    status: str
    error: HarnessError | None = None


class WheelCache:
    """A content-addressed wheel store. `offline=None` follows `HARNESS_OFFLINE`."""

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        offline: bool | None = None,
        client: IndexClient | None = None,
        lock_timeout: float = 1800.0,
    ) -> None:
        self.root = Path(root) if root is not None else config.cache_dir()
        self._offline = offline
        self._client = client
        self.lock_timeout = lock_timeout
        self._locks: dict[str, filelock.FileLock] = {}
        self._locks_guard = threading.Lock()

    @property
    def offline(self) -> bool:
        return config.offline() if self._offline is None else self._offline

    @property
    def client(self) -> IndexClient:
        if self._client is not None:
            return self._client
        from harness.supply.index import default_client  # the index client only when it is asked

        return default_client()

    def with_offline(self, offline: bool) -> WheelCache:
        """The same cache with offline mode forced on or off."""
        return WheelCache(
            self.root, offline=offline, client=self._client, lock_timeout=self.lock_timeout
        )

    def path_for(self, wheel_file: WheelFile) -> Path:
        sha = wheel_file.sha256
        return self.root / "sha256" / sha[:2] / sha / wheel_file.filename

    def _lock(self, sha256: str) -> filelock.FileLock:
        """One lock object per file: re-entrant within a thread, exclusive across threads
        (filelock keeps its state per thread) and processes (flock on `locks/<sha>.lock`)."""
        import filelock  # only writers lock; a warm run never imports it (~10 ms)

        with self._locks_guard:
            lock = self._locks.get(sha256)
            if lock is None:
                (self.root / "locks").mkdir(parents=True, exist_ok=True)
                lock = filelock.FileLock(
                    str(self.root / "locks" / f"{sha256}.lock"), timeout=self.lock_timeout
                )
                self._locks[sha256] = lock
            return lock

    # ------------------------------------------------------------------ reading

    def _problem(self, path: Path, wheel_file: WheelFile) -> str | None:
        """Why the cached file is not the pinned one, or None when it is (hashing if needed)."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return "missing"
        if st.st_size != wheel_file.size:
            return f"size is {st.st_size} bytes, pinned {wheel_file.size}"
        stamp = _stamp(st)
        with _verified_lock:
            if _verified.get(str(path)) == stamp:
                return None
        if self._recorded_stamp(wheel_file) != stamp:
            actual = file_sha256(path)
            if actual != wheel_file.sha256:
                return f"sha256 is {actual}, pinned {wheel_file.sha256}"
            self._record_stamp(wheel_file, stamp)
        with _verified_lock:
            _verified[str(path)] = stamp
        return None

    def _stamp_path(self, wheel_file: WheelFile) -> Path:
        return self.root / "verified" / wheel_file.sha256 / wheel_file.filename

    def _recorded_stamp(self, wheel_file: WheelFile) -> tuple[int, ...] | None:
        """The stamp of the file when a process last found it hashing right, if one did."""
        try:
            text = self._stamp_path(wheel_file).read_text(encoding="ascii")
            return tuple(int(field) for field in text.split())
        except (OSError, ValueError):
            return None

    def _record_stamp(self, wheel_file: WheelFile, stamp: tuple[int, ...]) -> None:
        """Best effort and atomic (a cache this process cannot write just hashes again)."""
        target = self._stamp_path(wheel_file)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(" ".join(map(str, stamp)) + "\n", encoding="ascii")
            os.replace(partial, target)
        except OSError:
            partial.unlink(missing_ok=True)

    def get(self, wheel_file: WheelFile) -> Path | None:
        """The verified cached file, or None. A corrupt copy is reported and removed."""
        path = self.path_for(wheel_file)
        problem = self._problem(path, wheel_file)
        if problem is None:
            return path
        if problem == "missing":
            return None
        with self._lock(wheel_file.sha256):
            problem = self._problem(path, wheel_file)  # another process may have replaced it
            if problem is None:
                return path
            if problem != "missing":
                log.warning("corrupt cached file %s: %s; removing it", path, problem)
                _remove(path)
                self._stamp_path(wheel_file).unlink(missing_ok=True)
        return None

    def missing(self, wheel_files: Iterable[WheelFile]) -> list[WheelFile]:
        return [wf for wf in _unique(wheel_files) if self.get(wf) is None]

    def find(self, name: str, version: str) -> list[WheelFile]:
        """Cached files of `name==version` (by file name; verified again by `get` on use)."""
        wanted_name = names.canonicalize_name(name)
        try:
            wanted_version = Version(version)
        except InvalidVersion:
            return []
        found = []
        for path in sorted((self.root / "sha256").glob("*/*/*.whl")):
            try:
                wheel_name, wheel_version, _b, _t = names.parse_wheel_filename(path.name)
            except names.InvalidWheelFilename:
                continue
            if wheel_name != wanted_name or wheel_version != wanted_version:
                continue
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # removed as corrupt by another process meanwhile
                continue
            found.append(WheelFile(filename=path.name, sha256=path.parent.name, size=size))
        return sorted(found, key=lambda wf: (wf.filename, wf.sha256))

    # ------------------------------------------------------------------ writing

    def _install(
        self,
        filename: str,
        sha256: str,
        size: int | None,
        write: Callable[[IO[bytes]], tuple[str, int]],
        source: str,
    ) -> Path:
        """Write into `tmp/` via `write(fh) -> (sha256, size)`, verify, fsync, rename into place.

        The caller holds the lock. On any failure our temporary file is removed and nothing
        appears under `sha256/`. A `.part` of this sha256 left by a process killed mid-write
        (SIGKILL runs no cleanup) can have no live writer while we hold the lock: it is removed.
        """
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        for leftover in tmp_dir.iterdir():  # compared as text: a sha256 is never a pattern
            if leftover.name.startswith(f"{sha256}-") and leftover.name.endswith(".part"):
                log.info("removing %s, left by an interrupted write", leftover)
                leftover.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix=f"{sha256}-", suffix=".part")
        tmp = Path(tmp_name)
        final = self.root / "sha256" / sha256[:2] / sha256 / filename
        try:
            with os.fdopen(fd, "w+b") as fh:
                actual_sha, actual_size = write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if (size is not None and actual_size != size) or actual_sha != sha256:
                raise IntegrityError(
                    f"{filename} from {source}: expected sha256 {sha256} and "
                    f"{'size ' + str(size) if size is not None else 'any size'}, got sha256 "
                    f"{actual_sha} and size {actual_size}; nothing was written to the cache"
                )
            os.chmod(tmp, 0o444)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        stamp = _stamp(final.stat())
        self._record_stamp(WheelFile(filename=filename, sha256=sha256, size=stamp[1]), stamp)
        with _verified_lock:
            _verified[str(final)] = stamp
        return final

    def _download(
        self,
        filename: str,
        sha256: str,
        size: int | None,
        url: str,
        on_progress: ProgressCallback | None,
    ) -> Path:
        from harness.supply.progress import terminal_progress

        progress = on_progress or terminal_progress(filename)

        def write(fh: IO[bytes]) -> tuple[str, int]:
            result = self.client.download(url, fh, size, progress)
            return result.sha256, result.size

        log.info("downloading %s from %s", filename, url)
        return self._install(filename, sha256, size, write, url)

    def obtain(
        self,
        wheel_file: WheelFile,
        url_resolver: UrlResolver,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> FetchResult:
        """The file from the cache (`cached`) or downloaded once across processes (`fetched`)."""
        path = self.get(wheel_file)
        if path is not None:
            return FetchResult(wheel_file, path, "cached")
        if self.offline:
            raise offline_error([wheel_file], self.root)
        with self._lock(wheel_file.sha256):
            path = self.get(wheel_file)
            if path is not None:  # another process fetched it while we waited
                return FetchResult(wheel_file, path, "cached")
            url = url_resolver(wheel_file)
            path = self._download(
                wheel_file.filename, wheel_file.sha256, wheel_file.size, url, on_progress
            )
            return FetchResult(wheel_file, path, "fetched")

    def ensure(
        self,
        wheel_file: WheelFile,
        url_resolver: UrlResolver,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> Path:
        """The verified cached path of `wheel_file`, downloading it if needed."""
        path = self.obtain(wheel_file, url_resolver, on_progress=on_progress).path
        assert path is not None
        return path

    def fetch_all(
        self, wheel_files: Sequence[WheelFile], url_resolver: UrlResolver, *, jobs: int = 4
    ) -> list[FetchResult]:
        """Every file (deduplicated, input order), downloaded in parallel; errors per file.

        Offline, every missing file is collected first and one OfflineError names them all.
        """
        unique = _unique(wheel_files)
        if self.offline:
            missing = self.missing(unique)
            if missing:
                raise offline_error(missing, self.root)

        def one(wheel_file: WheelFile) -> FetchResult:
            try:
                return self.obtain(wheel_file, url_resolver)
            except HarnessError as exc:
                return FetchResult(wheel_file, None, "error", exc)

        if len(unique) <= 1 or jobs <= 1 or self._all_on_disk(unique):
            return [one(wf) for wf in unique]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="fetch") as pool:
            return list(pool.map(one, unique))

    def _all_on_disk(self, wheel_files: Sequence[WheelFile]) -> bool:
        """Every file is in the cache with its pinned size and they are small together: then
        nothing is downloaded and hashing them in this thread takes less than starting worker
        threads would (a warm run). Hashes are still checked, by `obtain`."""
        total = 0
        for wheel_file in wheel_files:
            try:
                size = self.path_for(wheel_file).stat().st_size
            except OSError:
                return False
            if size != wheel_file.size:
                return False
            total += size
        return total <= _SERIAL_HASH_BYTES

    def download_unpinned(
        self, filename: str, sha256: str, url: str, size: int | None = None
    ) -> WheelFile:
        """Fetch a file whose size the index did not list (the sha256 is still verified)."""
        with self._lock(sha256):
            found = [wf for wf in self.find_by_sha(sha256) if wf.filename == filename]
            if found and self.get(found[0]) is not None:
                return found[0]
            if self.offline:
                raise offline_error([WheelFile(filename, sha256, size or 0)], self.root)
            path = self._download(filename, sha256, size, url, None)
        return WheelFile(filename=filename, sha256=sha256, size=path.stat().st_size)

    def find_by_sha(self, sha256: str) -> list[WheelFile]:
        directory = self.root / "sha256" / sha256[:2] / sha256
        if not directory.is_dir():
            return []
        return [
            WheelFile(filename=p.name, sha256=sha256, size=p.stat().st_size)
            for p in sorted(directory.iterdir())
            if p.is_file()
        ]

    def add_local(self, path: str | Path) -> WheelFile:
        """Copy a local wheel into the cache (hashed here) so it is as immutable as a download."""
        source = Path(path)
        try:
            names.parse_wheel_filename(source.name)
        except names.InvalidWheelFilename as exc:
            raise WheelError(f"{source}: not a valid wheel file name: {exc}") from exc
        if not source.is_file():
            raise WheelError(f"{source}: no such wheel file")
        sha256 = file_sha256(source)
        wheel_file = WheelFile(filename=source.name, sha256=sha256, size=source.stat().st_size)
        if self.get(wheel_file) is not None:
            return wheel_file
        with self._lock(sha256):
            if self.get(wheel_file) is None:

                def write(fh: IO[bytes]) -> tuple[str, int]:
                    import hashlib

                    digest = hashlib.sha256()
                    size = 0
                    with open(source, "rb") as src:
                        for chunk in iter(lambda: src.read(1 << 20), b""):
                            digest.update(chunk)
                            size += len(chunk)
                            fh.write(chunk)
                    return digest.hexdigest(), size

                self._install(source.name, sha256, wheel_file.size, write, str(source))
        return wheel_file


def offline_error(missing: Sequence[WheelFile], root: Path) -> OfflineError:
    """One error naming every missing file (name, version, file name)."""
    lines = "; ".join(describe_wheel_file(wf) for wf in missing)
    return OfflineError(
        f"offline mode (HARNESS_OFFLINE=1 or --offline): {len(missing)} file(s) not in the "
        f"cache {root}: {lines}. Run the same command online once (or `harness fetch`) to "
        "download them."
    )


def _unique(wheel_files: Iterable[WheelFile]) -> list[WheelFile]:
    seen: dict[tuple[str, str], WheelFile] = {}
    for wf in wheel_files:
        seen.setdefault((wf.sha256, wf.filename), wf)
    return list(seen.values())


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    """What a write to a file changes: a new inode, or the size, mtime and ctime."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    with _verified_lock:
        _verified.pop(str(path), None)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = [
    "FetchResult",
    "UrlResolver",
    "WheelCache",
    "describe_wheel_file",
    "offline_error",
]
