"""Revocations pushed to every gateway process, so a cached validation needs no store call.

Before, every request with a cached validation asked the limits store "was this
token revoked?" (with its rate count, one round trip). Now a logout publishes
the token's key on a Redis channel every gateway process listens to, and each
process forgets the token as the message arrives. The store still keeps the
revoked mark (REVOKED_MEMORY_SECONDS): a process that is not listening asks it
per request, as before.

How late can a revocation be? Redis delivers messages to a subscriber in the
order it executed the PUBLISHes. Each process also publishes a heartbeat on a
channel of its own every HEARTBEAT_SECONDS, carrying the time it was sent, and
listens to it on the same connection. When its heartbeat sent at time s comes
back, every revocation published before s has already been applied here. The
process trusts its own memory only while the latest heartbeat it heard was sent
at most STALE_SECONDS ago; otherwise (no connection, a slow or stuck one, Redis
down) it checks the store per request. So a logout ends the token on every
other process within STALE_SECONDS (in practice within a millisecond or two),
inside the validation cache's own bound (5 s, docs/architecture.md), and at
once on the process that handled it.

When the subscription is made (first or again after a loss), every cached
validation of this process is dropped: whatever was revoked while it was not
listening is asked of auth again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from prometheus_client import Counter, Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError

from cnop_common import randomness
from cnop_common.logging import get_logger
from cnop_gateway.cache import ValidationCache

log = get_logger("security")

PREFIX = "cnop:gw:"
CHANNEL = f"{PREFIX}revocations"
HEARTBEAT_SECONDS = 0.25
STALE_SECONDS = 1.0
RETRY_SECONDS = 1.0  # between attempts to subscribe again
# Subscribed but deaf this long (a connection that answers nothing): subscribe again.
DEAF_SECONDS = 5 * STALE_SECONDS

FEED_UP = Gauge(
    "gateway_revocation_feed_up",
    "1 while this gateway process hears the revocations channel (cached validations need"
    " no store call), 0 while it checks the store per request.",
    multiprocess_mode="liveall",
)
HEARD = Counter(
    "gateway_revocations_heard_total",
    "Revocations this gateway process heard on the channel (each one evicts a token).",
)
RESYNCS = Counter(
    "gateway_revocation_feed_resyncs_total",
    "Subscriptions made to the revocations channel; each drops every cached validation.",
)


class RevocationFeed:
    """This process's subscription to the revocations channel, and whether to trust it."""

    def __init__(
        self,
        redis: Redis | None,
        cache: ValidationCache,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.cache = cache
        self.clock = clock
        self.heartbeat_channel = f"{PREFIX}heartbeat:{randomness.token_hex(8)}"
        self._heard_sent_at = float("-inf")  # when the latest heartbeat heard was sent
        self._task: asyncio.Task[None] | None = None
        FEED_UP.set(0)

    @property
    def live(self) -> bool:
        """True while every revocation published more than STALE_SECONDS ago is applied."""
        return self.clock() - self._heard_sent_at <= STALE_SECONDS

    def start(self) -> None:
        """Listen in the background (nothing to do without a store)."""
        if self.redis is not None and self._task is None:
            self._task = asyncio.create_task(self._run(), name="revocation-feed")

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._heard_sent_at = float("-inf")
        FEED_UP.set(0)

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (RedisError, OSError, TimeoutError) as exc:
                log.error("revocation_feed_lost", error_type=type(exc).__name__)
            self._heard_sent_at = float("-inf")
            FEED_UP.set(0)
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen(self) -> None:
        assert self.redis is not None
        pubsub = self.redis.pubsub()
        beating: asyncio.Task[None] | None = None
        try:
            await pubsub.subscribe(CHANNEL, self.heartbeat_channel)
            # Subscribed: from now on every revocation reaches us. Those published
            # before (while we were not listening) are forgotten with the cache.
            self.cache.clear()
            RESYNCS.inc()
            log.info("revocation_feed_subscribed")
            beating = asyncio.create_task(self._beat(), name="revocation-heartbeat")
            subscribed_at = self.clock()
            while True:
                message = await pubsub.get_message(timeout=STALE_SECONDS)
                if beating.done():  # the heartbeat's store call failed: start over
                    beating.result()
                if message is not None and message["type"] == "message":
                    self._apply(message["channel"], message["data"])
                FEED_UP.set(1 if self.live else 0)
                if self.clock() - max(self._heard_sent_at, subscribed_at) > DEAF_SECONDS:
                    raise TimeoutError("no heartbeat came back on the revocations channel")
        finally:
            if beating is not None:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                    await beating
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    def _apply(self, channel: bytes | str, data: bytes | str) -> None:
        channel = channel.decode() if isinstance(channel, bytes) else channel
        text = data.decode() if isinstance(data, bytes) else data
        try:
            if channel == self.heartbeat_channel:
                self._heard_sent_at = max(self._heard_sent_at, float(text))
            elif channel == CHANNEL:
                self.cache.evict(bytes.fromhex(text))
                HEARD.inc()
        except ValueError:
            log.warning("revocation_feed_malformed", channel=channel)

    async def _beat(self) -> None:
        assert self.redis is not None
        while True:
            await self.redis.publish(self.heartbeat_channel, repr(self.clock()))
            await asyncio.sleep(HEARTBEAT_SECONDS)
