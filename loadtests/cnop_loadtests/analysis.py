"""A finished run, read back: its phases measured, its knee, its recovery, its verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnop_loadtests.gate import (
    Budget,
    Check,
    correctness_check,
    slo_checks,
    throughput_check,
)
from cnop_loadtests.invariants import Violation
from cnop_loadtests.knee import Knee, StepResult, find_knee
from cnop_loadtests.plans import settle_seconds
from cnop_loadtests.recovery import recovery_seconds
from cnop_loadtests.sampler import Sample, Saturation, Usage, first_saturated, usage_between
from cnop_loadtests.stats import Timeline, Window, merged

# How long recovery may take after a stress before the run fails.
RECOVERY_BOUND_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Phase:
    """A stage as it really ran."""

    name: str
    users: int
    measured: bool
    start: float
    end: float

    @property
    def settled_start(self) -> float:
        """Where the steady part of the stage begins."""
        return self.start + settle_seconds(self.end - self.start)


@dataclass
class RunResult:
    """Everything the reports and the verdict need."""

    shape: str
    budget: Budget
    phases: list[Phase]
    steps: list[StepResult]
    usage: list[dict[str, Usage]]
    total: Window
    knee: Knee | None = None
    saturation: Saturation | None = None
    recovery: float | None = None
    violations: list[Violation] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def saturated_first(self) -> str | None:
        """The process that reached the saturation measure first; None if none did."""
        return self.saturation.name if self.saturation and self.saturation.saturated else None

    def saturation_line(self) -> str:
        """The saturation finding in words, with its measure; "" when nothing was sampled."""
        return self.saturation.describe([s.name for s in self.steps]) if self.saturation else ""


def load_phases(folder: Path) -> list[Phase]:
    """phases.json as written by the shape (a stage cut short ends at the last request)."""
    raw: list[dict[str, Any]] = json.loads((folder / "phases.json").read_text())
    return [
        Phase(p["name"], int(p["users"]), bool(p["measured"]), p["start"], p["end"] or p["start"])
        for p in raw
    ]


def measure(
    shape: str,
    timeline: Timeline,
    phases: list[Phase],
    samples: list[Sample],
    budget: Budget,
) -> RunResult:
    """Cut the timeline into phases and find the knee (step) or the recovery time (stress)."""
    steps = [
        StepResult(
            p.name,
            p.users,
            max(p.end - p.settled_start, 1e-9),
            timeline.between(p.settled_start, p.end),
        )
        for p in phases
    ]
    usage = [usage_between(samples, p.settled_start, p.end) for p in phases]
    measured = [s.window for s, p in zip(steps, phases, strict=True) if p.measured]
    result = RunResult(shape, budget, phases, steps, usage, merged(measured))
    if shape == "step":
        result.knee = find_knee(steps, budget)
        upto = steps.index(result.knee.broke) + 1 if result.knee.broke else len(steps)
        result.saturation = first_saturated(usage[:upto])
    if shape == "stress":
        by_name = {p.name: (p, s) for p, s in zip(phases, steps, strict=True)}
        if "stress" in by_name and "baseline" in by_name and "recovery" in by_name:
            result.recovery = recovery_seconds(
                timeline,
                by_name["stress"][0].end,
                by_name["recovery"][0].end,
                by_name["baseline"][1].window,
                budget,
            )
        result.saturation = first_saturated(usage)
    return result


def verdict(result: RunResult, min_rps: float) -> list[Check]:
    """The gate: SLOs where they must hold, throughput, correctness, invariants, recovery."""
    checks = [correctness_check(merged(s.window for s in result.steps))]
    if result.shape == "step":
        knee = result.knee
        rate = knee.held.throughput if knee and knee.held else 0.0
        checks.append(throughput_check("knee", rate, min_rps))
    elif result.shape == "stress":
        baseline = [s for s in result.steps if s.name == "baseline"]
        if baseline:
            checks += slo_checks("baseline", baseline[0].window, result.budget)
        took = result.recovery
        checks.append(
            Check(
                "recovery after stress",
                took is not None and took <= RECOVERY_BOUND_SECONDS,
                "never" if took is None else f"{took:.0f} s",
                f"≤ {RECOVERY_BOUND_SECONDS:.0f} s",
            )
        )
    else:
        checks += slo_checks(result.shape, result.total, result.budget)
        if result.shape in ("steady", "soak"):
            seconds = sum(
                s.seconds for s, p in zip(result.steps, result.phases, strict=True) if p.measured
            )
            served = result.total.requests - result.total.throttled
            checks.append(throughput_check(result.shape, served / max(seconds, 1e-9), min_rps))
    checks.append(
        Check(
            "invariants of every account",
            not result.violations,
            f"{len(result.violations)} violations",
            "0",
        )
    )
    return checks
