"""The knee: the highest step of a rising load at which the SLOs still held."""

from __future__ import annotations

from dataclasses import dataclass

from cnop_loadtests.gate import Budget
from cnop_loadtests.stats import Window


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of the step shape, measured after it settled."""

    name: str
    users: int
    seconds: float
    window: Window

    @property
    def throughput(self) -> float:
        """Requests served per second (429s are refusals, not service)."""
        served = self.window.requests - self.window.throttled
        return served / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Knee:
    """The last step that held and the first that broke (None when none did)."""

    held: StepResult | None
    broke: StepResult | None

    def describe(self, budget: Budget) -> str:
        """One line for people: 'knee = 84.0 req/s, p95 = 41 ms (...)'."""
        if self.held is None:
            return "knee not found: the first step already broke the SLOs"
        window = self.held.window
        line = f"knee = {self.held.throughput:.1f} req/s, p95 = {window.percentile(0.95):.0f} ms"
        line += f", {budget.percentile_name} = {window.percentile(budget.latency_fraction):.0f} ms"
        line += f", error ratio {window.error_ratio:.2%} (SLO ≤ {budget.error_ratio:.2%})"
        if self.broke is None:
            return line + " (no step broke the SLOs: the knee lies higher)"
        return (
            line
            + f" (broke at {self.broke.throughput:.1f} req/s: {why_broken(self.broke, budget)})"
        )


def why_broken(step: StepResult, budget: Budget) -> str:
    """Which SLO a step broke, in words."""
    if step.window.requests == 0:
        return "no request was answered"
    reasons = []
    if not budget.latency_holds(step.window):
        latency = step.window.percentile(budget.latency_fraction)
        reasons.append(f"{budget.percentile_name} {latency:.0f} ms > {budget.latency_ms:.0f} ms")
    if not budget.errors_hold(step.window):
        reasons.append(f"error ratio {step.window.error_ratio:.2%} > {budget.error_ratio:.2%}")
    return ", ".join(reasons)


def find_knee(steps: list[StepResult], budget: Budget) -> Knee:
    """Walk the steps in order of rising load; stop at the first that broke the SLOs."""
    held = None
    for step in steps:
        if not budget.holds(step.window):
            return Knee(held, step)
        held = step
    return Knee(held, None)
