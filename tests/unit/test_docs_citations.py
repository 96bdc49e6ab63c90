"""Every `§` a comment or docstring cites resolves to a numbered heading under docs/.

Code cites the contract by heading number: `engine-contract.md §3.2`, `checks.md §5.1`. This test
reads the comments and docstrings of every Python file under harness/ and tests/ and requires each
`§N` to belong to a file under docs/ whose headings include `N` (`## 3. The planner` is §3,
`### 3.2 Namespace union` is §3.2). A `§N` right after a file name belongs to that file; a bare
one (`§3.7` in "(§3.2-§3.4) ... (§3.7)") to the last file named before it in the same docstring or
comment block, and with none named before it, it is an error. Documents that are not in the
repository (`merge-engine.md`, the upstream `rules_py-engine.md`, "reference §N") may not be cited
at all.

String literals that are code (error messages, help text, case fixtures) are not comments; what
they cite is held to a ratchet instead: the unresolved citations written before docs/ held the
contract are listed in `IN_CODE_STRINGS` until their owners change that code, and any other one
fails.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCANNED = ("harness", "tests")

# `X.md` (optionally `docs/X.md`) or a section sign with its heading number.
_TOKEN = re.compile(r"(?P<file>(?<![\w.-])[\w./-]*[\w-]\.md)\b|§\s?(?P<number>\d+(?:\.\d+)*)")
# Citations of documents outside the repository, whatever follows them.
_FOREIGN = re.compile(r"merge-engine\.md|rules_py-engine\.md|\b(?:reference|rules_py)\s+§", re.I)
_FOREIGN_PREFIX = re.compile(r"\b(?:reference|rules_py)\s+$", re.I)
_HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s")
_ELSEWHERE = "(outside docs/)"

# (file, citation) pairs inside code strings allowed to cite outside docs/: none any more; a
# string that must keep such a citation would be listed here with its reason.
IN_CODE_STRINGS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Text:
    """One comment block, docstring or string literal of a source file."""

    path: str  # relative to the repository
    line: int
    text: str
    code: bool  # a string literal that is not a docstring


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    citation: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: `{self.citation}`: {self.why}"


def headings(docs: Path) -> dict[str, set[str]]:
    """Heading numbers of every Markdown file under `docs` (fenced code skipped)."""
    found: dict[str, set[str]] = {}
    for md in sorted(docs.glob("*.md")):
        numbers: set[str] = set()
        fenced = False
        for line in md.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and (m := _HEADING.match(line)):
                numbers.add(m.group(1))
        found[md.name] = numbers
    return found


def texts(path: Path, root: Path) -> Iterator[Text]:
    """Comment blocks (consecutive comment lines), docstrings and other string literals."""
    rel = path.relative_to(root).as_posix()
    source = path.read_text(encoding="utf-8")
    block: list[str] = []
    start = last = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        line = token.start[0]
        if block and line != last + 1:
            yield Text(rel, start, "\n".join(block), code=False)
            block = []
        if not block:
            start = line
        block.append(token.string)
        last = line
    if block:
        yield Text(rel, start, "\n".join(block), code=False)

    tree = ast.parse(source)
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.add(id(first.value))
                yield Text(rel, first.value.lineno, first.value.value, code=False)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and ("§" in node.value or _FOREIGN.search(node.value))
        ):
            yield Text(rel, node.lineno, node.value, code=True)


def problems(text: Text, known: dict[str, set[str]]) -> list[Problem]:
    """Every citation in `text` that does not resolve to a heading under docs/."""
    found: list[Problem] = []
    for m in _FOREIGN.finditer(text.text):
        tail = re.match(r"[^\s,;)]*(?:\s?§\d+(?:\.\d+)*)?", text.text[m.start() :])
        citation = tail.group(0) if tail else m.group(0)
        found.append(Problem(text.path, text.line, citation, "cites a document outside docs/"))
    current: str | None = None  # the last file named so far; _ELSEWHERE after a foreign one
    for m in _TOKEN.finditer(text.text):
        if m.group("file"):
            current = _ELSEWHERE if _FOREIGN.search(m.group("file")) else m.group("file")
            continue
        if _FOREIGN_PREFIX.search(text.text[: m.start()]):
            current = _ELSEWHERE
        if current == _ELSEWHERE:
            continue  # reported above, once, as a foreign citation
        number = m.group("number")
        if current is None:
            found.append(Problem(text.path, text.line, f"§{number}", "names no file under docs/"))
            continue
        citation = f"{current} §{number}"
        name = current.removeprefix("docs/")
        if "/" in name or name not in known:
            found.append(Problem(text.path, text.line, citation, "is not a file under docs/"))
        elif number not in known[name]:
            found.append(
                Problem(text.path, text.line, citation, f"docs/{name} has no heading {number}")
            )
    return found


def scan(files: Iterable[Path], root: Path, docs: Path) -> tuple[list[Problem], list[Problem]]:
    """(problems in comments and docstrings, problems in code strings)."""
    known = headings(docs)
    prose: list[Problem] = []
    code: list[Problem] = []
    for path in files:
        for text in texts(path, root):
            (code if text.code else prose).extend(problems(text, known))
    return prose, code


def _sources() -> list[Path]:
    # This file quotes bad citations on purpose (its fixtures); the planted test covers it.
    here = Path(__file__).resolve()
    return sorted(
        p
        for folder in SCANNED
        for p in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in p.parts and p.resolve() != here
    )


def test_every_citation_in_comments_and_docstrings_resolves() -> None:
    prose, _ = scan(_sources(), ROOT, DOCS)
    assert not prose, "citations that do not resolve to a heading under docs/:\n" + "\n".join(
        map(str, prose)
    )


def test_citations_in_code_strings_only_shrink() -> None:
    _, code = scan(_sources(), ROOT, DOCS)
    seen = {(p.path, p.citation) for p in code}
    new = sorted(str(p) for p in code if (p.path, p.citation) not in IN_CODE_STRINGS)
    assert not new, "a string literal cites what docs/ does not hold:\n" + "\n".join(new)
    fixed = sorted(IN_CODE_STRINGS - seen)
    assert not fixed, f"fixed, so remove from IN_CODE_STRINGS: {fixed}"


def test_heading_numbers_are_unique_in_each_document() -> None:
    for md in sorted(DOCS.glob("*.md")):
        numbers = [
            m.group(1)
            for line in md.read_text(encoding="utf-8").splitlines()
            if (m := _HEADING.match(line))
        ]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        assert not duplicates, f"{md.name}: heading numbers used twice: {duplicates}"


def test_the_contract_documents_exist_with_their_sections() -> None:
    known = headings(DOCS)
    assert {"1", "3", "3.2", "4.1", "7.5", "9.6"} <= known["engine-contract.md"]
    assert {"2", "3", *(f"5.{i}" for i in range(1, 9)), *(f"6.{i}" for i in range(1, 23))} <= (
        known["checks.md"]
    )


PLANTED = '''"""A module docstring citing merge-engine.md §3 and engine-contract.md §1."""

# A good citation, engine-contract.md §1.2, and a bare one that inherits its file (§1).
# A heading that does not exist: engine-contract.md §9.


def f():
    """A bare §2 with no file named before it, and adapters.md §1 (not a numbered heading)."""
    return "reference §3.8 in a code string"
'''


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "engine-contract.md").write_text(
        "# Title\n\n## 1. Inputs\n\n### 1.2 Routing\n\n```\n## 9. In a fence\n```\n"
    )
    (docs / "adapters.md").write_text("# Adapters\n\n## Naming\n")
    source = tmp_path / "harness" / "planted.py"
    source.parent.mkdir()
    source.write_text(PLANTED)
    return tmp_path, source


def test_the_checker_catches_planted_bad_citations(planted: tuple[Path, Path]) -> None:
    root, source = planted
    prose, code = scan([source], root, root / "docs")
    assert sorted((p.line, p.citation, p.why) for p in prose) == [
        (1, "merge-engine.md §3", "cites a document outside docs/"),
        (3, "engine-contract.md §9", "docs/engine-contract.md has no heading 9"),
        (8, "adapters.md §1", "docs/adapters.md has no heading 1"),
        (8, "§2", "names no file under docs/"),
    ]
    assert [(p.line, p.citation) for p in code] == [(9, "reference §3.8")]


def test_every_citation_in_the_corpus_resolves() -> None:
    # why: a case's description and explanations are what a newcomer reads first; a `§` there
    # must lead to a heading under docs/, like one in a comment
    known = headings(DOCS)
    found = []
    for path in sorted((ROOT / "cases").glob("*/case.toml")):
        rel = path.relative_to(ROOT).as_posix()
        found += problems(Text(rel, 1, path.read_text(encoding="utf-8"), code=False), known)
    assert not found, "case files citing what docs/ does not hold:\n" + "\n".join(map(str, found))
