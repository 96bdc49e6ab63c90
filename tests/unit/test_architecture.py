"""The shape of the package: the stage contracts hold, a wrong import breaks them, and modules
and functions stay short unless their docstring says why they must be longer (issue 13)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "harness"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

LINT = (
    "import sys\n"
    "from importlinter.cli import lint_imports\n"
    "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))\n"
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the `harness` package found first from `root`, with `root`'s
    pyproject.toml contracts."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", LINT, str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_stage_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.fixture
def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken"),
    [
        # why: the supply chain is below every stage that uses it; importing the runner from
        # it would make the arrow go both ways
        ("supply/cache.py", "from harness.run import runner", "Each stage imports only"),
        # why: the flat oracle must not rest on the engine it judges, even by importing it
        ("oracle.py", "from harness.engine import plan", "never imports an engine"),
        # why: judging reads observations; an adapter's code has no say in it
        ("judge/findings.py", "import harness.adapters", "never imports an engine"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    copy_of_the_package: Path, module: str, wrong_import: str, broken: str
) -> None:
    target = copy_of_the_package / "harness" / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # planted by the test\n")
    done = lint_imports(copy_of_the_package)
    assert done.returncode != 0, done.stdout
    assert "BROKEN" in done.stdout and broken in done.stdout, done.stdout


def _docstring(node: ast.AST) -> str:
    return ast.get_docstring(node) or ""  # type: ignore[arg-type]


def test_modules_and_functions_are_short_or_say_why() -> None:
    # why: one idea per module; a longer one states in its docstring why it must be longer
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        name = path.relative_to(ROOT).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES and "longer" not in _docstring(tree).lower():
            too_long.append(f"{name}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and "longer" not in _docstring(node).lower():
                    too_long.append(f"{name}: {node.name}() {length} lines")
    assert too_long == [], "over the limit without a reason in the docstring: " + ", ".join(
        too_long
    )
