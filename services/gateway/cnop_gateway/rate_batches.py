"""This process's part of the shared per-minute rate counts, added to the store in batches.

Every gateway process counts each address's requests in the limits store, so
the budget is one across replicas and workers. Counting each request there
costs a store round trip per request, the largest share of a warm request's
time once revocations are pushed (revocations.py). Here a process admits up to
SLACK - 1 requests of an address on its own, from what it knows (the shared
count as of its last batch, plus its own requests since), then adds them all
with the next request in one INCRBY and learns the shared count again.

The error this allows, stated and tested (tests in
services/gateway/tests/test_rate_batches.py, tests/integration/test_gateway_workers.py):

- one gateway process alone is exact: it knows every request counted;
- with N processes, a minute's admitted requests of one address exceed the
  budget by at most N x (SLACK - 1): each process admits at most SLACK - 1
  requests before a batch tells it the shared count, and none after a batch
  shows the budget spent;
- SLACK = 1 + budget // 100, at most MAX_SLACK: one process more can add at
  most 1 % of the budget. A budget under 100 a minute (every test's, an
  attacker-facing login route's) is counted request by request, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SLACK = 64


def slack_for(per_minute: int) -> int:
    """Requests one process may count on its own between two batches, plus one."""
    return max(1, min(MAX_SLACK, 1 + per_minute // 100))


@dataclass(slots=True)
class _Count:
    seen: int = 0  # the shared count the last batch returned
    sending: int = 0  # admitted here, in a batch on its way to the store
    pending: int = 0  # admitted here since, in no batch yet


class RateBatches:
    """Per address, this minute: what this process knows of the shared count."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.slack = slack_for(per_minute)
        self._window = -1
        self._counts: dict[str, _Count] = {}

    def _count(self, client_ip: str, window: int) -> _Count:
        if window != self._window:
            self._window = window
            self._counts = {}
        count = self._counts.get(client_ip)
        if count is None:
            count = self._counts[client_ip] = _Count()
        return count

    def admit_here(self, client_ip: str, window: int) -> int | None:
        """The count this request makes, if it may be admitted without the store; else None."""
        count = self._count(client_ip, window)
        known = count.seen + count.sending + count.pending
        if count.pending + 1 < self.slack and known < self.per_minute:
            count.pending += 1
            return known + 1
        return None

    def take(self, client_ip: str, window: int) -> int:
        """Start a batch: this request and every one admitted here since the last (INCRBY)."""
        count = self._count(client_ip, window)
        amount = count.pending + 1
        count.sending += amount
        count.pending = 0
        return amount

    def settle(self, client_ip: str, window: int, amount: int, total: int | None) -> None:
        """A batch of `amount` came back with the shared `total` (None: it did not arrive)."""
        if window != self._window:
            return  # a batch of a minute that is over
        count = self._count(client_ip, window)
        count.sending = max(0, count.sending - amount)
        if total is not None:
            count.seen = max(count.seen, total - count.sending)
