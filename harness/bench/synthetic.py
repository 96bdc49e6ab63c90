"""Synthetic wheel sets for the scaling measures: deterministic shapes per seed, their planner
inputs, real `.whl` files, and unpacking them into a private trees root.

`synthetic_set` and `synthetic_facts` are pure; writing and unpacking touch only the directories
they are given, never the project's wheels_cache.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.model import PreparedWheel, WheelFacts

NATIVE_SUFFIX = ".cpython-311-x86_64-linux-gnu.so"  # only its `.so` ending matters to facts


@dataclass(frozen=True)
class SyntheticWheel:
    """One wheel of a synthetic set: its site-packages paths and the module it alone ships."""

    index: int
    shape: str  # regular, namespace, native, file, mixed-regular, mixed-namespace, ...
    paths: tuple[str, ...]
    module: str = ""  # a module only this wheel ships (for import timing), "" when none
    console_scripts: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"syn-{self.index:05d}"

    @property
    def label(self) -> str:
        return f"syn_{self.index:05d}"


SHAPES = (
    "regular",
    "regular",
    "namespace",
    "namespace",
    "native",
    "file",
    "mixed-regular",
    "mixed-namespace",
    "file-collision",
    "regular-collision",
)
GROUP = 8  # wheels sharing one colliding name: fixed, so per-wheel work should stay constant


def synthetic_set(count: int, seed: int = 0) -> list[SyntheticWheel]:
    """`count` wheels of mixed shapes, deterministic for a seed (shapes shuffled by it).

    Shapes: regular packages, namespace portions of shared namespaces (`ns_K/part_I`), native
    extensions (in their own package, or a native subpackage of a regular package), single-file
    modules, and collisions: mixed regular/namespace claimants of `mixed_K` (physically merged),
    one file `shared_K.py` claimed by several wheels, regular packages `dup_K` claimed twice.
    Each colliding name is shared by about GROUP wheels, so the collision structure grows with
    `count` while every bucket stays the same size; native code never sits in a conflicted
    root without a regular claimant (a hard planning error by design, not a benchmark).
    """
    rng = random.Random(seed)
    shapes = [SHAPES[i % len(SHAPES)] for i in range(count)]
    rng.shuffle(shapes)
    wheels = []
    for i, shape in enumerate(shapes):
        group = i // (GROUP * len(SHAPES))
        paths: list[str]
        module = ""
        scripts: tuple[str, ...] = ()
        if shape == "regular":
            paths = [f"reg_{i}/__init__.py", f"reg_{i}/core.py", f"reg_{i}/util/__init__.py"]
            module = f"reg_{i}"
            if rng.random() < 0.2:
                scripts = (f"tool-{i}=reg_{i}.core:main",)
        elif shape == "namespace":
            paths = [f"ns_{group}/part_{i}/__init__.py", f"ns_{group}/part_{i}/mod.py"]
            module = f"ns_{group}.part_{i}"
        elif shape == "native":
            if rng.random() < 0.5:
                paths = [f"nat_{i}/__init__.py", f"nat_{i}/_ext{NATIVE_SUFFIX}"]
            else:
                paths = [
                    f"nat_{i}/__init__.py",
                    f"nat_{i}/_libs/__init__.py",
                    f"nat_{i}/_libs/_fast{NATIVE_SUFFIX}",
                ]
            module = f"nat_{i}"
        elif shape == "file":
            paths = [f"mod_{i}.py"]
            module = f"mod_{i}"
        elif shape == "mixed-regular":
            paths = [f"mixed_{group}/__init__.py", f"mixed_{group}/a_{i}.py"]
        elif shape == "mixed-namespace":
            paths = [f"mixed_{group}/sub_{i}/__init__.py", f"mixed_{group}/sub_{i}/b.py"]
        elif shape == "file-collision":
            paths = [f"shared_{group}.py", f"own_{i}.py"]
            module = f"own_{i}"
        else:  # regular-collision
            paths = [f"dup_{group}/__init__.py", f"dup_{group}/x_{i}.py"]
        wheels.append(SyntheticWheel(i, shape, tuple(paths), module, scripts))
    return wheels


def synthetic_facts(wheels: Sequence[SyntheticWheel]) -> list[WheelFacts]:
    """Planner inputs for a synthetic set (RECORD-derived, as for a real wheel)."""
    from harness.facts import facts_from_paths

    return [facts_from_paths(w.label, w.paths, console_scripts=w.console_scripts) for w in wheels]


def write_synthetic_wheels(wheels: Sequence[SyntheticWheel], directory: Path) -> list[Path]:
    """Real `.whl` files for a synthetic set (deterministic bytes)."""
    from harness.supply.wheelbuilder import write_wheel

    written = []
    for w in wheels:
        files = {p: (_SOURCE if p.endswith(".py") else b"\x7fELF synthetic") for p in w.paths}
        entry_points = None
        if w.console_scripts:
            name, _, target = w.console_scripts[0].partition("=")
            entry_points = {"console_scripts": {name: target}}
        written.append(write_wheel(directory, w.name, "1.0", files, entry_points=entry_points))
    return written


_SOURCE = "def main():\n    return 0\n"


def prepare_local(paths: Sequence[Path], trees_root: Path) -> list[PreparedWheel]:
    """Unpack local wheel files into a private trees root and read their facts (what
    `supply.prepare` does for cached files, minus the cache: synthetic wheels must not land in
    the project's wheels_cache)."""
    from harness.supply import wheel
    from harness.supply.digests import file_sha256

    prepared = []
    for path in paths:
        sha = file_sha256(path)
        tree = wheel.install_tree(path, sha, trees_root)
        facts = wheel.read_facts(path, label=path.name, sha256=sha)
        prepared.append(PreparedWheel(label=path.name, path=path, tree=tree, facts=facts))
    return prepared
