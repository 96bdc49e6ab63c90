"""Run results as a table for people, JSON for machines and JUnit XML for CI.

The JSON report (schema version 1) is documented in docs/report-schema.md. Everything but the
`seconds` fields is deterministic, so two runs of one corpus can be diffed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from harness.model import to_plain
from harness.run.runner import Result

SCHEMA_VERSION = 1


def table(results: Sequence[Result]) -> str:
    """Case, interpreter, engine, result, findings, seconds: one row each."""
    header = ("case", "python", "engine", "result", "findings", "seconds")
    rows = [
        (r.case, r.interpreter, r.engine, r.status, str(len(r.findings)), f"{r.seconds:.1f}")
        for r in results
    ]
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(header)
    ]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def details(results: Sequence[Result], *, max_findings: int = 20, detected: bool = False) -> str:
    """Every finding of every failing result (and errors, and undetected variants); with
    `detected`, also the findings that confirmed a `detects` variant (why it failed)."""
    out = []
    for r in results:
        if r.ok and not (detected and r.status == "detected"):
            continue
        out.append(f"== {r.case} on {r.interpreter} under {r.engine}: {r.status}")
        if r.detail:
            out.append(f"   {r.detail}")
        for f in r.findings[:max_findings]:
            out.append(f.render())
        if len(r.findings) > max_findings:
            out.append(f"   … and {len(r.findings) - max_findings} more findings (see --json)")
        if r.blind_spots:
            shown = ", ".join(r.blind_spots[:10]) + (" …" if len(r.blind_spots) > 10 else "")
            out.append(
                f"   {len(r.blind_spots)} module(s) runtime finds that static tools cannot see: {shown}"
            )
    return "\n".join(out)


def summary_by_case(results: Sequence[Result]) -> str:
    """One line per case: how many runs passed, and whether every `detects` was confirmed."""
    lines = []
    for case in sorted({r.case for r in results}):
        mine = [r for r in results if r.case == case]
        under_test = [r for r in mine if not r.expected_to_fail]
        variants = [r for r in mine if r.expected_to_fail and r.status != "skip"]
        passed = sum(r.status == "pass" for r in under_test)
        skipped = sum(r.status == "skip" for r in under_test)
        unexercised = sum(r.status == "unexercised" for r in under_test)
        refused = sum(r.status == "refused" and r.ok for r in under_test)
        judged = len(under_test) - skipped - unexercised - refused
        text = f"{case}: {passed}/{judged} passed"
        if refused:
            text += f", {refused} refused as the case accepts"
        if skipped:
            text += f", {skipped} skipped"
        if unexercised:
            text += f", {unexercised} fault variant(s) not exercised"
        if variants:
            confirmed = sum(r.status == "detected" for r in variants)
            text += f"; detects {', '.join(sorted({r.engine for r in variants}))}: {confirmed}/{len(variants)} confirmed"
        lines.append(text)
    return "\n".join(lines)


def coverage(results: Sequence[Result]) -> dict:
    """Case × interpreter cells run out of those asked for, and why each other cell did not run.

    A cell is one case on one interpreter (whatever the engines). It ran when some engine got
    a verdict there; it is `skipped` when every result is a skip (the case does not support the
    interpreter, or is slow) and `error` when nothing but errors came back (e.g. no pinned file
    fits the interpreter). Reasons are the results' own details, so the text says what to fix.
    """
    cells: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        cells.setdefault((r.case, r.interpreter), []).append(r)
    not_run = []
    for (case, python), mine in sorted(cells.items(), key=_cell_order):
        statuses = {r.status for r in mine}
        if statuses <= {"skip"}:
            not_run.append(
                {
                    "case": case,
                    "interpreter": python,
                    "status": "skip",
                    "reason": mine[0].detail or "skipped",
                }
            )
        elif statuses <= {"skip", "error"}:
            error = next(r for r in mine if r.status == "error")
            reason = " ".join(error.detail.split()) or "error"
            not_run.append(
                {
                    "case": case,
                    "interpreter": python,
                    "status": "error",
                    "reason": reason if len(reason) <= 160 else reason[:157] + "...",
                }
            )
    return {"cells": len(cells), "run": len(cells) - len(not_run), "not_run": not_run}


def _cell_order(item) -> tuple:
    (case, python), _ = item
    return (case, tuple(int(p) if p.isdigit() else 0 for p in python.split(".")))


def coverage_text(results: Sequence[Result]) -> str:
    """`coverage: R/C case x interpreter cells run (P%)`, then each reason a cell did not run,
    with the cells it applies to (case: interpreters)."""
    cov = coverage(results)
    cells, ran = cov["cells"], cov["run"]
    share = f" ({100 * ran / cells:.1f}%)" if cells else ""
    lines = [f"coverage: {ran}/{cells} case x interpreter cells run{share}"]
    by_reason: dict[tuple[str, str], dict[str, list[str]]] = {}
    for cell_ in cov["not_run"]:
        key = (cell_["status"], cell_["reason"])
        by_reason.setdefault(key, {}).setdefault(cell_["case"], []).append(cell_["interpreter"])
    for (status, reason), by_case in sorted(by_reason.items()):
        count = sum(len(v) for v in by_case.values())
        word = "skipped" if status == "skip" else "error"
        lines.append(f"  {count} cell{'s' if count != 1 else ''} {word}: {reason}")
        lines += [f"    {case}: {', '.join(pys)}" for case, pys in sorted(by_case.items())]
    return "\n".join(lines)


def cell(r: Result) -> str:
    """One engine's verdict on one case, in a few words (the engine matrix)."""
    if r.status == "refused":
        message = r.detail.removeprefix("refused: ").split(" (accepted:")[0]
        message = " ".join(message.split())
        short = message if len(message) <= 70 else message[:67] + "..."
        return f"refused: {short}" + (" (accepted)" if r.refusal_accepted else "")
    if r.status == "skip":
        return "skipped"
    if r.status == "unexercised":
        return "not exercised (the fault changes nothing here)"
    if r.status == "error":
        return "error: " + " ".join(r.detail.split())[:60]
    if r.status == "pass":
        return "declared differences only" if r.flat_differences else "agrees with flat"
    if r.status == "undetected":
        return "undetected (passes, must fail)"
    counts: dict[str, int] = {}
    for f in r.findings:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    text = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items()))
    return text + (" (detected, as the case requires)" if r.status == "detected" else "")


