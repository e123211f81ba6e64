"""How long the platform takes to come back after being driven past its knee."""

from __future__ import annotations

from cnop_loadtests.gate import Budget
from cnop_loadtests.stats import Timeline, Window, merged

# A second alone is noisy: recovery counts only once this many seconds in a row look normal.
STEADY_SECONDS = 3
# p95 counts as back to baseline within this factor of it (or this many ms, whichever is larger).
LATENCY_FACTOR = 1.5
LATENCY_SLACK_MS = 20.0


def is_normal(window: Window, baseline: Window, budget: Budget) -> bool:
    """True when a stretch looks like the baseline: p95 near it and errors within budget."""
    if window.requests == 0:
        return False
    p95_limit = max(
        baseline.percentile(0.95) * LATENCY_FACTOR, baseline.percentile(0.95) + LATENCY_SLACK_MS
    )
    error_limit = max(baseline.error_ratio, budget.error_ratio)
    return window.percentile(0.95) <= p95_limit and window.error_ratio <= error_limit


def recovery_seconds(
    timeline: Timeline, stress_end: float, until: float, baseline: Window, budget: Budget
) -> float | None:
    """Seconds from the end of the stress until traffic looks like the baseline; None: never."""
    start = int(stress_end)
    for second in range(start, int(until) - STEADY_SECONDS + 1):
        span = merged(
            timeline.seconds.get(s, Window()) for s in range(second, second + STEADY_SECONDS)
        )
        if is_normal(span, baseline, budget):
            return float(second - stress_end) if second > stress_end else 0.0
    return None
