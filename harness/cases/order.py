"""The reading order of a case file, checked and restored by moving whole blocks of text.

A case file reads top-down the way a newcomer learns it: `description` and the top keys
(`python`, `detects`, `imports`, `[env]`, ...), then the `[[premise]]` guards, then the
`[[expect.*]]` tables (what it expects and why), and last the pins, `[[support]]` then
`[[wheels]]`. Only the order of blocks is rewritten, never their text: a block is one table
header with its keys and every table nested in it (`[wheels.synthetic]` stays with its
`[[wheels]]`), together with the comments right above the header. Blocks of one rank keep their
relative order, so every array of tables keeps its order, and a rewrite is written only if the
file's TOML parses to the same document and every non-blank line is kept.

    python -m harness.cases.order            # report the case files out of order; exit 1 if any
    python -m harness.cases.order --write    # rewrite them in reading order
    python -m harness.cases.order --write cases/NAME/case.toml ...
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Ranks, in reading order. The top level (keys before any header, and any other table such as
# `[env]`) is first; an unknown table stays with it, where the parser will name it.
TOP, PREMISE, EXPECT, SUPPORT, WHEELS = range(5)
_RANK_OF = {"premise": PREMISE, "expect": EXPECT, "support": SUPPORT, "wheels": WHEELS}
_RANK_NAMES = {
    TOP: "the top keys",
    PREMISE: "[[premise]]",
    EXPECT: "[[expect.*]]",
    SUPPORT: "[[support]]",
    WHEELS: "[[wheels]]",
}
ORDER = "description and the top keys, [[premise]], [[expect.*]], [[support]], [[wheels]]"


class OrderError(Exception):
    """A file the tool will not rewrite: it cannot prove the rewrite changes nothing."""


@dataclass(frozen=True)
class Block:
    """Lines of a case file that move together: a header, its keys, its nested tables and the
    comments above it (the top block has no header)."""

    rank: int
    header: str  # the header line as written; "" for the top block
    line: int  # where the header is (1-based), for messages
    lines: tuple[str, ...]

    def text(self) -> str:
        """The block without blank lines at its ends, ending in a newline ("" if empty)."""
        lines = list(self.lines)
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        text = "".join(lines)
        return text if not text or text.endswith("\n") else text + "\n"


# --------------------------------------------------------------------------- reading blocks


def _header_lines(lines: list[str]) -> list[tuple[int, bool]]:
    """For each line: (is a table header, starts outside any value). A line starting with `[`
    is a header only outside strings and values, so a multi-line string or array whose line
    starts with `[` is never taken for one."""
    found = []
    state = _Lexer()
    for line in lines:
        free = state.free()
        if free and line.lstrip().startswith("["):
            found.append((True, True))
            continue
        found.append((False, free))
        state.feed(line)
    return found


class _Lexer:
    """Just enough TOML to know, line by line, whether a value (string, array, inline table)
    is still open: multi-line strings, one-line strings, comments, bracket depth."""

    def __init__(self) -> None:
        self.depth = 0
        self.open_string: str | None = None  # '"""' or "'''" while inside one

    def free(self) -> bool:
        return self.depth == 0 and self.open_string is None

    def feed(self, line: str) -> None:
        i = 0
        while i < len(line):
            if self.open_string is not None:
                i = self._close(line, i)
                continue
            ch = line[i]
            if ch == "#":
                return
            if line.startswith('"""', i) or line.startswith("'''", i):
                self.open_string = line[i : i + 3]
                i += 3
            elif ch in "\"'":
                i = self._one_line_string(line, i)
            else:
                self.depth += (ch in "[{") - (ch in "]}")
                i += 1

    def _close(self, line: str, i: int) -> int:
        quote = self.open_string or ""
        while i < len(line):
            if quote == '"""' and line[i] == "\\":
                i += 2
            elif line.startswith(quote, i):
                i += 3
                while i < len(line) and line[i] == quote[0]:  # up to two quotes end the text
                    i += 1
                self.open_string = None
                return i
            else:
                i += 1
        return i

    @staticmethod
    def _one_line_string(line: str, i: int) -> int:
        quote, i = line[i], i + 1
        while i < len(line) and line[i] != quote:
            i += 2 if quote == '"' and line[i] == "\\" else 1
        return i + 1


