"""Request outcomes as the recorder classifies them, and the reports a run writes."""

from types import SimpleNamespace

import pytest

from cnop_loadtests.analysis import Phase, measure, verdict
from cnop_loadtests.gate import Budget
from cnop_loadtests.report import capacity_html, junit, summary
from cnop_loadtests.sampler import Sample, first_saturated, usage_between
from cnop_loadtests.stats import Timeline, outcome

pytestmark = pytest.mark.unit

BUDGET = Budget(latency_fraction=0.99, latency_ms=500.0, error_ratio=0.005)


@pytest.mark.parametrize(
    ("status", "exception", "expected"),
    [
        (200, None, "ok"),
        (429, None, "throttled"),
        (429, RuntimeError("marked a failure"), "throttled"),
        (503, RuntimeError("503"), "server_error"),
        (0, ConnectionError("refused"), "server_error"),
        (200, RuntimeError("cash 1 != 2"), "wrong_answer"),
        (404, RuntimeError("expected 201"), "wrong_answer"),
    ],
)
def test_outcomes(status, exception, expected):
    assert outcome(SimpleNamespace(status_code=status), exception) == expected


def synthetic_step_run() -> tuple[Timeline, list[Phase], list[Sample]]:
    """Three 10 s steps: the third is slow; the store's CPU climbs to saturation."""
    timeline, phases, samples = Timeline(), [], []
    for n, (rate, ms, store_cpu) in enumerate([(10, 30, 40.0), (20, 60, 90.0), (30, 900, 99.0)]):
        start = 1000.0 + 10 * n
        phases.append(Phase(f"step-{n + 1}", rate, True, start, start + 10))
        for second in range(int(start), int(start) + 10):
            for _ in range(rate):
                timeline.add(second + 0.1, ms, "ok")
            samples.append(Sample(second + 0.5, "store", store_cpu, 80.0))
            samples.append(Sample(second + 0.5, "gateway", 30.0, 60.0))
    return timeline, phases, samples


def test_a_step_run_finds_the_knee_and_the_process_that_saturates_first():
    result = measure("step", *synthetic_step_run(), BUDGET)
    assert result.knee is not None
    assert result.knee.held is not None
    assert result.knee.held.name == "step-2"
    assert result.saturated_first == "store"
    result.checks = verdict(result, min_rps=15)
    assert all(c.passed for c in result.checks)
    result.checks = verdict(result, min_rps=25)
    assert not all(c.passed for c in result.checks)


def test_usage_is_averaged_per_span():
    _, _, samples = synthetic_step_run()
    usage = usage_between(samples, 1010, 1020)
    assert usage["store"].mean_cpu == 90.0
    assert (
        first_saturated([usage_between(samples, 1000, 1010)]) == "store"
    )  # busiest, none saturated


def test_reports_carry_the_verdict():
    result = measure("step", *synthetic_step_run(), BUDGET)
    result.checks = verdict(result, min_rps=25)
    xml = junit(result.checks, "capacity.step")
    assert 'failures="1"' in xml
    assert "knee: throughput" in xml
    page = capacity_html(result, "run-1")
    assert page.count("<svg") == 3
    assert ">knee</text>" in page
    assert "saturates first: store" in page
    figures = summary(result)
    assert figures["knee_rps"] == 20.0
    assert figures["passed"] is False


def test_a_service_of_several_workers_saturates_near_as_many_cores():
    # The gateway's two workers at 150 % of a core: three quarters busy, not saturated;
    # a one-process service at 90 % is.
    samples = [Sample(1000.5 + s, "gateway", 150.0, 160.0, cores=2) for s in range(10)]
    samples += [Sample(1000.5 + s, "user", 90.0, 130.0) for s in range(10)]
    assert first_saturated([usage_between(samples, 1000, 1011)]) == "user"
    alone = [sample for sample in samples if sample.name == "gateway"]
    assert (
        first_saturated([usage_between(alone, 1000, 1011)]) == "gateway"
    )  # busiest, not saturated
    busier = [Sample(1000.5 + s, "gateway", 180.0, 160.0, cores=2) for s in range(10)]
    assert usage_between(busier, 1000, 1011)["gateway"].cores == 2
    assert first_saturated([usage_between(busier + samples[10:], 1000, 1011)]) == "gateway"
