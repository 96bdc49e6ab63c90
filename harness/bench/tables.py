"""The report's form: a Table of string cells, the number formats of its cells, and the
renderers of the whole report as GitHub markdown and as stable JSON.

Pure functions: what the tables say is decided in `harness.bench.results`; this module only
knows how a table is written down.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.bench.stats import Stats


@dataclass(frozen=True)
class Table:
    """One markdown table: a title, column names, string cells and notes under it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def fmt_us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


def fmt_pct(value: float | None, *, signed: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.1f} %" if signed else f"{value * 100:.1f} %"


def render_table(table: Table) -> str:
    """GitHub markdown: a `###` title, the table, then the notes as a list."""
    if any(len(row) != len(table.columns) for row in table.rows):
        raise ValueError(f"table {table.title!r}: a row does not have {len(table.columns)} cells")
    escape = lambda cell: cell.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [f"### {table.title}", ""]
    lines.append("| " + " | ".join(escape(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in table.rows]
    if not table.rows:
        lines.append("| " + " | ".join(["(no rows)"] + [""] * (len(table.columns) - 1)) + " |")
    if table.notes:
        lines.append("")
        lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines) + "\n"


def render_markdown(report: Mapping[str, object], tables: Sequence[Table]) -> str:
    """The whole report: machine, command, then one table per measure."""
    machine = report.get("machine", {})
    assert isinstance(machine, Mapping)
    lines = ["## Benchmark results", ""]
    lines.append(f"Command: `{report.get('command', '')}`")
    lines.append("")
    if report.get("startup_user"):
        lines.append(f"- startup and sys.path runs as user: {report['startup_user']}")
    for key in sorted(machine):
        value = machine[key]
        shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        lines.append(f"- {key}: {shown}")
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(render_table(t) for t in tables)


def render_json(report: Mapping[str, object]) -> str:
    """Stable JSON for machines: sorted keys, two-space indent, trailing newline."""
    return json.dumps(report, indent=2, sort_keys=True, default=_plain) + "\n"


def _plain(value: object) -> object:
    if isinstance(value, Stats):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
