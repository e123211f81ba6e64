"""Limits that hold across gateway replicas: one Redis every replica counts in.

The rate limit, the login guard and the memory of revoked tokens lived in each
replica's memory, so N replicas gave an attacker N times each budget, and the
HPA changes N under attack. Here they live in Redis (LIMITS_STORE_URL):

- rate limit: one counter per address and minute (INCR + EXPIRE);
- login guard: failures per username and per address in sorted sets over the
  window, attempts in flight in counters, blocks as keys that expire; the
  check and the reservation are one Lua script, atomic across replicas;
- revocations: a key per revoked token (its spelling-free hash) for as long as
  a validation may be in flight, checked before a cached validation is used,
  so a logout on one replica ends the token on all of them at once.

A request costs one round trip: the rate count and the question "was the
bearer token revoked?" are asked together, by one script (ADMIT), before the
request is routed.

If Redis does not answer, the gateway keeps serving with its own in-memory
limits (limits.py, cache.py), counts every such call in
`gateway_limits_store_fallbacks_total`, reports `gateway_limits_store_up 0`,
and leaves Redis alone for a few seconds before trying again; the
LimitsStoreUnavailable alert fires. What the replica counted meanwhile is not
lost when Redis answers again: its login failures and blocks are written into
Redis first (MERGE), and its own blocks are still checked until they run out.
What is lost where (a replica restarting during an outage, Redis restarting) is
in services/gateway/README.md.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError

from cnop_common.logging import get_logger
from cnop_gateway.cache import REVOKED_MEMORY_SECONDS, ValidationCache
from cnop_gateway.limit_scripts import ADMIT, BEGIN, END, MERGE, RATE_KEY_SECONDS
from cnop_gateway.limits import (
    LOGIN_BLOCKED_ATTEMPTS,
    LOGIN_BLOCKS,
    LOGIN_FAILURES,
    LoginGuard,
    Quota,
    RateLimiter,
)
from cnop_gateway.rate_batches import RateBatches
from cnop_gateway.revocations import CHANNEL as REVOCATIONS_CHANNEL
from cnop_gateway.revocations import RevocationFeed

log = get_logger("security")
T = TypeVar("T")

FALLBACKS = Counter(
    "gateway_limits_store_fallbacks_total",
    "Limit checks answered from this replica's memory because the shared store did not.",
    ["operation"],
)
ROUND_TRIPS = Counter(
    "gateway_limits_store_round_trips_total",
    "Calls this replica made to the shared limits store (a script or pipeline is one).",
    ["operation"],
)
STORE_UP = Gauge(
    "gateway_limits_store_up",
    "1 while the shared limits store answers, 0 while it does not.",
    multiprocess_mode="liveall",  # one series per live worker process (pid)
)
OPERATIONS = ("rate", "login_begin", "login_end", "revoke", "revoked")  # "rate": ADMIT
for _operation in OPERATIONS:
    FALLBACKS.labels(_operation)
    ROUND_TRIPS.labels(_operation)

# Seconds to leave an unanswering store alone: the fallback must not cost every
# request a connection timeout.
RETRY_SECONDS = 2.0
TIMEOUT_SECONDS = 0.25
PREFIX = "cnop:gw:"


@dataclass(frozen=True, slots=True)
class Admission:
    """The verdict on one request before it is routed."""

    quota: Quota
    revoked: bool | None  # was its bearer token revoked? None: it carried none


class SharedLimits:
    """The gateway's limits and revocations, in Redis when it answers, in memory when not."""

    def __init__(
        self,
        url: str | None,
        limiter: RateLimiter,
        guard: LoginGuard,
        cache: ValidationCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limiter = limiter
        self.guard = guard
        self.cache = cache
        self.clock = clock
        self.redis: Redis | None = (
            Redis.from_url(
                url,
                socket_timeout=TIMEOUT_SECONDS,
                socket_connect_timeout=TIMEOUT_SECONDS,
                health_check_interval=30,
            )
            if url
            else None
        )
        self._admit = self.redis.register_script(ADMIT) if self.redis else None
        self._begin = self.redis.register_script(BEGIN) if self.redis else None
        self._end = self.redis.register_script(END) if self.redis else None
        self._merge = self.redis.register_script(MERGE) if self.redis else None
        self._skip_until = 0.0
        self._was_down = False  # a fallback happened: merge before the next shared call
        self.batches = RateBatches(limiter.per_minute)
        self.feed = RevocationFeed(self.redis, cache)
        if self.redis is not None:  # no store configured: no series, no alert
            STORE_UP.set(1)

    def start(self) -> None:
        """Start listening for revocations (in the running event loop)."""
        self.feed.start()

    async def close(self) -> None:
        """Stop listening and release the connection pool."""
        await self.feed.stop()
        if self.redis is not None:
            await self.redis.aclose()

    def _store_trusted(self) -> bool:
        """A store is configured, answered last time, and has nothing to catch up on."""
        return (
            self.redis is not None and not self._was_down and time.monotonic() >= self._skip_until
        )

    async def _shared(
        self, operation: str, call: Callable[[Redis], Awaitable[T]], local: Callable[[], T]
    ) -> T:
        """`call` on Redis; on any failure (or while it is being left alone), `local`."""
        if self.redis is not None and time.monotonic() >= self._skip_until:
            ROUND_TRIPS.labels(operation).inc()
            try:
                if self._was_down:
                    await self._merge_local_state()
                result = await call(self.redis)
            except (RedisError, OSError, TimeoutError) as exc:
                self._skip_until = time.monotonic() + RETRY_SECONDS
                STORE_UP.set(0)
                log.error(
                    "limits_store_unavailable", operation=operation, error_type=type(exc).__name__
                )
            else:
                STORE_UP.set(1)
                return result
        if self.redis is not None:
            FALLBACKS.labels(operation).inc()
            self._was_down = True
        return local()

    async def _merge_local_state(self) -> None:
        """Write what this replica's guard counted alone into the store (MERGE)."""
        assert self._merge is not None
        failures, blocks = self.guard.pending()
        now = self.clock()
        for scope, value in set(failures) | set(blocks):
            ages = failures.get((scope, value), [])
            left_ms = int(blocks.get((scope, value), 0.0) * 1000)
            await self._merge(
                keys=[
                    self._login_key("fail", scope, value),
                    self._login_key("block", scope, value),
                ],
                args=[now, self.guard.window_seconds, left_ms, *(now - age for age in ages)],
            )
        self.guard.forget_failures()
        self._was_down = False
        log.info("limits_store_merged", scopes=len(set(failures) | set(blocks)))

    async def admit(self, client_ip: str, token_key: bytes | None) -> Admission:
        """Count one request of `client_ip` in this minute across every replica and,
        when it carries a bearer token, say whether that token was revoked.

        No store call at all when this process may count the request on its own
        (rate_batches.py) and, for a token, the revocations channel is live
        (revocations.py): the common warm request."""
        limit = self.limiter.per_minute
        window = int(self.clock() // 60)
        if self._store_trusted() and (token_key is None or self.feed.live):
            count = self.batches.admit_here(client_ip, window)
            if count is not None:
                revoked = None if token_key is None else self.cache.recently_revoked(token_key)
                return Admission(self.limiter.quota(count, window), revoked)

        async def shared(_redis: Redis) -> Admission:
            assert self._admit is not None
            # Keyed by the budget too: replicas configured alike share one count,
            # a differently configured gateway (a test's) never eats into it.
            keys = [f"{PREFIX}rate:{limit}:{window}:{client_ip}"]
            if token_key is not None:
                keys.append(_revoked_key(token_key))
            amount = self.batches.take(client_ip, window)
            try:
                count, revoked = await self._admit(keys=keys, args=[RATE_KEY_SECONDS, amount])
            except BaseException:
                self.batches.settle(client_ip, window, amount, None)
                raise
            self.batches.settle(client_ip, window, amount, int(count))
            quota = self.limiter.quota(int(count), window)
            return Admission(quota, None if int(revoked) < 0 else bool(revoked))

        def local() -> Admission:
            revoked = None if token_key is None else self.cache.recently_revoked(token_key)
            return Admission(self.limiter.check(client_ip), revoked)

        return await self._shared("rate", shared, local)

    def _login_key(self, kind: str, scope: str, value: str) -> str:
        # Keyed by the guard's settings too, as the rate limit is by its budget.
        guard = self.guard
        tag = (
            f"{guard.limits['user']}-{guard.limits['ip']}"
            f"-{guard.window_seconds:g}-{guard.block_seconds:g}"
        )
        return f"{PREFIX}login:{tag}:{kind}:{scope}:{value}"

    def _login_keys(self, username: str, client_ip: str) -> list[str]:
        scopes = (("user", username), ("ip", client_ip))
        # The order the scripts' KEYS expect: fail, flight, block; user before ip.
        return [
            self._login_key(kind, scope, value)
            for kind in ("fail", "flight", "block")
            for scope, value in scopes
        ]

    def _login_args(self) -> list[Any]:
        limits = self.guard.limits
        return [self.clock(), self.guard.window_seconds, limits["user"], limits["ip"]]

    async def login_begin(self, username: str, client_ip: str) -> int:
        """Reserve a place for one login attempt: 0, or seconds to wait (LoginGuard.begin)."""
        # A block this replica made while the store was away holds until it runs out,
        # whatever the store says (it may have lost it, or never heard of it).
        held = self.guard.blocked_for(username, client_ip)
        if held:
            return held

        async def shared(_redis: Redis) -> int:
            assert self._begin is not None
            state, wait_ms = await self._begin(
                keys=self._login_keys(username, client_ip),
                args=[*self._login_args(), 60],  # an attempt in flight: at most a minute
            )
            if int(state):
                LOGIN_BLOCKED_ATTEMPTS.inc()
                return max(1, int((int(wait_ms) + 999) // 1000))
            return 0

        return await self._shared(
            "login_begin", shared, lambda: self.guard.begin(username, client_ip)
        )

    async def login_end(self, username: str, client_ip: str, *, failed: bool) -> list[str]:
        """Release the attempt's place; count a failure (LoginGuard.end)."""

        async def shared(_redis: Redis) -> list[str]:
            assert self._end is not None
            started = await self._end(
                keys=self._login_keys(username, client_ip),
                args=[
                    *self._login_args(),
                    "1" if failed else "0",
                    f"{self.clock()}:{secrets.token_hex(6)}",
                    int(self.guard.block_seconds * 1000),
                ],
            )
            if failed:
                LOGIN_FAILURES.inc()
            scopes = ["user" if int(index) == 1 else "ip" for index in started]
            for scope in scopes:
                LOGIN_BLOCKS.labels(scope).inc()
            return scopes

        return await self._shared(
            "login_end", shared, lambda: self.guard.end(username, client_ip, failed=failed)
        )

    async def revoke(self, key: bytes) -> None:
        """Mark a token revoked on every replica (and forget it here at once): the mark
        for processes that ask, and a message on the channel for those that listen."""
        self.cache.evict(key)

        async def shared(redis: Redis) -> None:
            async with redis.pipeline(transaction=False) as pipe:
                pipe.set(_revoked_key(key), b"1", ex=int(REVOKED_MEMORY_SECONDS))
                pipe.publish(REVOCATIONS_CHANNEL, key.hex())
                await pipe.execute()

        await self._shared("revoke", shared, lambda: None)

    async def revoked(self, key: bytes) -> bool:
        """Was this token revoked on any replica lately? (Here: the local memory.)"""

        async def shared(redis: Redis) -> bool:
            return bool(await redis.exists(_revoked_key(key)))

        return await self._shared("revoked", shared, lambda: self.cache.recently_revoked(key))


def _revoked_key(token_key: bytes) -> str:
    return f"{PREFIX}revoked:{token_key.hex()}"
