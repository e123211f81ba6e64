"""Per-IP rate limiting and the login brute-force guard, in this replica's memory.

Both are keyed on the client IP as headers.client_ip() decides it: the TCP peer
unless the peer is a configured trusted proxy. With a shared limits store
(shared.py) these give the verdicts for the counts kept there, and stand in
for it while it does not answer.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter

RATE_LIMITED = Counter("gateway_rate_limited_total", "Requests refused by the per-IP rate limit.")
LOGIN_FAILURES = Counter("gateway_login_failures_total", "Failed logins seen by the gateway.")
LOGIN_BLOCKS = Counter(
    "gateway_login_blocks_total",
    "Login blocks started, by what was blocked.",
    ["scope"],
)
# Both series exist at 0 from start-up: a dashboard shows "no blocks", not "No data".
for _scope in ("user", "ip"):
    LOGIN_BLOCKS.labels(_scope)
LOGIN_BLOCKED_ATTEMPTS = Counter(
    "gateway_login_blocked_attempts_total", "Login attempts refused while blocked."
)


@dataclass(frozen=True, slots=True)
class Quota:
    """The outcome of one rate-limit check."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        """X-RateLimit-* response headers."""
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_at).encode()),
        ]


class RateLimiter:
    """A fixed one-minute window per client IP; the table is cleared each window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def check(self, client_ip: str) -> Quota:
        """Count this request and say whether it may go on."""
        now = self.clock()
        window = int(now // 60)
        if window != self._window:
            self._window = window
            self._counts = {}
        count = self._counts.get(client_ip, 0) + 1
        self._counts[client_ip] = count
        return self.quota(count, window)

    def quota(self, count: int, window: int) -> Quota:
        """The verdict on the `count`-th request of one address in minute `window`
        (counted here or in the shared store)."""
        allowed = count <= self.per_minute
        if not allowed:
            RATE_LIMITED.inc()
        return Quota(allowed, self.per_minute, max(0, self.per_minute - count), (window + 1) * 60)


class LoginGuard:
    """Blocks a username or an IP after too many failed logins within a window.

    Attempts are counted when they start, not when they fail: an attempt in
    flight holds a place in the budget until its answer comes. Counting only
    failures let 30 concurrent guesses all reach auth before the first 401 came
    back (and a burst that held the right password log in).
    """

    def __init__(
        self,
        *,
        max_per_user: int,
        max_per_ip: int,
        window_seconds: float,
        block_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 100_000,
    ) -> None:
        self.limits = {"user": max_per_user, "ip": max_per_ip}
        self.window_seconds = window_seconds
        self.block_seconds = block_seconds
        self.clock = clock
        self.max_tracked = max_tracked
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._blocked_until: dict[tuple[str, str], float] = {}
        self._in_flight: dict[tuple[str, str], int] = {}

    def begin(self, username: str, client_ip: str) -> int:
        """Reserve a place for one attempt: 0, or the seconds to wait before trying again."""
        wait = self.blocked_for(username, client_ip)
        if wait:
            return wait
        now = self.clock()
        keys = (("user", username), ("ip", client_ip))
        for key in keys:
            recent = [t for t in self._failures.get(key, ()) if t > now - self.window_seconds]
            if len(recent) + self._in_flight.get(key, 0) >= self.limits[key[0]]:
                LOGIN_BLOCKED_ATTEMPTS.inc()
                return 1  # the attempts ahead of this one decide; ask again shortly
        for key in keys:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        return 0

    def end(self, username: str, client_ip: str, *, failed: bool) -> list[str]:
        """Release an attempt's place; a failure is counted (and may start blocks)."""
        for key in (("user", username), ("ip", client_ip)):
            left = self._in_flight.get(key, 0) - 1
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)
        return self.record_failure(username, client_ip) if failed else []

    def blocked_for(self, username: str, client_ip: str) -> int:
        """Seconds until this attempt may go through (0: not blocked)."""
        now = self.clock()
        waits = [
            until - now
            for key in (("user", username), ("ip", client_ip))
            if (until := self._blocked_until.get(key, 0.0)) > now
        ]
        if waits:
            LOGIN_BLOCKED_ATTEMPTS.inc()
            return max(1, int(max(waits) + 0.999))
        return 0

    def record_failure(self, username: str, client_ip: str) -> list[str]:
        """Count a failed login; return the scopes ("user", "ip") that just got blocked."""
        LOGIN_FAILURES.inc()
        now = self.clock()
        self._forget_stale(now)
        started = []
        for key in (("user", username), ("ip", client_ip)):
            failures = self._failures.setdefault(key, deque())
            failures.append(now)
            while failures and failures[0] <= now - self.window_seconds:
                failures.popleft()
            if len(failures) >= self.limits[key[0]] and self._blocked_until.get(key, 0) <= now:
                self._blocked_until[key] = now + self.block_seconds
                failures.clear()
                LOGIN_BLOCKS.labels(key[0]).inc()
                started.append(key[0])
        return started

    def pending(self) -> tuple[dict[tuple[str, str], list[float]], dict[tuple[str, str], float]]:
        """What this guard counted on its own (while the shared store was away): recent
        failures by (scope, value) as seconds ago, and blocks as seconds still to run."""
        now = self.clock()
        failures = {
            key: [now - t for t in times if t > now - self.window_seconds]
            for key, times in self._failures.items()
        }
        blocks = {key: until - now for key, until in self._blocked_until.items() if until > now}
        return {key: ages for key, ages in failures.items() if ages}, blocks

    def forget_failures(self) -> None:
        """Drop the failures counted here once the shared store holds them (blocks stay
        until they run out: they are checked beside the store's)."""
        self._failures.clear()

    def _forget_stale(self, now: float) -> None:
        # Keeps memory bounded under a spray of usernames or addresses.
        if len(self._failures) + len(self._blocked_until) < self.max_tracked:
            return
        horizon = now - self.window_seconds
        self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > horizon}
        self._blocked_until = {k: t for k, t in self._blocked_until.items() if t > now}
