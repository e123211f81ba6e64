"""When a gateway process trusts its memory of revocations (cnop_gateway/revocations.py):
only while its latest heartbeat heard was sent at most STALE_SECONDS ago."""

import asyncio
import re
import time

import pytest

from cnop_gateway.cache import Identity, ValidationCache, token_key
from cnop_gateway.revocations import (
    CHANNEL,
    DEAF_SECONDS,
    FEED_UP,
    HEARD,
    HEARTBEAT_SECONDS,
    RETRY_SECONDS,
    STALE_SECONDS,
    RevocationFeed,
)

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed() -> tuple[RevocationFeed, ValidationCache, Clock]:
    clock = Clock()
    cache = ValidationCache(bound_seconds=30, max_entries=10)
    return RevocationFeed(None, cache, clock=clock), cache, clock


def test_nothing_heard_means_no_trust():
    revocations, _cache, _clock = feed()
    assert not revocations.live


def test_trust_lasts_stale_seconds_from_when_the_heartbeat_was_sent():
    revocations, _cache, clock = feed()
    sent = clock.now
    clock.now += 0.3  # it took its time to come back
    revocations._apply(revocations.heartbeat_channel.encode(), repr(sent).encode())
    assert revocations.live
    clock.now = sent + STALE_SECONDS
    assert revocations.live
    clock.now = sent + STALE_SECONDS + 0.001
    assert not revocations.live


def test_an_older_heartbeat_arriving_late_does_not_move_trust_back():
    revocations, _cache, clock = feed()
    revocations._apply(revocations.heartbeat_channel, repr(clock.now))
    revocations._apply(revocations.heartbeat_channel, repr(clock.now - 5))
    clock.now += STALE_SECONDS
    assert revocations.live


def test_another_process_heartbeat_does_not_count():
    revocations, _cache, clock = feed()
    revocations._apply("cnop:gw:heartbeat:someone-else", repr(clock.now))
    assert not revocations.live


def test_a_revocation_message_evicts_the_token_and_remembers_it():
    revocations, cache, _clock = feed()
    key = token_key("a.b.c")
    cache.put(key, Identity("alice", "customer", int(time.time()) + 300))
    assert cache.get(key) is not None
    revocations._apply(CHANNEL.encode(), key.hex().encode())
    assert cache.get(key) is None
    assert cache.recently_revoked(key)


def test_a_malformed_message_changes_nothing():
    revocations, cache, _clock = feed()
    key = token_key("a.b.c")
    cache.put(key, Identity("alice", "customer", int(time.time()) + 300))
    assert cache.get(key) is not None
    revocations._apply(CHANNEL, "not hex")
    revocations._apply(revocations.heartbeat_channel, "not a time")
    assert cache.get(key) is not None
    assert not revocations.live


# --- edges the mutation run showed unpinned (issue 25) ----------------------------------


def test_the_feed_s_timings_are_the_documented_ones():
    assert (HEARTBEAT_SECONDS, STALE_SECONDS, RETRY_SECONDS, DEAF_SECONDS) == (0.25, 1.0, 1.0, 5.0)


def test_each_process_has_a_heartbeat_channel_of_its_own():
    channels = {feed()[0].heartbeat_channel for _ in range(20)}
    assert len(channels) == 20
    for channel in channels:
        assert re.fullmatch(r"cnop:gw:heartbeat:[0-9a-f]{16}", channel)


@pytest.mark.parametrize("channel", ["cnop:gw:aaa", "cnop:gw:zzz", "other"])
def test_a_message_on_a_channel_it_does_not_know_changes_nothing(channel):
    revocations, cache, clock = feed()
    key = token_key("a.b.c")
    cache.put(key, Identity("alice", "customer", int(time.time()) + 300))
    heard = HEARD._value.get()
    revocations._apply(channel.encode(), key.hex().encode())
    revocations._apply(channel, repr(clock.now))
    assert cache.get(key) is not None
    assert not revocations.live
    assert HEARD._value.get() == heard


def test_a_new_feed_says_it_is_not_live():
    FEED_UP.set(1)
    feed()
    assert FEED_UP._value.get() == 0


def test_without_a_store_there_is_nothing_to_start():
    async def scenario() -> object:
        revocations, _cache, _clock = feed()
        revocations.start()
        return revocations._task

    assert asyncio.run(scenario()) is None
