"""The shared limits' Lua scripts (cnop_gateway/limit_scripts.py), rule by rule, in a real Redis.

Each script is run as the gateway runs it (registered, with its KEYS and ARGV)
at chosen instants, on both sides of every edge: the rate counter's lifetime,
the login window (a failure exactly a window old no longer counts), each
scope's budget (the attempt that reaches it, and the one before), blocks that
are running, the in-flight counts a finished attempt gives back, and what a
replica's own memory merges into the store. `make mutate` runs these against
every wrong version of the scripts (tools/mutate.py, docs/testing.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from cnop_gateway.limit_scripts import ADMIT, BEGIN, END, MERGE
from cnop_platform.local.ports import extra
from tests.limits_store import limits_store

pytestmark = pytest.mark.integration

PORT = extra("limit scripts: a limits store of its own")
FAILURES_USER, FAILURES_IP, FLIGHT_USER, FLIGHT_IP, BLOCK_USER, BLOCK_IP = KEYS = [
    "f:user", "f:ip", "in:user", "in:ip", "block:user", "block:ip",
]  # fmt: skip
# An hour's window: a lifetime 0.1 % short (1000 -> 999 ms a second) is 3.6 s short.
WINDOW = 3_600
LIMIT_USER, LIMIT_IP = 3, 5
FLIGHT_TTL = 30
BLOCK_MS = 45_000
NOW = 1_000_000


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with limits_store(PORT, tmp_path_factory.mktemp("limits")) as url:
        yield url


@pytest.fixture
def r(server) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(server)
    client.flushdb()
    yield client
    client.close()


def admit(r: redis.Redis, *keys: str, ttl: int = 120, add: int = 1) -> list[int]:
    return list(r.register_script(ADMIT)(keys=list(keys), args=[ttl, add]))


def begin(r: redis.Redis, now: float = NOW, limits: tuple[int, int] = (LIMIT_USER, LIMIT_IP)):
    return list(r.register_script(BEGIN)(keys=KEYS, args=[now, WINDOW, *limits, FLIGHT_TTL]))


def end(r: redis.Redis, failed: bool, member: str, now: float = NOW) -> list[int]:
    args = [now, WINDOW, LIMIT_USER, LIMIT_IP, "1" if failed else "0", member, BLOCK_MS]
    return list(r.register_script(END)(keys=KEYS, args=args))


def merge(r: redis.Redis, keys: list[str], now: float, left_ms: int, *times: float) -> int:
    return int(r.register_script(MERGE)(keys=keys, args=[now, WINDOW, left_ms, *times]))


def fail(r: redis.Redis, key: str, *times: float) -> None:
    for n, at in enumerate(times):
        r.zadd(key, {f"old-{n}": at})


# --- ADMIT: one request counted, and the token's revoked mark ---------------------------


def test_admit_counts_each_request_and_gives_the_counter_its_lifetime_once(r):
    assert admit(r, "rate:a") == [1, -1]  # no token key: -1
    assert r.ttl("rate:a") == 120
    r.expire("rate:a", 50)
    assert admit(r, "rate:a") == [2, -1]
    assert r.ttl("rate:a") == 50  # not renewed: the minute's counter ends on time
    assert admit(r, "rate:a", add=5) == [7, -1]


def test_admit_gives_a_counter_started_by_a_batch_its_lifetime(r):
    assert admit(r, "rate:b", ttl=90, add=4) == [4, -1]
    assert r.ttl("rate:b") == 90


def test_admit_says_whether_the_token_is_revoked(r):
    assert admit(r, "rate:c", "revoked:t") == [1, 0]
    r.set("revoked:t", "1")
    assert admit(r, "rate:c", "revoked:t") == [2, 1]


# --- BEGIN: a login attempt reserved, or refused ------------------------------------


def test_begin_reserves_an_attempt_in_both_scopes(r):
    assert begin(r) == [0, 0]
    assert [r.get(FLIGHT_USER), r.get(FLIGHT_IP)] == [b"1", b"1"]
    assert r.ttl(FLIGHT_USER) == FLIGHT_TTL
    assert r.ttl(FLIGHT_IP) == FLIGHT_TTL
    assert begin(r) == [0, 0]
    assert [r.get(FLIGHT_USER), r.get(FLIGHT_IP)] == [b"2", b"2"]


@pytest.mark.parametrize("block", [BLOCK_USER, BLOCK_IP])
def test_begin_refuses_while_either_scope_is_blocked_and_says_how_long(r, block):
    r.set(block, "1", px=20_000)
    status, wait = begin(r)
    assert status == 1
    assert 19_000 < wait <= 20_000
    assert r.get(FLIGHT_USER) is None  # nothing reserved


def test_begin_waits_for_the_longer_of_two_blocks(r):
    r.set(BLOCK_USER, "1", px=5_000)
    r.set(BLOCK_IP, "1", px=30_000)
    assert 29_000 < begin(r)[1] <= 30_000
    r.set(BLOCK_USER, "1", px=40_000)
    assert 39_000 < begin(r)[1] <= 40_000


@pytest.mark.parametrize(
    ("failures", "flight"), [(FAILURES_USER, FLIGHT_USER), (FAILURES_IP, FLIGHT_IP)]
)
def test_begin_refuses_the_attempt_that_would_pass_a_scope_s_budget(r, failures, flight):
    limit = LIMIT_USER if failures == FAILURES_USER else LIMIT_IP
    fail(r, failures, *[NOW - 1] * (limit - 2))
    r.set(flight, 1)  # failures and attempts in flight together
    assert begin(r) == [0, 0]  # the last one the budget allows
    assert begin(r) == [2, 1000]  # its budget is taken by attempts ahead


def test_begin_forgets_failures_a_window_old(r):
    fail(r, FAILURES_USER, NOW - WINDOW, NOW - WINDOW, NOW - WINDOW + 1, NOW - WINDOW + 1)
    # The two exactly a window old are gone; two within it remain: the third attempt may go.
    assert begin(r) == [0, 0]
    assert r.zcard(FAILURES_USER) == 2
    assert begin(r) == [2, 1000]


def test_begin_counts_the_budget_of_each_scope_apart(r):
    fail(r, FAILURES_IP, *[NOW] * (LIMIT_USER + 1))  # more than the user budget, less than the ip's
    assert begin(r) == [0, 0]


# --- END: the attempt given back; a failure counted, and blocks started --------------


def test_end_gives_back_the_attempt_and_never_goes_below_zero(r):
    begin(r)
    begin(r)
    assert end(r, False, "m1") == []
    assert [r.get(FLIGHT_USER), r.get(FLIGHT_IP)] == [b"1", b"1"]
    end(r, False, "m2")
    end(r, False, "m3")  # one more end than begins: stays at zero
    assert [r.get(FLIGHT_USER), r.get(FLIGHT_IP)] == [b"0", b"0"]


def test_a_success_counts_no_failure(r):
    assert end(r, False, "ok") == []
    assert r.zcard(FAILURES_USER) == 0
    assert r.zcard(FAILURES_IP) == 0
    # No attempt was in flight: no count is made up (never a -1 that frees one more).
    assert r.get(FLIGHT_USER) is None
    assert r.get(FLIGHT_IP) is None


def test_a_failure_is_counted_in_both_scopes_for_a_window(r):
    assert end(r, True, "m1") == []
    assert r.zscore(FAILURES_USER, "m1") == NOW
    assert r.zscore(FAILURES_IP, "m1") == NOW
    assert WINDOW * 1000 - 1000 < r.pttl(FAILURES_USER) <= WINDOW * 1000
    assert WINDOW * 1000 - 1000 < r.pttl(FAILURES_IP) <= WINDOW * 1000


def test_the_failure_that_reaches_the_budget_starts_a_block_and_clears_the_count(r):
    fail(r, FAILURES_USER, NOW - 10, NOW - 5)
    assert end(r, True, "m3") == [1]  # the user's third failure: blocked
    assert BLOCK_MS - 1000 < r.pttl(BLOCK_USER) <= BLOCK_MS
    assert r.exists(FAILURES_USER) == 0  # a served block wipes the failures
    assert r.exists(BLOCK_IP) == 0  # the address has 1 of its 5
    assert r.zcard(FAILURES_IP) == 1


def test_one_failure_below_the_budget_blocks_nothing(r):
    fail(r, FAILURES_USER, NOW - 10)
    assert end(r, True, "m2") == []
    assert r.exists(BLOCK_USER) == 0
    assert r.zcard(FAILURES_USER) == 2


def test_failures_a_window_old_do_not_count_towards_a_block(r):
    fail(r, FAILURES_USER, NOW - WINDOW, NOW - WINDOW)
    assert end(r, True, "m3") == []
    assert r.zcard(FAILURES_USER) == 1


def test_both_scopes_can_start_a_block_at_once(r):
    fail(r, FAILURES_USER, *[NOW] * (LIMIT_USER - 1))
    fail(r, FAILURES_IP, *[NOW] * (LIMIT_IP - 1))
    assert end(r, True, "last") == [1, 2]
    assert r.pttl(BLOCK_IP) > 0


def test_a_running_block_is_not_started_again(r):
    r.set(BLOCK_USER, "1", px=10_000)
    fail(r, FAILURES_USER, *[NOW] * LIMIT_USER)
    assert end(r, True, "more") == []
    assert r.pttl(BLOCK_USER) <= 10_000  # not lengthened
    assert r.zcard(FAILURES_USER) == LIMIT_USER + 1  # and the count is kept


# --- MERGE: what one replica counted alone, written into the store -------------------


def test_merge_adds_the_failures_a_replica_counted_alone(r):
    assert merge(r, [FAILURES_USER, BLOCK_USER], NOW, 0, NOW - 5, NOW - 5, NOW - 1) == 1
    assert r.zcard(FAILURES_USER) == 3  # equal times are different failures
    assert WINDOW * 1000 - 1000 < r.pttl(FAILURES_USER) <= WINDOW * 1000
    assert r.exists(BLOCK_USER) == 0


def test_merge_drops_failures_a_window_old(r):
    merge(r, [FAILURES_USER, BLOCK_USER], NOW, 0, NOW - WINDOW, NOW - WINDOW + 1)
    assert r.zrange(FAILURES_USER, 0, -1, withscores=True)[0][1] == NOW - WINDOW + 1
    assert r.zcard(FAILURES_USER) == 1


def test_merge_without_failures_leaves_the_count_alone(r):
    fail(r, FAILURES_USER, NOW - WINDOW)  # stale, but merging nothing trims nothing
    merge(r, [FAILURES_USER, BLOCK_USER], NOW, 0)
    assert r.zcard(FAILURES_USER) == 1
    assert r.pttl(FAILURES_USER) == -1


def test_merge_carries_a_block_over_unless_the_store_s_runs_longer(r):
    merge(r, [FAILURES_USER, BLOCK_USER], NOW, 20_000)
    assert 19_000 < r.pttl(BLOCK_USER) <= 20_000
    merge(r, [FAILURES_USER, BLOCK_USER], NOW, 5_000)  # shorter: the store's stays
    assert r.pttl(BLOCK_USER) > 19_000
    merge(r, [FAILURES_USER, BLOCK_USER], NOW, 40_000)
    assert 39_000 < r.pttl(BLOCK_USER) <= 40_000


def test_merge_of_a_single_failure_trims_and_sets_the_window(r):
    fail(r, FAILURES_USER, NOW - WINDOW)  # stale
    merge(r, [FAILURES_USER, BLOCK_USER], NOW, 0, NOW - 1)
    assert r.zcard(FAILURES_USER) == 1  # the stale one went, the merged one stayed
    assert WINDOW * 1000 - 1000 < r.pttl(FAILURES_USER) <= WINDOW * 1000
