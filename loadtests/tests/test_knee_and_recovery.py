"""The knee finder on synthetic curves, and recovery after a stress."""

import pytest

from cnop_loadtests.gate import Budget
from cnop_loadtests.knee import StepResult, find_knee
from cnop_loadtests.recovery import recovery_seconds
from cnop_loadtests.stats import Timeline, Window

pytestmark = pytest.mark.unit

BUDGET = Budget(latency_fraction=0.99, latency_ms=500.0, error_ratio=0.005)


def step(n: int, rate: float, latency_ms: float, error_ratio: float = 0.0) -> StepResult:
    """A step of 10 s at `rate` req/s whose every request took `latency_ms`."""
    w = Window()
    requests = int(rate * 10)
    errors = round(requests * error_ratio)
    for i in range(requests):
        w.add(latency_ms, "server_error" if i < errors else "ok")
    return StepResult(f"step-{n}", n * 10, 10.0, w)


def curve(latencies: list[float], errors: list[float] | None = None) -> list[StepResult]:
    errors = errors or [0.0] * len(latencies)
    pairs = enumerate(zip(latencies, errors, strict=True))
    return [step(n + 1, 10.0 * (n + 1), ms, e) for n, (ms, e) in pairs]


def test_the_knee_is_the_last_step_before_latency_breaks():
    knee = find_knee(curve([20, 25, 40, 120, 800, 2000]), BUDGET)
    assert knee.held is not None
    assert knee.held.name == "step-4"
    assert knee.held.throughput == pytest.approx(40.0)
    assert knee.broke is not None
    assert knee.broke.name == "step-5"
    assert "knee = 40.0 req/s, p95 = 120 ms" in knee.describe(BUDGET)
    assert "p99 800 ms > 500 ms" in knee.describe(BUDGET)


def test_errors_break_a_step_even_when_it_is_fast():
    knee = find_knee(curve([20, 20, 20], [0.0, 0.002, 0.02]), BUDGET)
    assert knee.held is not None
    assert knee.held.name == "step-2"
    assert knee.broke is not None
    assert "error ratio" in knee.describe(BUDGET)


def test_a_step_after_the_first_break_does_not_move_the_knee():
    # A later step that happens to look fine is past a break: the knee stays below it.
    knee = find_knee(curve([20, 900, 30]), BUDGET)
    assert knee.held is not None
    assert knee.held.name == "step-1"


def test_no_break_means_the_knee_lies_higher():
    knee = find_knee(curve([20, 30]), BUDGET)
    assert knee.broke is None
    assert "knee lies higher" in knee.describe(BUDGET)


def test_no_knee_when_the_first_step_breaks():
    knee = find_knee(curve([900]), BUDGET)
    assert knee.held is None
    assert "first step already broke" in knee.describe(BUDGET)


def timeline(per_second: dict[int, tuple[int, float, int]]) -> Timeline:
    """second → (requests, latency ms, server errors)."""
    t = Timeline()
    for second, (requests, ms, errors) in per_second.items():
        for i in range(requests):
            t.add(second + 0.5, ms, "server_error" if i < errors else "ok")
    return t


def test_recovery_is_when_traffic_looks_like_the_baseline_again():
    baseline = Window()
    for _ in range(100):
        baseline.add(40, "ok")
    seconds = dict.fromkeys(range(100, 110), (10, 2000.0, 5))  # overloaded until 110
    seconds |= dict.fromkeys(range(110, 130), (10, 45.0, 0))  # normal from 110
    assert recovery_seconds(timeline(seconds), 105.0, 130.0, baseline, BUDGET) == 5.0


def test_a_platform_that_never_recovers_says_so():
    baseline = Window()
    baseline.add(40, "ok")
    seconds = dict.fromkeys(range(100, 130), (10, 2000.0, 0))
    assert recovery_seconds(timeline(seconds), 105.0, 130.0, baseline, BUDGET) is None
