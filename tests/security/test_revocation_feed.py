"""Revocations pushed to every gateway process (cnop_gateway/revocations.py, issue 23).

A warm request no longer asks the limits store whether its token was revoked:
each process hears logouts on a Redis channel. What must hold: a revocation
reaches every listening process; a process trusts its memory only while its own
heartbeat comes back within STALE_SECONDS (a stalled or lost channel sends it
back to asking the store per request); a new subscription drops every cached
validation, so nothing revoked while it was not listening survives.

Each test runs two gateway processes' shared limits (SharedLimits, as the
gateway builds them) in this process, against a redis-server of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from redis.asyncio import Redis

from cnop_gateway.cache import Identity, ValidationCache, token_key
from cnop_gateway.limits import LoginGuard, RateLimiter
from cnop_gateway.revocations import (
    DEAF_SECONDS,
    FEED_UP,
    RESYNCS,
    RETRY_SECONDS,
    STALE_SECONDS,
    RevocationFeed,
)
from cnop_gateway.shared import SharedLimits
from cnop_platform.local.ports import extra
from tests.limits_store import limits_store

pytestmark = [pytest.mark.integration]

PORT = extra("revocation feed: a limits store of its own")
URL = f"redis://127.0.0.1:{PORT}/0"


@pytest.fixture
def store(tmp_path) -> Iterator[str]:
    with limits_store(PORT, tmp_path) as url:
        yield url


def gateway_process() -> tuple[SharedLimits, ValidationCache]:
    """The shared limits of one gateway process (a budget large enough to batch)."""
    cache = ValidationCache(bound_seconds=30, max_entries=100)
    guard = LoginGuard(max_per_user=5, max_per_ip=20, window_seconds=60, block_seconds=60)
    return SharedLimits(URL, RateLimiter(100_000), guard, cache), cache


async def until(check: Callable[[], bool], timeout: float) -> bool:
    """Poll `check` in the event loop until it holds or `timeout` passes; its last value."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return check()


def identity() -> Identity:
    return Identity("alice", "customer", int(time.time()) + 300)


def test_a_logout_reaches_every_listening_process_within_the_bound(store):
    async def scenario() -> None:
        (first, _), (second, second_cache) = gateway_process(), gateway_process()
        first.start()
        second.start()
        try:
            assert await until(lambda: first.feed.live and second.feed.live, 10)
            key = token_key("header.payload.signature")
            second_cache.put(key, identity())
            # While live, the second process admits the token from memory: not revoked.
            admission = await second.admit("192.0.2.1", key)
            assert admission.revoked is False
            await first.revoke(key)
            revoked_at = time.monotonic()
            # An admission started STALE_SECONDS after the logout says "revoked"
            # whatever happens to the message: applied by then, or the process no
            # longer trusts its memory and asks the store.
            while True:
                started = time.monotonic()
                if (await second.admit("192.0.2.1", key)).revoked:
                    break
                assert started - revoked_at <= STALE_SECONDS, "trusted a stale memory"
                await asyncio.sleep(0.01)
            # In practice the message came: the token is evicted from the cache too.
            assert await until(lambda: second_cache.recently_revoked(key), 10)
            assert second_cache.get(key) is None
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())


def test_a_lost_subscription_sends_requests_to_the_store_and_its_return_drops_the_cache(store):
    async def scenario() -> None:
        (first, _), (second, second_cache) = gateway_process(), gateway_process()
        first.start()
        second.start()
        admin = Redis.from_url(URL)
        try:
            assert await until(lambda: second.feed.live, 10)
            revoked_meanwhile = token_key("revoked.while.away")
            kept = token_key("valid.all.along")
            for key in (revoked_meanwhile, kept):
                second_cache.put(key, identity())
            resyncs = RESYNCS._value.get()
            # Every subscriber's connection is cut (both processes' feeds).
            await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            assert await until(lambda: not second.feed.live, STALE_SECONDS)
            # Not listening: the logout's message is lost to the second process, but
            # its admission asks the store, which holds the revoked mark.
            await first.revoke(revoked_meanwhile)
            assert (await second.admit("192.0.2.2", revoked_meanwhile)).revoked is True
            # Subscribed again: every cached validation is gone, revoked or not.
            assert await until(lambda: second.feed.live, 10)
            assert RESYNCS._value.get() >= resyncs + 1
            assert second_cache.get(kept) is None
            assert second_cache.get(revoked_meanwhile) is None
        finally:
            await admin.aclose()
            await first.close()
            await second.close()

    asyncio.run(scenario())


