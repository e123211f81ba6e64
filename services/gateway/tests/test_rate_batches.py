"""The rate budget counted in batches (cnop_gateway/rate_batches.py): the stated error holds.

N gateway processes share one counter (the store's INCRBY, simulated here as an
integer, one batch at a time or several in flight). Whatever the interleaving,
the requests admitted in a minute never exceed the budget by more than
N x (SLACK - 1), and one process alone is exact.
"""

from __future__ import annotations

import random

import pytest

from cnop_gateway.rate_batches import MAX_SLACK, RateBatches, slack_for

pytestmark = pytest.mark.unit

IP = "198.51.100.7"
WINDOW = 29_000_000


class Store:
    """The shared counter of one address and minute."""

    def __init__(self) -> None:
        self.count = 0

    def incrby(self, amount: int) -> int:
        self.count += amount
        return self.count


def one_request(process: RateBatches, store: Store) -> bool:
    """What a gateway process does with one request (SharedLimits.admit): admitted?"""
    count = process.admit_here(IP, WINDOW)
    if count is not None:
        return count <= process.per_minute
    amount = process.take(IP, WINDOW)
    total = store.incrby(amount)
    process.settle(IP, WINDOW, amount, total)
    return total <= process.per_minute


@pytest.mark.parametrize(
    ("per_minute", "slack"),
    [(1, 1), (99, 1), (100, 2), (600, 7), (6_299, 63), (6_300, 64), (6_400, 64), (10**8, 64)],
)
def test_the_slack_is_one_percent_of_the_budget_and_bounded(per_minute, slack):
    assert MAX_SLACK == 64
    assert slack_for(per_minute) == slack


@pytest.mark.parametrize("per_minute", [3, 99, 600, 5_000])
def test_one_process_alone_admits_exactly_the_budget(per_minute):
    process, store = RateBatches(per_minute), Store()
    admitted = [one_request(process, store) for _ in range(per_minute + 50)]
    assert admitted == [True] * per_minute + [False] * 50


@pytest.mark.parametrize("processes", [2, 3, 8])
@pytest.mark.parametrize("per_minute", [10, 600, 5_000])
@pytest.mark.parametrize("seed", range(5))
def test_n_processes_go_over_by_at_most_n_times_the_slack(processes, per_minute, seed):
    chooser = random.Random(seed)
    store = Store()
    gateways = [RateBatches(per_minute) for _ in range(processes)]
    admitted = sum(
        one_request(chooser.choice(gateways), store) for _ in range(3 * per_minute + 100)
    )
    slack = slack_for(per_minute)
    assert per_minute <= admitted <= per_minute + processes * (slack - 1)


def test_the_worst_interleaving_reaches_the_bound_and_no_further():
    # Four processes each admit SLACK - 1 on their own before any batch of theirs
    # reaches the store; a fifth meanwhile spends the whole budget it sees there.
    per_minute = 600
    slack = slack_for(per_minute)
    store = Store()
    early = [RateBatches(per_minute) for _ in range(4)]
    local = sum(one_request(g, store) for g in early for _ in range(slack - 1))
    filler = RateBatches(per_minute)
    spent = 0
    while one_request(filler, store):
        spent += 1
    # Then every process's next batch shows the budget spent: nothing more passes.
    later = sum(one_request(g, store) for g in [*early, filler] for _ in range(100))
    assert (local, spent, later) == (4 * (slack - 1), per_minute, 0)
    # Over by 4 x (SLACK - 1): within the bound for five processes, 5 x (SLACK - 1).
    assert local + spent - per_minute <= 5 * (slack - 1)


def test_batches_in_flight_are_counted_as_known_and_lost_ones_are_not():
    process = RateBatches(600)  # slack 7
    for _ in range(6):
        assert process.admit_here(IP, WINDOW) is not None
    amount = process.take(IP, WINDOW)  # the 7th request carries all seven
    assert amount == 7
    # While it travels, requests keep being counted on top of it.
    assert process.admit_here(IP, WINDOW) == 8
    process.settle(IP, WINDOW, amount, None)  # the store never got it
    assert process.admit_here(IP, WINDOW) == 2  # the lost seven are not counted as shared


