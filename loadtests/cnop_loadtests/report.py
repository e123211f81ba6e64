"""The run's reports: JUnit XML for CI, a capacity report in HTML with charts, a JSON summary."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from cnop_loadtests.analysis import RunResult
from cnop_loadtests.charts import Line, bar_chart, line_chart
from cnop_loadtests.gate import Check
from cnop_loadtests.knee import StepResult
from cnop_loadtests.sampler import SATURATED_CPU_PERCENT

# A percentile is only as good as the requests slower than it: with fewer than
# ten beyond it, one slow request moves it. So p99 wants 1,000 requests in a
# step, p95 200, p50 20; below that the report says the figure is thin.
TAIL_SAMPLES = 10
PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def rests_on_too_few(requests: int, fraction: float) -> bool:
    """Whether fewer than TAIL_SAMPLES requests lie beyond this percentile."""
    return round(requests * (1 - fraction), 6) < TAIL_SAMPLES


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
        "saturation": result.saturation_line(),
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
                "thin_percentiles": [
                    n for n, q in PERCENTILES.items() if rests_on_too_few(step.window.requests, q)
                ],
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


def step_label(step: StepResult) -> str:
    """A step on a chart's axis: its users and the throughput measured."""
    return f"{step.users}\n{step.throughput:.1f}/s"


def _thin_note(step: StepResult) -> str:
    thin = [n for n, q in PERCENTILES.items() if rests_on_too_few(step.window.requests, q)]
    return f"thin: {', '.join(thin)}" if thin else ""


def step_lines(result: RunResult) -> list[str]:
    """Each step in one line for the console: its load, its samples, its percentiles."""
    lines = []
    for step in result.steps:
        w = step.window
        ms = "/".join(f"{w.percentile(q):.0f}" for q in PERCENTILES.values())
        line = (
            f"{step.name}: {step.users} users, {step.throughput:.1f} req/s,"
            f" {w.requests:,} samples, p50/p95/p99 {ms} ms"
        )
        note = _thin_note(step)
        lines.append(f"{line} ({note})" if note else line)
    return lines


def _steps_table(result: RunResult) -> str:
    head = (
        "<tr><th>step</th><th>users</th><th>req/s</th><th>samples</th>"
        "<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>5xx + dropped</th>"
        "<th>wrong</th><th>429</th><th>note</th></tr>"
    )
    rows = []
    for step in result.steps:
        w = step.window
        cells = [
            html.escape(step.name),
            str(step.users),
            f"{step.throughput:.1f}",
            f"{w.requests:,}",
            *(f"{w.percentile(q):.0f}" for q in PERCENTILES.values()),
            str(w.server_errors),
            str(w.wrong_answers),
            str(w.throttled),
            html.escape(_thin_note(step)),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def capacity_html(result: RunResult, run_id: str) -> str:
    """The capacity report: latency against throughput per step, errors and 429s, CPU."""
    labels = [step_label(s) for s in result.steps]
    knee = None
    if result.knee and result.knee.held:
        knee = result.steps.index(result.knee.held)
    latency = {n: [s.window.percentile(q) for s in result.steps] for n, q in PERCENTILES.items()}
    thin = {
        n: [rests_on_too_few(s.window.requests, q) for s in result.steps]
        for n, q in PERCENTILES.items()
    }
    errors = {
        "5xx + dropped": [s.window.server_errors for s in result.steps],
        "wrong answers": [s.window.wrong_answers for s in result.steps],
        "429 (refused by a rate limit)": [s.window.throttled for s in result.steps],
    }
    names = sorted({n for usage in result.usage for n in usage})
    cpu = {n: [u[n].mean_cpu / u[n].cores if n in u else 0.0 for u in result.usage] for n in names}
    rows = "".join(
        f"<tr><td>{html.escape(c.name)}</td><td>{'pass' if c.passed else 'FAIL'}</td>"
        f"<td>{html.escape(c.measured)}</td><td>{html.escape(c.limit)}</td></tr>"
        for c in result.checks
    )
    headline = result.knee.describe(result.budget) if result.knee else ""
    budget = result.budget
    slo = Line(budget.latency_ms, f"SLO: {budget.percentile_name} ≤ {budget.latency_ms:.0f} ms")
    saturation = Line(SATURATED_CPU_PERCENT, f"saturated at {SATURATED_CPU_PERCENT:.0f} %")
    charts = [
        line_chart(
            "Latency per step",
            labels,
            latency,
            "response time (ms)",
            knee=knee,
            limit=slo,
            thin=thin,
        ),
        bar_chart("Errors and 429s per step", labels, errors, "requests", knee=knee),
        line_chart(
            "CPU per process (mean over the settled step)",
            labels,
            cpu,
            "% of the cores it may use",
            knee=knee,
            limit=saturation,
            top=100.0,
        ),
    ]
    figures = "\n".join(f"<figure>{chart}</figure>" for chart in charts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Capacity report {html.escape(run_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem}}
td,th{{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap}}
.wide,figure{{overflow-x:auto}} figure{{margin:1.5rem 0}}
svg{{width:100%;min-width:640px;height:auto}}</style>
</head><body>
<h1>Capacity report — {html.escape(result.shape)} run {html.escape(run_id)}</h1>
<p><strong>{html.escape(headline)}</strong></p>
<p>{html.escape(result.saturation_line())}</p>
<div class="wide"><table><tr><th>check</th><th>result</th><th>measured</th><th>allowed</th></tr>
{rows}</table></div>
<h2>Steps</h2>
<p>Each step is measured after it settled; "samples" is the number of requests
behind its percentiles. A percentile with fewer than {TAIL_SAMPLES} requests beyond
it is <em>thin</em>: noted here, and drawn hollow.</p>
<div class="wide">{_steps_table(result)}</div>
{figures}
</body></html>
"""


def write_reports(folder: Path, result: RunResult, run_id: str) -> None:
    """junit.xml, capacity.html and summary.json into the run's folder."""
    (folder / "junit.xml").write_text(junit(result.checks, f"capacity.{result.shape}"))
    (folder / "capacity.html").write_text(capacity_html(result, run_id))
    (folder / "summary.json").write_text(json.dumps(summary(result), indent=2))