def test_a_stalled_channel_stops_the_trust_within_the_bound_and_it_returns(store):
    async def scenario() -> None:
        process, _cache = gateway_process()
        process.start()
        admin = Redis.from_url(URL)
        try:
            assert await until(lambda: process.feed.live, 10)
            # Redis holds every PUBLISH (heartbeats included) for two seconds: the
            # connection stays up, but nothing proves the channel current any more.
            # (How soon trust ends is the clock's arithmetic: test_revocation_feed_units.py.)
            await admin.execute_command("CLIENT", "PAUSE", "2000", "WRITE")
            assert await until(lambda: not process.feed.live, 2)
            assert await until(lambda: process.feed.live, 10)
        finally:
            await admin.aclose()
            await process.close()

    asyncio.run(scenario())


class FixedClock:
    """The feed's clock, moved by the test (heartbeats carry its reading)."""

    def __init__(self) -> None:
        self.now = 50_000.0

    def __call__(self) -> float:
        return self.now


def _heartbeats() -> int:
    return sum(1 for task in asyncio.all_tasks() if task.get_name() == "revocation-heartbeat")


def test_the_feed_says_when_it_is_live_and_keeps_one_heartbeat(store):
    async def scenario() -> None:
        feed = RevocationFeed(
            Redis.from_url(URL), ValidationCache(bound_seconds=30, max_entries=10)
        )
        admin = Redis.from_url(URL)
        try:
            feed.start()
            task = feed._task
            feed.start()  # a second start is no second subscription
            assert feed._task is task
            assert await until(lambda: FEED_UP._value.get() == 1, 10)
            resyncs = RESYNCS._value.get()
            await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            assert await until(lambda: FEED_UP._value.get() == 0, 5)
            assert await until(lambda: RESYNCS._value.get() == resyncs + 1, 10)
            # The lost subscription's heartbeat stopped with it: one beats, not two.
            assert await until(lambda: FEED_UP._value.get() == 1, 10)
            assert _heartbeats() == 1
        finally:
            await feed.stop()
            await admin.aclose()
        assert FEED_UP._value.get() == 0

    asyncio.run(scenario())


def test_a_deaf_subscription_is_made_again_after_exactly_deaf_seconds(store):
    async def scenario() -> None:
        clock = FixedClock()
        feed = RevocationFeed(
            Redis.from_url(URL), ValidationCache(bound_seconds=30, max_entries=10), clock=clock
        )
        admin = Redis.from_url(URL)
        try:
            feed.start()
            assert await until(lambda: feed.live, 10)
            resyncs = RESYNCS._value.get()
            # Heartbeats are held: nothing more is heard after the clock's reading.
            await admin.execute_command("CLIENT", "PAUSE", "10000", "WRITE")
            start = clock.now
            clock.now = start + STALE_SECONDS + 0.5  # not live, still subscribed:
            assert await until(lambda: FEED_UP._value.get() == 0, 2 * STALE_SECONDS)  # says 0
            clock.now = start + DEAF_SECONDS  # deaf for exactly the bound: still subscribed
            await asyncio.sleep(2 * STALE_SECONDS)  # two turns of the listening loop
            assert RESYNCS._value.get() == resyncs
            clock.now += 0.001  # a millisecond more: subscribe again, within a turn of
            # the loop, the pause between attempts and the subscription itself
            bound = STALE_SECONDS + RETRY_SECONDS + 3
            assert await until(lambda: RESYNCS._value.get() == resyncs + 1, bound)
        finally:
            await admin.execute_command("CLIENT", "UNPAUSE")
            await feed.stop()
            await admin.aclose()

    asyncio.run(scenario())