def matrix_rows(results: Sequence[Result]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): cases (with the interpreter when several) down, engines across."""
    engines = list(dict.fromkeys(r.engine for r in results))
    pythons = sorted({r.interpreter for r in results})
    keys = list(dict.fromkeys((r.case, r.interpreter) for r in results))
    by_key = {(r.case, r.interpreter, r.engine): r for r in results}
    header = ["case" if len(pythons) == 1 else "case (python)", *engines]
    rows = []
    for case, python in sorted(keys):
        label = case if len(pythons) == 1 else f"{case} ({python})"
        rows.append(
            [
                label,
                *(
                    cell(by_key[(case, python, e)]) if (case, python, e) in by_key else ""
                    for e in engines
                ),
            ]
        )
    return header, rows


def matrix_markdown(results: Sequence[Result]) -> str:
    """The engine matrix as a Markdown table."""
    header, rows = matrix_rows(results)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(r) for r in rows)]) + "\n"


def matrix_text(results: Sequence[Result]) -> str:
    """The engine matrix for a terminal: one block per case, one line per engine."""
    header, rows = matrix_rows(results)
    width = max(len(h) for h in header[1:])
    out = []
    for row in rows:
        out.append(row[0])
        out += [f"  {h:<{width}}  {c}" for h, c in zip(header[1:], row[1:], strict=True) if c]
    return "\n".join(out)


MATRIX_BEGIN = "<!-- engine matrix: generated by harness run --markdown; do not edit by hand -->"
MATRIX_END = "<!-- end of engine matrix -->"


def write_markdown(path, results: Sequence[Result], command: str) -> None:
    """Write the matrix to `path`; in an existing file, replace only the generated block, so
    the prose around it (what each engine gets wrong, and why) is kept."""
    from pathlib import Path

    pythons = ", ".join(sorted({r.interpreter for r in results}))
    block = (
        f"{MATRIX_BEGIN}\n\nCommand: `{command}` (CPython {pythons})\n\n"
        f"{matrix_markdown(results)}\n{MATRIX_END}"
    )
    target = Path(path)
    old = target.read_text() if target.exists() else ""
    if MATRIX_BEGIN in old and MATRIX_END in old:
        head, rest = old.split(MATRIX_BEGIN, 1)
        text = head + block + rest.split(MATRIX_END, 1)[1]
    else:
        text = f"# Engine matrix\n\n{block}\n"
    target.write_text(text)


def to_json_report(results: Sequence[Result]) -> str:
    doc = {
        "schema": SCHEMA_VERSION,
        "ok": all(r.ok for r in results),
        "counts": {
            s: sum(r.status == s for r in results) for s in sorted({r.status for r in results})
        },
        "results": [to_plain(r) for r in results],
        "matrix": dict(zip(("header", "rows"), matrix_rows(results), strict=True)),
        "coverage": coverage(results),
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def to_junit(results: Sequence[Result]) -> str:
    """One testcase per case × interpreter × engine; findings become the failure text."""
    suite = ET.Element(
        "testsuite",
        name="venv-merge-harness",
        tests=str(len(results)),
        failures=str(
            sum(r.status in ("fail", "undetected") or _refused_failing(r) for r in results)
        ),
        errors=str(sum(r.status == "error" for r in results)),
        skipped=str(
            sum(
                r.status in ("skip", "unexercised") or (r.status == "refused" and r.ok)
                for r in results
            )
        ),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        tc = ET.SubElement(
            suite,
            "testcase",
            classname=f"harness.{r.case}",
            name=f"{r.interpreter}-{r.engine}",
            time=f"{r.seconds:.3f}",
        )
        if r.status in ("skip", "unexercised") or (r.status == "refused" and r.ok):
            ET.SubElement(tc, "skipped", message=r.detail)
        elif r.status == "error":
            ET.SubElement(tc, "error", message=r.detail[:200]).text = r.detail
        elif r.status in ("fail", "undetected") or _refused_failing(r):
            text = "\n".join([r.detail, *(f.render() for f in r.findings)]).strip()
            ET.SubElement(
                tc, "failure", message=f"{len(r.findings)} finding(s)" if r.findings else r.detail
            ).text = text
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _refused_failing(r: Result) -> bool:
    return r.status == "refused" and not r.ok
