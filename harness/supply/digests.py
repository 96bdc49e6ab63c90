"""Hashes of files on disk: the sha256 that keys wheels and trees, and RECORD's own hashes.

`hashlib` (~2.7 ms with OpenSSL) and `base64` are imported inside the functions: a warm run
hashes no bytes, so it never imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import hashlib

__all__ = ["file_digest", "file_sha256", "hash_matches"]

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in chunks (wheels can be gigabytes)."""
    import hashlib  # (~2.7 ms with OpenSSL: only when bytes are hashed, never on a warm run)

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_matches(hash_name: str, expected: str, digest: hashlib._Hash) -> bool:
    """A RECORD hash against a digest of the bytes: urlsafe base64 without padding, or (gmsh
    4.15.2 writes them) the same hash as hex digits."""
    import base64  # hashes are compared only when a tree is built or verified

    actual = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
    return actual == expected or expected.lower() == digest.hexdigest()


def file_digest(path: Path, hash_name: str) -> tuple[hashlib._Hash, int]:
    """(digest, size) of a file with RECORD's algorithm."""
    import hashlib

    digest = hashlib.new(hash_name)
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return digest, size
