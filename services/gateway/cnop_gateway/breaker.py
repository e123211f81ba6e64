"""A circuit breaker per upstream: closed → open → half-open → closed.

The gateway is one event loop, so state changes need no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum

from prometheus_client import Gauge

BREAKER_STATE = Gauge(
    "gateway_circuit_breaker_state",
    "Circuit breaker state per upstream: 0 closed, 1 open, 2 half-open.",
    ["upstream"],
    # Each worker process has its own breakers: one series per live worker (pid).
    multiprocess_mode="liveall",
)


class State(IntEnum):
    """The breaker's states, valued as the gauge reports them."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; lets one probe through after `reset`."""

    def __init__(
        self,
        upstream: str,
        *,
        threshold: int,
        reset_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstream = upstream
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at = 0.0
        self.state = State.CLOSED
        self._publish()

    def allow(self) -> bool:
        """May a request go to the upstream now? Claims the probe when half-opening."""
        if self.state is State.CLOSED:
            return True
        if self.state is State.OPEN and self.clock() - self.opened_at >= self.reset_seconds:
            self._move(State.HALF_OPEN)
            return True  # this request is the probe
        return False

    def retry_after(self) -> int:
        """Whole seconds until the next probe may go."""
        remaining = self.reset_seconds - (self.clock() - self.opened_at)
        return max(1, int(remaining + 0.999))

    def record_success(self) -> None:
        """The upstream answered: close."""
        self.failures = 0
        if self.state is not State.CLOSED:
            self._move(State.CLOSED)

    def record_failure(self) -> None:
        """The upstream failed (timeout, refused, 5xx from it): count, maybe open."""
        self.failures += 1
        if self.state is State.HALF_OPEN or self.failures >= self.threshold:
            self.opened_at = self.clock()
            self._move(State.OPEN)

    def _move(self, state: State) -> None:
        self.state = state
        self._publish()

    def _publish(self) -> None:
        BREAKER_STATE.labels(self.upstream).set(int(self.state))