def _header_path(header: str) -> tuple[tuple[str, ...], bool]:
    """(dotted key path, is an array of tables) of a header line such as `[[expect.module]]`
    (quoted keys may hold dots; a comment may follow)."""
    text = header.strip()
    array = text.startswith("[[")
    parts, current, quote = [], "", None
    for ch in text[2 if array else 1 :]:
        if quote:
            quote, current = (None, current) if ch == quote else (quote, current + ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts, current = [*parts, current.strip()], ""
        elif ch == "]":
            break
        else:
            current += ch
    return (*parts, current.strip()), array


def blocks(text: str) -> list[Block]:
    """The blocks of a case file, in file order: the top block, then one per header (a table
    nested in the array table above it, `[wheels.synthetic]`, joins that block)."""
    lines = text.splitlines(keepends=True)
    kinds = _header_lines(lines)
    starts: list[int] = []
    array_path: tuple[str, ...] | None = None
    for n, (is_header, _free) in enumerate(kinds):
        if not is_header:
            continue
        path, array = _header_path(lines[n])
        if array_path and len(path) > len(array_path) and path[: len(array_path)] == array_path:
            continue  # a table nested in the array table above: part of its block
        array_path = path if array else None
        start = n
        while start > 0 and kinds[start - 1][1] and _comment_or_blank(lines[start - 1]):
            start -= 1  # the comments right above a header travel with it
        starts.append(start)
    found = [Block(TOP, "", 0, tuple(lines[: starts[0] if starts else len(lines)]))]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        chunk = lines[start:end]
        at = next(j for j in range(start, end) if kinds[j][0])
        path, _array = _header_path(lines[at])
        rank = _RANK_OF.get(path[0], TOP)
        found.append(Block(rank, lines[at].strip(), at + 1, tuple(chunk)))
    return found


def _comment_or_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


# --------------------------------------------------------------------------- checking, rewriting


def problems(text: str) -> list[str]:
    """What is out of reading order in a case file's text (empty: it reads top-down)."""
    found = []
    first_key = next(
        (
            line.split("=", 1)[0].strip()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ),
        None,
    )
    if first_key != "description":
        found.append(f"the first key is {first_key!r}, not 'description'")
    highest = Block(TOP, "", 0, ())
    for block in blocks(text):
        if block.rank < highest.rank:
            found.append(
                f"line {block.line}: {block.header} comes after {highest.header} "
                f"(line {highest.line}); {_RANK_NAMES[block.rank]} goes before "
                f"{_RANK_NAMES[highest.rank]}"
            )
        elif block.rank > highest.rank:
            highest = block
    return found


def reordered(text: str) -> str:
    """The same file in reading order: blocks sorted by rank (stable), one blank line between
    blocks. Raises `OrderError` unless the TOML document and the non-blank lines are kept."""
    ordered = sorted(blocks(text), key=lambda b: b.rank)  # stable: arrays keep their order
    result = "\n".join(t for t in (b.text() for b in ordered) if t)
    _verify(text, result)
    return result


def _verify(before: str, after: str) -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the host is 3.11; tomli is the same parser for 3.10
        import tomli as tomllib
    try:
        same = tomllib.loads(before) == tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:
        raise OrderError(f"not TOML, or not after the rewrite: {exc}") from exc
    if not same:
        raise OrderError("the rewrite would change the parsed document")
    kept = Counter(line.strip() for line in before.splitlines() if line.strip())
    if kept != Counter(line.strip() for line in after.splitlines() if line.strip()):
        raise OrderError("the rewrite would lose or add a line")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.cases.order",
        description=__doc__.split("\n\n")[0],
        epilog=f"reading order: {ORDER}",
    )
    parser.add_argument("files", nargs="*", type=Path, help="case files (default: the corpus)")
    parser.add_argument("--write", action="store_true", help="rewrite files out of order")
    args = parser.parse_args(argv)
    if args.files:
        files = args.files
    else:
        from harness.cases import CASE_FILE, default_cases_root

        files = sorted(default_cases_root().glob(f"*/{CASE_FILE}"))
    status = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = problems(text)
        if not found:
            continue
        if not args.write:
            more = [f"... and {len(found) - 3} more"] if len(found) > 3 else []
            print(f"{path}: out of reading order ({ORDER}):", *found[:3], *more, sep="\n  ")
            status = 1
            continue
        try:
            path.write_text(reordered(text), encoding="utf-8")
        except OrderError as exc:
            print(f"{path}: not rewritten: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{path}: rewritten in reading order")
    return status


if __name__ == "__main__":
    sys.exit(main())
