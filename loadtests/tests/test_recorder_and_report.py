"""Request outcomes as the recorder classifies them, and the reports a run writes."""

from types import SimpleNamespace

import pytest

from cnop_loadtests.analysis import Phase, measure, verdict
from cnop_loadtests.gate import Budget
from cnop_loadtests.report import capacity_html, junit, rests_on_too_few, step_lines, summary
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
    busiest = first_saturated([usage_between(samples, 1000, 1010)])
    assert busiest is not None
    assert (busiest.name, busiest.saturated, busiest.share) == ("store", False, 40.0)
    # At 40 % it is the busiest, not saturated: the line says which, and by what measure.
    assert busiest.describe(["step-1"]) == (
        "no process saturated (saturated = mean CPU ≥ 85 % of the cores it can use);"
        " busiest: store at 40 % of its 1 core in step-1"
    )


def test_reports_carry_the_verdict():
    result = measure("step", *synthetic_step_run(), BUDGET)
    result.checks = verdict(result, min_rps=25)
    xml = junit(result.checks, "capacity.step")
    assert 'failures="1"' in xml
    assert "knee: throughput" in xml
    page = capacity_html(result, "run-1")
    assert page.count("<svg") == 3
    assert "knee (last step within the SLOs)" in page
    assert "saturated first: store (90 % of its 1 core in step-2;" in page
    figures = summary(result)
    assert figures["knee_rps"] == 20.0
    assert figures["passed"] is False


def test_a_service_of_several_workers_saturates_near_as_many_cores():
    # The gateway's two workers at 150 % of a core: three quarters busy, not saturated;
    # a one-process service at 90 % is.
    samples = [Sample(1000.5 + s, "gateway", 150.0, 160.0, cores=2) for s in range(10)]
    samples += [Sample(1000.5 + s, "user", 90.0, 130.0) for s in range(10)]
    assert _first(samples) == ("user", True)
    alone = [sample for sample in samples if sample.name == "gateway"]
    assert _first(alone) == ("gateway", False)  # busiest, not saturated
    busier = [Sample(1000.5 + s, "gateway", 180.0, 160.0, cores=2) for s in range(10)]
    assert usage_between(busier, 1000, 1011)["gateway"].cores == 2
    assert _first(busier + samples[10:]) == ("gateway", True)


def _first(samples: list[Sample]) -> tuple[str, bool]:
    found = first_saturated([usage_between(samples, 1000, 1011)])
    assert found is not None
    return found.name, found.saturated


@pytest.mark.parametrize(
    ("requests", "fraction", "thin"),
    [(999, 0.99, True), (1000, 0.99, False), (199, 0.95, True), (200, 0.95, False),
     (19, 0.5, True), (20, 0.5, False), (0, 0.5, True)],
)  # fmt: skip
def test_a_percentile_is_thin_with_fewer_than_ten_requests_beyond_it(requests, fraction, thin):
    assert rests_on_too_few(requests, fraction) is thin


def test_the_report_says_which_percentiles_rest_on_too_few_samples():
    timeline, phases, samples = synthetic_step_run()
    for second in range(1020, 1030):  # 840 more requests in the third step's settled part
        for _ in range(140):
            timeline.add(second + 0.2, 900, "ok")
    result = measure("step", timeline, phases, samples, BUDGET)
    steps = summary(result)["steps"]
    assert isinstance(steps, list)
    assert [s["requests"] for s in steps] == [60, 120, 1020]  # settled parts only
    assert [s["thin_percentiles"] for s in steps] == [["p95", "p99"], ["p95", "p99"], []]
    page = capacity_html(result, "run-1")
    assert "<td>1,020</td>" in page  # each step's sample count
    assert page.count("thin: p95, p99") == 2
    assert "p99: too few samples" in page  # the hollow points' legend
    assert "p95: too few samples" in page
    # And on the console, step by step.
    assert step_lines(result)[0].startswith(
        "step-1: 10 users, 10.0 req/s, 60 samples, p50/p95/p99 "
    )
    assert step_lines(result)[0].endswith(" ms (thin: p95, p99)")
    assert step_lines(result)[2].endswith(" ms")


def test_the_charts_have_units_limits_and_step_labels():
    result = measure("step", *synthetic_step_run(), BUDGET)
    page = capacity_html(result, "run-1")
    for text in [
        "response time (ms)",
        "SLO: p99 ≤ 500 ms",
        "% of the cores it may use",
        "saturated at 85 %",
        "users in the step, and the throughput measured (requests/s)",
        "20.0/s",
    ]:
        assert text in page, text
    # No error in any step: the chart says so rather than drawing a flat line.
    assert "Errors and 429s per step — none in any step" in page
    # Gridlines and more than the two ticks of the old chart (0 and the maximum).
    assert page.count('id="ytick_') >= 6
