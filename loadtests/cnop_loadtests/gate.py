"""Pass or fail from policies/slo.toml: the same numbers the alerts use."""

from __future__ import annotations

from dataclasses import dataclass

from cnop_loadtests.stats import Window
from cnop_policies.slo import Slos


@dataclass(frozen=True, slots=True)
class Budget:
    """What the SLOs allow any stretch of traffic."""

    latency_fraction: float  # e.g. 0.99 of requests ...
    latency_ms: float  # ... must finish within this
    error_ratio: float  # share of 5xx / transport errors allowed

    @classmethod
    def from_slos(cls, slos: Slos) -> Budget:
        """The budget of the public API's SLOs."""
        return cls(
            latency_fraction=slos.latency.objective,
            latency_ms=slos.latency_threshold_seconds * 1000,
            error_ratio=slos.availability.error_budget,
        )

    @property
    def percentile_name(self) -> str:
        """The percentile the latency SLO speaks of, as people write it (p99)."""
        return f"p{self.latency_fraction * 100:g}"

    def latency_holds(self, window: Window) -> bool:
        """True when the SLO's percentile of the window is within the threshold."""
        return window.percentile(self.latency_fraction) <= self.latency_ms

    def errors_hold(self, window: Window) -> bool:
        """True when the window's error ratio is within the availability budget."""
        return window.error_ratio <= self.error_ratio

    def holds(self, window: Window) -> bool:
        """Both SLOs held over the window, and it saw traffic at all."""
        return window.requests > 0 and self.latency_holds(window) and self.errors_hold(window)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the verdict: what was measured against what was allowed."""

    name: str
    passed: bool
    measured: str
    limit: str


def slo_checks(label: str, window: Window, budget: Budget) -> list[Check]:
    """Latency and error ratio of one stretch of traffic against the SLOs."""
    latency = window.percentile(budget.latency_fraction)
    return [
        Check(
            f"{label}: {budget.percentile_name} latency",
            window.requests > 0 and budget.latency_holds(window),
            f"{latency:.0f} ms over {window.requests} requests",
            f"≤ {budget.latency_ms:.0f} ms",
        ),
        Check(
            f"{label}: error ratio",
            window.requests > 0 and budget.errors_hold(window),
            f"{window.error_ratio:.4%} ({window.server_errors} of {window.requests})",
            f"≤ {budget.error_ratio:.2%}",
        ),
    ]


def correctness_check(window: Window) -> Check:
    """Journeys refused no answer: a wrong answer fails the run whatever the load."""
    return Check(
        "wrong answers",
        window.wrong_answers == 0,
        str(window.wrong_answers),
        "0",
    )


def throughput_check(label: str, rate: float, minimum: float) -> Check:
    """The platform served at least the stack's minimum rate."""
    return Check(f"{label}: throughput", rate >= minimum, f"{rate:.1f} req/s", f"≥ {minimum:g}")


def passed(checks: list[Check]) -> bool:
    """The run passes only when every check does (and there is at least one)."""
    return bool(checks) and all(check.passed for check in checks)
