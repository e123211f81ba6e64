"""The arithmetic the gate rests on: windows, percentiles, SLO budget, checks."""

import pytest

from cnop_loadtests.gate import Budget, correctness_check, passed, slo_checks, throughput_check
from cnop_loadtests.stats import Timeline, Window, bucket
from cnop_policies import slo

pytestmark = pytest.mark.unit

BUDGET = Budget(latency_fraction=0.99, latency_ms=500.0, error_ratio=0.005)


def window(times: dict[int, int], server_errors: int = 0, throttled: int = 0) -> Window:
    w = Window()
    for ms, count in times.items():
        for _ in range(count):
            w.add(ms, "ok")
    for _ in range(server_errors):
        w.add(10, "server_error")
    for _ in range(throttled):
        w.add(1, "throttled")
    return w


def test_buckets_keep_small_times_exact_and_round_large_ones():
    assert [bucket(7.4), bucket(99.6), bucket(454), bucket(1449)] == [7, 100, 450, 1400]


def test_percentiles_come_from_the_histogram():
    w = window({10: 90, 200: 9, 900: 1})
    assert w.percentile(0.5) == 10
    assert w.percentile(0.95) == 200
    assert w.percentile(0.99) == 200
    assert w.percentile(1.0) == 900
    assert Window().percentile(0.99) == 0.0


def test_outcomes_are_counted_apart():
    w = Window()
    for outcome in ("ok", "throttled", "server_error", "wrong_answer", "ok"):
        w.add(5, outcome)
    assert (w.requests, w.throttled, w.server_errors, w.wrong_answers, w.failures) == (
        5,
        1,
        1,
        1,
        2,
    )
    assert w.error_ratio == pytest.approx(0.2)


def test_windows_survive_json_and_merge_by_second():
    timeline = Timeline()
    timeline.add(100.2, 12, "ok")
    timeline.add(100.9, 30, "server_error")
    timeline.add(101.5, 7, "ok")
    copy = Timeline.from_json(timeline.to_json())
    copy.merge(timeline.drain())
    assert timeline.seconds == {}
    assert copy.between(100, 101).requests == 4
    assert copy.between(100, 102).server_errors == 2


def test_the_budget_is_the_slo_file():
    budget = Budget.from_slos(slo.load())
    assert budget.latency_fraction == 0.99
    assert budget.latency_ms == 500.0
    assert budget.error_ratio == pytest.approx(0.005)
    assert budget.percentile_name == "p99"


def test_a_window_within_the_slos_holds():
    assert BUDGET.holds(window({20: 995, 400: 5}, server_errors=4))


@pytest.mark.parametrize(
    "slow_window",
    [
        window({20: 980, 600: 20}),  # 2 % over 500 ms: p99 breaks
        window({20: 990}, server_errors=10),  # 1 % errors: availability breaks
        Window(),  # no traffic at all proves nothing
    ],
)
def test_a_window_that_breaks_an_slo_does_not_hold(slow_window):
    assert not BUDGET.holds(slow_window)
    assert not passed(slo_checks("x", slow_window, BUDGET))


def test_429s_are_not_errors():
    assert BUDGET.holds(window({20: 100}, throttled=50))


def test_one_wrong_answer_fails_the_run():
    w = window({20: 1000})
    assert correctness_check(w).passed
    w.add(20, "wrong_answer")
    assert not correctness_check(w).passed


def test_throughput_must_reach_the_minimum():
    assert throughput_check("steady", 10.0, 10.0).passed
    assert not throughput_check("steady", 9.9, 10.0).passed
    assert not passed([])
