"""Request outcomes in one-second windows: recorded by Locust, merged, read by the analysis.

Workers record; the master (or the single local process) merges what they
send and writes it out. Windows are keyed by wall-clock second, so the
analysis can cut them into a shape's phases afterwards: the phases are known
only to the master, the requests only to the workers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def bucket(milliseconds: float) -> int:
    """The histogram bucket of a response time: 1 ms below 100 ms, 10 ms to 1 s, 100 ms above."""
    value = round(milliseconds)
    if value < 100:
        return value
    if value < 1000:
        return round(value, -1)
    return round(value, -2)


@dataclass
class Window:
    """What happened in some span of time."""

    requests: int = 0
    failures: int = 0  # 5xx, transport errors and wrong answers; never a 429
    server_errors: int = 0  # 5xx and transport errors: what the availability SLO counts
    wrong_answers: int = 0  # a 2xx/4xx whose content the journey refused
    throttled: int = 0  # 429: the rate limit working, reported apart
    times: Counter[int] = field(default_factory=Counter)  # bucket (ms) → count

    def add(self, milliseconds: float, outcome: str) -> None:
        """Count one request; `outcome` is ok, throttled, server_error or wrong_answer."""
        self.requests += 1
        self.times[bucket(milliseconds)] += 1
        if outcome == "throttled":
            self.throttled += 1
        elif outcome == "server_error":
            self.failures += 1
            self.server_errors += 1
        elif outcome == "wrong_answer":
            self.failures += 1
            self.wrong_answers += 1

    def merge(self, other: Window) -> None:
        """Add another window's counts to this one."""
        self.requests += other.requests
        self.failures += other.failures
        self.server_errors += other.server_errors
        self.wrong_answers += other.wrong_answers
        self.throttled += other.throttled
        self.times.update(other.times)

    def percentile(self, fraction: float) -> float:
        """The response time (ms) under which `fraction` of the requests fell; 0 with none."""
        total = sum(self.times.values())
        if total == 0:
            return 0.0
        rank = max(1, math.ceil(fraction * total))
        seen = 0
        for milliseconds in sorted(self.times):
            seen += self.times[milliseconds]
            if seen >= rank:
                return float(milliseconds)
        return float(max(self.times))

    @property
    def error_ratio(self) -> float:
        """Share of requests that failed at the server or on the wire (the availability SLI)."""
        return self.server_errors / self.requests if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (message to the master, file on disk)."""
        return {
            "requests": self.requests,
            "failures": self.failures,
            "server_errors": self.server_errors,
            "wrong_answers": self.wrong_answers,
            "throttled": self.throttled,
            "times": {str(k): v for k, v in self.times.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Window:
        """The inverse of to_json."""
        return cls(
            requests=int(data["requests"]),
            failures=int(data["failures"]),
            server_errors=int(data["server_errors"]),
            wrong_answers=int(data["wrong_answers"]),
            throttled=int(data["throttled"]),
            times=Counter({int(k): int(v) for k, v in data["times"].items()}),
        )


class Timeline:
    """Windows by wall-clock second."""

    def __init__(self) -> None:
        self.seconds: dict[int, Window] = {}

    def add(self, at: float, milliseconds: float, outcome: str) -> None:
        """Count a request that started at epoch time `at`."""
        self.seconds.setdefault(int(at), Window()).add(milliseconds, outcome)

    def merge(self, other: Mapping[int, Window]) -> None:
        """Fold in windows recorded elsewhere (a worker's report)."""
        for second, window in other.items():
            self.seconds.setdefault(second, Window()).merge(window)

    def between(self, start: float, end: float) -> Window:
        """One window for every second that starts in [start, end)."""
        total = Window()
        for second, window in self.seconds.items():
            if start <= second < end:
                total.merge(window)
        return total

    def to_json(self) -> dict[str, Any]:
        """Seconds as string keys, for JSON."""
        return {str(second): window.to_json() for second, window in self.seconds.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timeline:
        """The inverse of to_json."""
        timeline = cls()
        timeline.merge({int(k): Window.from_json(v) for k, v in data.items()})
        return timeline

    def drain(self) -> dict[int, Window]:
        """Hand over and forget everything recorded so far (a worker's periodic report)."""
        seconds, self.seconds = self.seconds, {}
        return seconds


def outcome(response: Any, exception: BaseException | None) -> str:
    """ok, throttled, server_error (5xx or no answer) or wrong_answer (a check refused it)."""
    status = getattr(response, "status_code", 0) or 0
    if status == 429:
        return "throttled"
    if exception is None:
        return "ok"
    if 0 < status < 500:
        return "wrong_answer"
    return "server_error"


def difference(later: Window, earlier: Window) -> Window:
    """What happened between two snapshots of running totals."""
    window = Window(
        requests=later.requests - earlier.requests,
        failures=later.failures - earlier.failures,
        server_errors=later.server_errors - earlier.server_errors,
        wrong_answers=later.wrong_answers - earlier.wrong_answers,
        throttled=later.throttled - earlier.throttled,
    )
    window.times = later.times.copy()
    window.times.subtract(earlier.times)
    window.times = +window.times  # drop buckets that did not change
    return window


def merged(windows: Iterable[Window]) -> Window:
    """One window holding all the given ones."""
    total = Window()
    for window in windows:
        total.merge(window)
    return total
