"""The run's reports: JUnit XML for CI, a capacity report in HTML with charts, a JSON summary."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from cnop_loadtests.analysis import RunResult
from cnop_loadtests.gate import Check

COLOURS = (
    "#1f5eff",
    "#e8590c",
    "#2f9e44",
    "#c2255c",
    "#6741d9",
    "#0c8599",
    "#868e96",
    "#f08c00",
    "#000000",
    "#a61e4d",
    "#5c940d",
    "#364fc7",
)
LEGEND_PER_ROW = 5


def junit(checks: Sequence[Check], suite: str) -> str:
    """One testcase per check; a failed check is a <failure> with what was measured."""
    failures = sum(not c.passed for c in checks)
    root = ET.Element("testsuite", name=suite, tests=str(len(checks)), failures=str(failures))
    for check in checks:
        case = ET.SubElement(root, "testcase", classname=suite, name=check.name)
        if not check.passed:
            failure = ET.SubElement(
                case, "failure", message=f"{check.measured}, allowed {check.limit}"
            )
            failure.text = f"{check.name}: measured {check.measured}, allowed {check.limit}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def summary(result: RunResult) -> dict[str, object]:
    """The figures of a run, for machines (and docs/capacity.md)."""
    knee = result.knee
    return {
        "shape": result.shape,
        "passed": all(c.passed for c in result.checks),
        "knee_rps": round(knee.held.throughput, 1) if knee and knee.held else None,
        "knee_p95_ms": knee.held.window.percentile(0.95) if knee and knee.held else None,
        "knee": knee.describe(result.budget) if knee else None,
        "saturated_first": result.saturated_first,
        "recovery_seconds": result.recovery,
        "violations": [str(v) for v in result.violations],
        "steps": [
            {
                "name": step.name,
                "users": step.users,
                "throughput_rps": round(step.throughput, 2),
                "p50_ms": step.window.percentile(0.5),
                "p95_ms": step.window.percentile(0.95),
                "p99_ms": step.window.percentile(0.99),
                "requests": step.window.requests,
                "server_errors": step.window.server_errors,
                "wrong_answers": step.window.wrong_answers,
                "throttled": step.window.throttled,
                "cpu_percent": {n: round(u.mean_cpu, 1) for n, u in usage.items()},
                "rss_mib": {n: round(u.peak_rss_mib, 1) for n, u in usage.items()},
            }
            for step, usage in zip(result.steps, result.usage, strict=True)
        ],
        "checks": [
            {"name": c.name, "passed": c.passed, "measured": c.measured, "limit": c.limit}
            for c in result.checks
        ],
    }


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    unit: str,
    marker: int | None = None,
) -> str:
    """An inline SVG line chart (no script, no external file): one line per series."""
    rows = (len(series) + LEGEND_PER_ROW - 1) // LEGEND_PER_ROW
    width, height, left, top = 640, 250 + 16 * rows, 56, 28
    bottom = 24 + 16 * rows
    plot_w, plot_h = width - left - 16, height - bottom - top
    peak = max([v for values in series.values() for v in values] + [1e-9])
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / count)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="18" font-weight="600">{html.escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"'
        ' stroke="#999"/>',
        f'<text x="4" y="{top + 10}" font-size="11">{peak:.0f} {html.escape(unit)}</text>',
        f'<text x="4" y="{top + plot_h}" font-size="11">0</text>',
    ]
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle">'
            f"{html.escape(label)}</text>"
        )
    if marker is not None:
        parts.append(
            f'<line x1="{x(marker):.1f}" y1="{top}" x2="{x(marker):.1f}" y2="{top + plot_h}"'
            ' stroke="#c92a2a" stroke-dasharray="4 3"/>'
            f'<text x="{x(marker) + 4:.1f}" y="{top + 12}" font-size="11"'
            ' fill="#c92a2a">knee</text>'
        )
    for n, (name, values) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        row, column = divmod(n, LEGEND_PER_ROW)
        parts.append(
            f'<text x="{left + 8 + 110 * column}" y="{top + plot_h + 32 + 16 * row}"'
            f' font-size="11" fill="{colour}">'
            f"■ {html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def capacity_html(result: RunResult, run_id: str) -> str:
    """The capacity report: latency against throughput per step, errors and 429s, CPU."""
    labels = [f"{s.name} ({s.throughput:.0f}/s)" for s in result.steps]
    marker = None
    if result.knee and result.knee.held:
        marker = result.steps.index(result.knee.held)
    latency = {
        "p50": [s.window.percentile(0.5) for s in result.steps],
        "p95": [s.window.percentile(0.95) for s in result.steps],
        "p99": [s.window.percentile(0.99) for s in result.steps],
    }
    errors = {
        "5xx + dropped": [float(s.window.server_errors) for s in result.steps],
        "wrong answers": [float(s.window.wrong_answers) for s in result.steps],
        "429": [float(s.window.throttled) for s in result.steps],
    }
    names = sorted({n for usage in result.usage for n in usage})
    cpu = {n: [u[n].mean_cpu if n in u else 0.0 for u in result.usage] for n in names}
    rows = "".join(
        f"<tr><td>{html.escape(c.name)}</td><td>{'pass' if c.passed else 'FAIL'}</td>"
        f"<td>{html.escape(c.measured)}</td><td>{html.escape(c.limit)}</td></tr>"
        for c in result.checks
    )
    headline = result.knee.describe(result.budget) if result.knee else ""
    if result.saturated_first:
        headline += f" — saturates first: {result.saturated_first}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Capacity report {html.escape(run_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:900px;margin:2rem auto}}
td,th{{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}}
svg{{width:100%;height:auto}}</style>
</head><body>
<h1>Capacity report — {html.escape(result.shape)} run {html.escape(run_id)}</h1>
<p><strong>{html.escape(headline)}</strong></p>
<table><tr><th>check</th><th>result</th><th>measured</th><th>allowed</th></tr>{rows}</table>
{line_chart("Latency per step (throughput in the labels)", labels, latency, "ms", marker)}
{line_chart("Errors and 429s per step", labels, errors, "requests", marker)}
{line_chart("CPU per process (mean, % of one core)", labels, cpu, "%", marker)}
</body></html>
"""


def write_reports(folder: Path, result: RunResult, run_id: str) -> None:
    """junit.xml, capacity.html and summary.json into the run's folder."""
    (folder / "junit.xml").write_text(junit(result.checks, f"capacity.{result.shape}"))
    (folder / "capacity.html").write_text(capacity_html(result, run_id))
    (folder / "summary.json").write_text(json.dumps(summary(result), indent=2))
