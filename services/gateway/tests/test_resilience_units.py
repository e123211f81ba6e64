"""Breaker transitions, cache bounds, rate limit and login guard, on a fake clock."""

import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from cnop_common.server import KEEP_ALIVE_SECONDS
from cnop_gateway.asgi import login_name
from cnop_gateway.breaker import CircuitBreaker, State
from cnop_gateway.cache import REVOKED_MEMORY_SECONDS, Identity, ValidationCache, token_key
from cnop_gateway.limits import LoginGuard, RateLimiter
from cnop_gateway.upstreams import UPSTREAM_KEEPALIVE_SECONDS

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def state_of(breaker: CircuitBreaker) -> State:
    # A call, not an attribute: mypy would otherwise keep the first narrowed state.
    return breaker.state


def test_breaker_opens_half_opens_and_closes():
    clock = Clock()
    breaker = CircuitBreaker("auth", threshold=3, reset_seconds=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert state_of(breaker) is State.CLOSED
    breaker.record_failure()
    assert state_of(breaker) is State.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == 10
    clock.now += 10
    assert breaker.allow()  # the probe
    assert state_of(breaker) is State.HALF_OPEN
    assert not breaker.allow()  # only one probe at a time
    breaker.record_success()
    assert state_of(breaker) is State.CLOSED
    assert breaker.allow()


def test_failed_probe_reopens():
    clock = Clock()
    breaker = CircuitBreaker("user", threshold=1, reset_seconds=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    assert breaker.allow()
    breaker.record_failure()
    assert state_of(breaker) is State.OPEN
    assert not breaker.allow()


def test_success_resets_the_failure_count():
    breaker = CircuitBreaker("order", threshold=2, reset_seconds=5, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert state_of(breaker) is State.CLOSED


def identity(expires_at: float) -> Identity:
    return Identity("alice", "customer", int(expires_at))


def test_cache_entry_lives_at_most_the_bound():
    clock = Clock()
    cache = ValidationCache(bound_seconds=5, max_entries=10, clock=clock)
    key = token_key("t1")
    cache.put(key, identity(clock.now + 3600))
    clock.now += 4.9
    assert cache.get(key) is not None
    clock.now += 0.2
    assert cache.get(key) is None


def test_cache_entry_never_outlives_the_token():
    clock = Clock()
    cache = ValidationCache(bound_seconds=5, max_entries=10, clock=clock)
    key = token_key("t2")
    cache.put(key, identity(clock.now + 2))
    clock.now += 2
    assert cache.get(key) is None
    cache.put(token_key("expired"), identity(clock.now - 1))
    assert len(cache) == 0


def test_cache_is_bounded_lru_and_evicts_on_logout():
    cache = ValidationCache(bound_seconds=5, max_entries=2, clock=Clock())
    keys = [token_key(f"t{i}") for i in range(3)]
    cache.put(keys[0], identity(2e6))
    cache.put(keys[1], identity(2e6))
    assert cache.get(keys[0]) is not None  # now most recently used
    cache.put(keys[2], identity(2e6))
    assert len(cache) == 2
    assert cache.get(keys[1]) is None
    cache.evict(keys[0])
    assert cache.get(keys[0]) is None


def test_a_validation_in_flight_at_logout_cannot_cache_the_token_again():
    clock = Clock()
    cache = ValidationCache(bound_seconds=5, max_entries=10, clock=clock)
    key = token_key("t-logout")
    cache.put(key, identity(clock.now + 3600))
    cache.evict(key)
    # The answer of a validation that started before the revocation arrives late.
    clock.now += 29
    cache.put(key, identity(clock.now + 3600))
    assert cache.get(key) is None
    clock.now += REVOKED_MEMORY_SECONDS  # long after: the memory is bounded in time
    cache.put(key, identity(clock.now + 3600))
    assert cache.get(key) is not None


def test_remembered_revocations_are_bounded_in_number():
    cache = ValidationCache(bound_seconds=5, max_entries=2, clock=Clock())
    keys = [token_key(f"r{i}") for i in range(3)]
    for key in keys:
        cache.evict(key)
    cache.put(keys[0], identity(2e6))  # the oldest revocation was forgotten
    cache.put(keys[2], identity(2e6))
    assert cache.get(keys[0]) is not None
    assert cache.get(keys[2]) is None


def test_cache_off_stores_nothing():
    cache = ValidationCache(bound_seconds=0, max_entries=10, clock=Clock())
    cache.put(token_key("t"), identity(2e6))
    assert cache.get(token_key("t")) is None


def test_cache_key_is_not_the_token():
    assert b"secret-token" not in token_key("secret-token")


def test_rate_limit_window():
    clock = Clock(60 * 1000)
    limiter = RateLimiter(3, clock=clock)
    quotas = [limiter.check("1.2.3.4") for _ in range(4)]
    assert [q.allowed for q in quotas] == [True, True, True, False]
    assert [q.remaining for q in quotas] == [2, 1, 0, 0]
    assert limiter.check("5.6.7.8").allowed
    clock.now += 60
    assert limiter.check("1.2.3.4").allowed


def test_the_rate_window_is_one_minute_long_and_counts_across_it():
    # Issue 25 #2: a test clock that never moved let `now // 60` become `now * 60`
    # (a new window every call) unseen. Here the clock moves inside the window.
    start = 60.0 * 1000  # a window's first second
    clock = Clock(start)
    limiter = RateLimiter(3, clock=clock)
    verdicts = []
    for offset in (0.0, 1.0, 30.0, 59.9):
        clock.now = start + offset
        verdicts.append(limiter.check("1.2.3.4").allowed)
    assert verdicts == [True, True, True, False]
    clock.now = start + 60.0  # the next window starts on the minute
    assert limiter.check("1.2.3.4").allowed


def test_the_quota_says_when_the_window_ends_and_what_is_left():
    clock = Clock(60.0 * 1000 + 25)
    quota = RateLimiter(2, clock=clock).check("1.2.3.4")
    assert quota.reset_at == 60 * 1001  # drives X-RateLimit-Reset and Retry-After
    assert quota.headers() == [
        (b"x-ratelimit-limit", b"2"),
        (b"x-ratelimit-remaining", b"1"),
        (b"x-ratelimit-reset", str(60 * 1001).encode()),
    ]


def _full_guard(clock: Clock) -> LoginGuard:
    guard = LoginGuard(
        max_per_user=5, max_per_ip=20, window_seconds=60, block_seconds=30, clock=clock
    )
    assert [guard.begin("dave", f"10.3.3.{i}") for i in range(5)] == [0] * 5
    assert guard.begin("dave", "10.3.3.99") == 1  # the budget is full
    return guard


def test_an_attempt_that_ends_gives_back_exactly_one_place():
    # Issue 25 #3: the release path in end() was not pinned.
    guard = _full_guard(Clock())
    guard.end("dave", "10.3.3.0", failed=False)
    assert guard.begin("dave", "10.3.3.50") == 0
    assert guard.begin("dave", "10.3.3.51") == 1


def test_when_every_attempt_has_ended_the_whole_budget_is_back():
    guard = _full_guard(Clock())
    for i in range(5):
        assert guard.end("dave", f"10.3.3.{i}", failed=False) == []
    assert [guard.begin("dave", f"10.3.4.{i}") for i in range(6)] == [0] * 5 + [1]


def test_a_failed_attempt_keeps_its_place_as_a_failure():
    guard = _full_guard(Clock())
    guard.end("dave", "10.3.3.0", failed=True)  # one failure, four still in flight
    assert guard.begin("dave", "10.3.3.60") == 1


def test_a_block_with_under_a_second_left_still_blocks():
    clock = Clock()
    guard = LoginGuard(
        max_per_user=1, max_per_ip=20, window_seconds=60, block_seconds=30, clock=clock
    )
    assert guard.record_failure("erin", "10.4.4.4") == ["user"]
    clock.now += 29.5
    assert guard.blocked_for("erin", "10.4.4.5") == 1
    clock.now += 0.5
    assert guard.blocked_for("erin", "10.4.4.5") == 0


def test_failures_while_blocked_do_not_extend_the_block():
    clock = Clock()
    guard = LoginGuard(
        max_per_user=2, max_per_ip=20, window_seconds=60, block_seconds=30, clock=clock
    )
    guard.record_failure("fay", "10.5.5.1")
    assert guard.record_failure("fay", "10.5.5.2") == ["user"]
    clock.now += 10
    assert guard.record_failure("fay", "10.5.5.3") == []
    assert guard.record_failure("fay", "10.5.5.4") == []  # a block is running: none starts
    assert guard.blocked_for("fay", "10.5.5.9") == 20


def test_a_block_served_wipes_the_failures_that_caused_it():
    # The failures that started a block are paid for: once it ends, one more
    # mistake (still inside their window) is one failure, not a third.
    clock = Clock()
    guard = LoginGuard(
        max_per_user=2, max_per_ip=20, window_seconds=60, block_seconds=30, clock=clock
    )
    guard.record_failure("gus", "10.5.6.1")
    assert guard.record_failure("gus", "10.5.6.1") == ["user"]
    clock.now += 30
    assert guard.record_failure("gus", "10.5.6.1") == []
    assert guard.blocked_for("gus", "10.5.6.1") == 0


def test_a_spray_of_usernames_cannot_lift_an_active_block():
    # Issue 25 #4: the table is trimmed when full; blocks still running must stay.
    clock = Clock()
    guard = LoginGuard(
        max_per_user=2,
        max_per_ip=10_000,
        window_seconds=60,
        block_seconds=600,
        clock=clock,
        max_tracked=8,
    )
    guard.record_failure("target", "10.6.6.1")
    guard.record_failure("target", "10.6.6.1")
    clock.now += 120  # the failures that blocked are now outside their window
    for i in range(50):
        guard.record_failure(f"spray{i}", f"10.7.{i}.1")
    assert guard.blocked_for("target", "10.8.8.8") == 480
    # Once the spray is stale, the next failure trims it: only what still counts stays.
    clock.now += 120
    guard.record_failure("last", "10.9.9.9")
    assert set(guard._failures) == {("user", "last"), ("ip", "10.9.9.9")}
    assert set(guard._blocked_until) == {("user", "target")}
    assert guard.blocked_for("target", "10.8.8.8") == 360


def test_login_guard_blocks_user_after_five_failures_from_any_ip():
    clock = Clock()
    guard = LoginGuard(
        max_per_user=5, max_per_ip=20, window_seconds=900, block_seconds=900, clock=clock
    )
    for i in range(4):
        assert guard.record_failure("alice", f"10.0.0.{i}") == []
    assert guard.record_failure("alice", "10.0.0.9") == ["user"]
    assert guard.blocked_for("alice", "10.0.0.77") == 900
    assert guard.blocked_for("bob", "10.0.0.77") == 0
    clock.now += 900
    assert guard.blocked_for("alice", "10.0.0.77") == 0


def test_login_guard_blocks_ip_after_twenty_failures():
    guard = LoginGuard(
        max_per_user=5, max_per_ip=20, window_seconds=900, block_seconds=900, clock=Clock()
    )
    started = [guard.record_failure(f"user{i}", "10.1.1.1") for i in range(20)]
    assert started[-1] == ["ip"]
    assert guard.blocked_for("someone_else", "10.1.1.1") > 0


def test_login_failures_outside_the_window_do_not_count():
    clock = Clock()
    guard = LoginGuard(
        max_per_user=5, max_per_ip=20, window_seconds=60, block_seconds=60, clock=clock
    )
    for _ in range(4):
        guard.record_failure("carol", "10.2.2.2")
    clock.now += 61
    assert guard.record_failure("carol", "10.2.2.2") == []


def test_every_spelling_of_a_token_shares_one_key():
    # Issue 12 #7: "=" appended to the signature still verifies at auth, and was a
    # second cache entry that outlived the logout of the first spelling.
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"
    assert token_key(token + "=") == token_key(token)
    assert token_key(token + "==") == token_key(token)
    assert token_key(token.replace(".eyJz", ".eyJz", 1)) == token_key(token)
    other = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLWJ5dGVz"
    assert token_key(other) != token_key(token)
    assert token_key("not a token") != token_key("not a token!")


def test_a_logout_with_one_spelling_ends_every_spelling():
    clock = Clock()
    cache = ValidationCache(bound_seconds=5, max_entries=10, clock=clock)
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"
    cache.put(token_key(token + "="), identity(clock.now + 600))
    cache.evict(token_key(token))
    assert cache.get(token_key(token + "=")) is None
    cache.put(token_key(token + "=="), identity(clock.now + 600))  # an answer already in flight
    assert cache.get(token_key(token + "==")) is None


def test_attempts_in_flight_hold_their_place_in_the_login_budget():
    # Issue 12 #1: failures were counted after they happened, so 30 concurrent
    # guesses all reached auth. Now the sixth concurrent attempt is refused.
    guard = LoginGuard(
        max_per_user=5, max_per_ip=20, window_seconds=60, block_seconds=30, clock=Clock()
    )
    started = [guard.begin("alice", f"10.0.0.{i}") for i in range(30)]
    assert started == [0] * 5 + [1] * 25
    for i in range(5):
        guard.end("alice", f"10.0.0.{i}", failed=True)
    assert guard.begin("alice", "10.0.0.99") > 1  # now blocked outright


def test_a_success_gives_its_place_back_and_counts_nothing():
    guard = LoginGuard(
        max_per_user=5, max_per_ip=20, window_seconds=60, block_seconds=30, clock=Clock()
    )
    for _ in range(50):
        assert guard.begin("bob", "10.0.0.1") == 0
        assert guard.end("bob", "10.0.0.1", failed=False) == []


def test_the_twenty_first_concurrent_attempt_from_an_address_is_refused():
    guard = LoginGuard(
        max_per_user=5, max_per_ip=20, window_seconds=60, block_seconds=30, clock=Clock()
    )
    started = [guard.begin(f"user{i}", "10.0.0.7") for i in range(25)]
    assert started == [0] * 20 + [1] * 5


def test_the_login_guard_keys_any_username_json_can_spell():
    """A lone surrogate is valid JSON but no encoder's text: the guard's key (and so
    Redis) gets a stable escape of it, never the text redis-py cannot encode."""
    lone = login_name(b'{"username": "\\ud800X"}')
    assert lone == "\\ud800x"
    assert lone.encode("utf-8")  # encodable
    assert login_name(b'{"username": "\\ud800X"}') == lone  # stable: one key per name
    assert login_name(b'{"username": " Alice_01 "}') == "alice_01"
    assert login_name(b'{"username": 5}') == ""
    assert login_name(b"not json") == ""


def test_what_the_guard_counted_alone_is_handed_over_then_forgotten_but_its_blocks_hold():
    clock = Clock()
    guard = LoginGuard(
        max_per_user=3, max_per_ip=100, window_seconds=60, block_seconds=300, clock=clock
    )
    for _ in range(2):
        guard.record_failure("bob", "10.0.0.1")
    clock.now += 10
    failures, blocks = guard.pending()
    assert failures[("user", "bob")] == [10.0, 10.0]  # seconds ago, for the store
    assert blocks == {}
    assert guard.record_failure("bob", "10.0.0.1") == ["user"]
    _failures, blocks = guard.pending()
    assert blocks == {("user", "bob"): 300.0}
    guard.forget_failures()  # the store has them now
    assert guard.pending()[0] == {}
    assert guard.blocked_for("bob", "10.0.0.2") == 300  # the block stays
    clock.now += 61  # failures older than the window are not handed over
    guard.record_failure("eve", "10.0.0.3")
    clock.now += 61
    assert ("user", "eve") not in guard.pending()[0]


def test_the_gateway_lets_go_of_an_idle_upstream_connection_before_the_upstream_does():
    """aiohttp kept idle connections 15 s, our servers 5 s: reusing one just as the
    server closed it failed a request (a validation every 5 s per token)."""
    # Auth's server keeps the same 5 s (cnop_auth/__main__.py; its metrics cannot be
    # imported beside the shared ones in one process).
    assert KEEP_ALIVE_SECONDS > UPSTREAM_KEEPALIVE_SECONDS


def test_the_reset_time_is_the_next_minute_in_odd_windows_too():
    quota = RateLimiter(2, clock=Clock(60.0 * 1001 + 5)).check("1.2.3.4")
    assert quota.reset_at == 60 * 1002


def test_a_clock_stepping_back_a_window_starts_a_fresh_count():
    clock = Clock(60.0 * 1000)
    limiter = RateLimiter(1, clock=clock)
    assert limiter.check("1.2.3.4").allowed
    assert not limiter.check("1.2.3.4").allowed
    clock.now -= 60  # the system clock was set back
    assert limiter.check("1.2.3.4").allowed


def _guard(clock: Clock, *, per_user: int = 5, max_tracked: int = 100_000) -> LoginGuard:
    return LoginGuard(
        max_per_user=per_user,
        max_per_ip=1_000,
        window_seconds=60,
        block_seconds=30,
        clock=clock,
        max_tracked=max_tracked,
    )


def test_failures_older_than_the_window_hold_no_place_in_the_budget():
    clock = Clock()
    guard = _guard(clock)
    for _ in range(4):
        guard.record_failure("hal", "10.10.0.1")
    clock.now += 60  # exactly one window later: those failures have expired
    assert [guard.begin("hal", f"10.10.1.{i}") for i in range(6)] == [0] * 5 + [1]


def test_a_block_may_start_again_the_moment_the_last_one_ends():
    clock = Clock()
    guard = _guard(clock, per_user=1)
    assert guard.record_failure("ivy", "10.11.0.1") == ["user"]
    clock.now += 30
    assert guard.record_failure("ivy", "10.11.0.1") == ["user"]


def test_what_is_handed_over_has_exact_ages_and_no_block_that_has_ended():
    clock = Clock()
    guard = _guard(clock, per_user=2)
    guard.record_failure("jo", "10.12.0.1")
    clock.now += 10
    assert guard.record_failure("jo", "10.12.0.1") == ["user"]  # cleared: the block holds
    guard.record_failure("kim", "10.12.0.2")
    clock.now += 4
    failures, blocks = guard.pending()
    assert failures[("user", "kim")] == [4.0]
    assert failures[("ip", "10.12.0.1")] == [14.0, 4.0]
    assert blocks == {("user", "jo"): 26.0}
    clock.now += 26  # the block ends now: nothing left of it to hand over
    assert guard.pending()[1] == {}


def test_the_table_is_trimmed_once_it_holds_max_tracked_entries():
    clock = Clock()
    guard = _guard(clock, per_user=1, max_tracked=3)
    assert guard.record_failure("lee", "10.13.0.1") == ["user"]  # 2 failures' keys + 1 block
    clock.now += 60  # their failures expire exactly now, and the block is over
    guard.record_failure("max", "10.13.0.2")
    assert set(guard._failures) == {("user", "max"), ("ip", "10.13.0.2")}
    assert ("user", "lee") not in guard._blocked_until


def test_a_block_is_counted_under_its_scope_not_under_the_blocked_name():
    before = REGISTRY.get_sample_value("gateway_login_blocks_total", {"scope": "user"}) or 0.0
    guard = _guard(Clock(), per_user=1)
    assert guard.record_failure("ned", "10.14.0.1") == ["user"]
    after = REGISTRY.get_sample_value("gateway_login_blocks_total", {"scope": "user"})
    assert after == before + 1
    assert REGISTRY.get_sample_value("gateway_login_blocks_total", {"scope": "ned"}) is None


def test_the_wait_is_rounded_up_to_whole_seconds_and_never_zero():
    clock = Clock()
    guard = _guard(clock, per_user=1)
    guard.record_failure("oli", "10.15.0.1")
    clock.now += 0.5
    assert guard.blocked_for("oli", "10.15.0.1") == 30  # 29.5 s left: 30
    clock.now += 29.4995
    assert guard.blocked_for("oli", "10.15.0.1") == 1  # half a millisecond left


def test_one_failure_and_one_attempt_in_flight_fill_a_budget_of_two():
    guard = _guard(Clock(), per_user=2)
    guard.record_failure("pat", "10.16.0.1")
    assert guard.begin("pat", "10.16.0.1") == 0
    assert guard.begin("pat", "10.16.0.2") == 1


def test_failures_made_during_a_block_count_once_it_ends():
    clock = Clock()
    guard = _guard(clock, per_user=2)
    guard.record_failure("quin", "10.17.0.1")
    assert guard.record_failure("quin", "10.17.0.1") == ["user"]
    clock.now += 10
    assert guard.record_failure("quin", "10.17.0.2") == []  # during the block
    assert guard.record_failure("quin", "10.17.0.2") == []
    assert guard.record_failure("quin", "10.17.0.2") == []
    clock.now += 20  # the block is over; three failures are still in the window
    assert guard.begin("quin", "10.17.0.3") == 1
    assert guard.record_failure("quin", "10.17.0.3") == ["user"]


def test_an_end_without_a_begin_gives_no_extra_place():
    guard = _guard(Clock(), per_user=2)
    guard.end("ray", "10.18.0.1", failed=False)  # a stray end (a retry's second answer)
    assert [guard.begin("ray", f"10.18.1.{i}") for i in range(3)] == [0, 0, 1]


def test_ending_one_of_two_attempts_keeps_the_other_in_flight():
    guard = _guard(Clock(), per_user=3)
    assert guard.begin("sam", "10.19.0.1") == 0
    assert guard.begin("sam", "10.19.0.2") == 0
    guard.end("sam", "10.19.0.1", failed=False)
    assert [guard.begin("sam", f"10.19.1.{i}") for i in range(3)] == [0, 0, 1]


def test_a_failure_exactly_a_window_old_and_a_block_already_over_are_not_handed_over():
    clock = Clock()
    guard = _guard(clock, per_user=1)
    guard.record_failure("tess", "10.20.0.1")  # blocks tess for 30 s
    clock.now += 31
    _, blocks = guard.pending()
    assert blocks == {}
    clock.now += 29  # the ip's failure is now exactly 60 s old
    assert guard.pending()[0] == {}


def test_entries_exactly_at_their_end_are_trimmed():
    clock = Clock()
    guard = LoginGuard(
        max_per_user=1,
        max_per_ip=1_000,
        window_seconds=60,
        block_seconds=60,
        clock=clock,
        max_tracked=3,
    )
    guard.record_failure("uma", "10.21.0.1")  # 2 failure keys + 1 block, all ending at +60
    clock.now += 60
    guard.record_failure("vic", "10.21.0.2")
    assert set(guard._failures) == {("user", "vic"), ("ip", "10.21.0.2")}
    assert set(guard._blocked_until) == {("user", "vic")}


def test_the_trim_threshold_counts_failures_and_blocks_together():
    clock = Clock()
    guard = _guard(clock, per_user=1, max_tracked=5)
    guard.record_failure("wes", "10.22.0.1")
    guard.record_failure("xan", "10.22.0.1")  # 3 failure keys and 2 blocks: 5 entries
    clock.now += 60
    guard.record_failure("yul", "10.22.0.2")
    assert set(guard._failures) == {("user", "yul"), ("ip", "10.22.0.2")}


def test_each_refusal_of_the_rate_limit_is_counted_once():
    before = REGISTRY.get_sample_value("gateway_rate_limited_total") or 0.0
    limiter = RateLimiter(2, clock=Clock(60.0 * 1000))
    verdicts = [limiter.check("1.2.3.9").allowed for _ in range(5)]
    assert verdicts == [True, True, False, False, False]
    assert REGISTRY.get_sample_value("gateway_rate_limited_total") == before + 3


def test_both_block_series_exist_from_start_up():
    # A dashboard shows "no blocks", not "No data": a fresh interpreter, nothing blocked.
    code = (
        "from prometheus_client import REGISTRY; import cnop_gateway.limits; "
        "print([REGISTRY.get_sample_value('gateway_login_blocks_total', {'scope': s})"
        " for s in ('user', 'ip')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[0.0, 0.0]"


def test_a_failure_exactly_a_window_old_no_longer_counts_towards_a_block():
    clock = Clock()
    guard = _guard(clock, per_user=2)
    guard.record_failure("zed", "10.23.0.1")
    clock.now += 60
    assert guard.record_failure("zed", "10.23.0.1") == []


def test_trimming_keeps_a_key_whose_latest_failure_is_recent():
    clock = Clock()
    guard = _guard(clock, per_user=3, max_tracked=2)
    guard.record_failure("abe", "10.24.0.1")
    clock.now += 59  # the first failure is nearly stale, the second fresh
    guard.record_failure("abe", "10.24.0.1")
    clock.now += 2  # the first is now stale: the key stays for its second
    guard.record_failure("bea", "10.24.0.2")  # the table is full: this trims
    assert guard.pending()[0][("user", "abe")] == [2.0]
