"""Run results as a table for people, JSON for machines and JUnit XML for CI.

The JSON report (schema version 1) is documented in docs/report-schema.md. Everything but the
`seconds` fields is deterministic, so two runs of one corpus can be diffed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from harness.model import to_plain
from harness.runner import Result

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
        text = f"{case}: {passed}/{len(under_test) - skipped} passed"
        if skipped:
            text += f", {skipped} skipped"
        if variants:
            confirmed = sum(r.status == "detected" for r in variants)
            text += f"; detects {', '.join(sorted({r.engine for r in variants}))}: {confirmed}/{len(variants)} confirmed"
        lines.append(text)
    return "\n".join(lines)


def to_json_report(results: Sequence[Result]) -> str:
    doc = {
        "schema": SCHEMA_VERSION,
        "ok": all(r.ok for r in results),
        "counts": {
            s: sum(r.status == s for r in results) for s in sorted({r.status for r in results})
        },
        "results": [to_plain(r) for r in results],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def to_junit(results: Sequence[Result]) -> str:
    """One testcase per case × interpreter × engine; findings become the failure text."""
    suite = ET.Element(
        "testsuite",
        name="venv-merge-harness",
        tests=str(len(results)),
        failures=str(sum(r.status in ("fail", "undetected") for r in results)),
        errors=str(sum(r.status == "error" for r in results)),
        skipped=str(sum(r.status == "skip" for r in results)),
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
        if r.status == "skip":
            ET.SubElement(tc, "skipped", message=r.detail)
        elif r.status == "error":
            ET.SubElement(tc, "error", message=r.detail[:200]).text = r.detail
        elif r.status in ("fail", "undetected"):
            text = "\n".join([r.detail, *(f.render() for f in r.findings)]).strip()
            ET.SubElement(
                tc, "failure", message=f"{len(r.findings)} finding(s)" if r.findings else r.detail
            ).text = text
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