def test_a_new_minute_starts_from_nothing_and_ignores_the_old_minutes_batches():
    process = RateBatches(600)
    process.admit_here(IP, WINDOW)
    amount = process.take(IP, WINDOW)
    assert process.admit_here(IP, WINDOW + 1) == 1
    process.settle(IP, WINDOW, amount, 500)  # a late answer about the last minute
    assert process.admit_here(IP, WINDOW + 1) == 2


@pytest.mark.parametrize("per_minute", [700, 1_000])  # slack 8 and 11: even and odd
def test_between_two_batches_a_process_admits_slack_minus_one_requests_alone(per_minute):
    process = RateBatches(per_minute)
    slack = process.slack
    assert [process.admit_here(IP, WINDOW) for _ in range(slack)] == [*range(1, slack), None]
    assert process.take(IP, WINDOW) == slack


@pytest.mark.parametrize("shared", [999, 1_000, 1_500])
def test_a_budget_spent_elsewhere_is_never_admitted_here(shared):
    process = RateBatches(1_000)
    process.settle(IP, WINDOW, process.take(IP, WINDOW), shared)
    expected = shared + 1 if shared < 1_000 else None  # the 1,000th may go, no more
    assert process.admit_here(IP, WINDOW) == expected
    if expected is not None:
        assert process.admit_here(IP, WINDOW) is None


def test_two_batches_in_flight_each_settle_with_their_own_amount():
    process = RateBatches(1_000)
    for _ in range(2):
        process.admit_here(IP, WINDOW)
    first = process.take(IP, WINDOW)  # 3 on their way
    for _ in range(4):
        process.admit_here(IP, WINDOW)
    second = process.take(IP, WINDOW)  # 5 more, while the first travels
    assert (first, second) == (3, 5)
    # The first comes back with a shared count of 50, which may hold the second's 5.
    process.settle(IP, WINDOW, first, 50)
    assert process.admit_here(IP, WINDOW) == 51  # known: 45 seen + 5 on their way + this
    process.settle(IP, WINDOW, second, 60)
    assert process.admit_here(IP, WINDOW) == 62  # 60 seen + 1 pending + this


def test_a_minute_is_its_number_not_the_same_object():
    # Real minute numbers are large ints made afresh on every request (time // 60).
    process = RateBatches(1_000)
    amount = process.take(IP, int("29000000"))
    process.settle(IP, int("29000000"), amount, 10)
    assert process.admit_here(IP, int("29000000")) == 11


def test_a_clock_stepped_back_starts_that_minute_afresh():
    process = RateBatches(1_000)
    for _ in range(3):
        process.admit_here(IP, WINDOW)
    assert process.admit_here(IP, WINDOW - 1) == 1


def test_a_batch_lost_after_another_returned_counts_only_what_the_store_said():
    process = RateBatches(1_000)
    for _ in range(2):
        process.admit_here(IP, WINDOW)
    first = process.take(IP, WINDOW)  # 3
    for _ in range(4):
        process.admit_here(IP, WINDOW)
    second = process.take(IP, WINDOW)  # 5, while the first travels
    process.settle(IP, WINDOW, first, 50)  # 45 seen, on top of the 5 still travelling
    process.settle(IP, WINDOW, second, None)  # the 5 never arrived
    assert process.admit_here(IP, WINDOW) == 46


def test_a_late_batch_of_a_later_minute_is_ignored_after_the_clock_stepped_back():
    process = RateBatches(1_000)
    amount = process.take(IP, WINDOW + 1)
    assert process.admit_here(IP, WINDOW) == 1  # the clock stepped back a minute
    process.settle(IP, WINDOW + 1, amount, 500)
    assert process.admit_here(IP, WINDOW) == 2
