"""Prometheus metrics every service shares (served on each process's admin port)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics

# `*_created` series double the series count and no dashboard or alert reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Buckets from 1 ms to 10 s: loopback calls sit at the bottom, store and
# upstream timeouts at the top.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests handled, by route template, method and status.",
    ["service", "route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to handle an HTTP request, by route template and method.",
    ["service", "route", "method"],
    buckets=LATENCY_BUCKETS,
)
UNTRUSTED_REQUESTS = Counter(
    "untrusted_requests_total",
    "Requests a backend refused because they did not come from a trusted source.",
    ["service", "reason"],
)
STORE_ERRORS = Counter(
    "store_errors_total",
    "Data store calls that failed for reasons other than a business condition.",
    ["service", "operation"],
)
SLOW_OR_OVERSIZED = Counter(
    "http_requests_refused_total",
    "Requests refused before the application: too slow (408), headers too large (431)"
    " or not HTTP at all (400).",
    ["service", "status"],
)
STORE_CALLS = Counter(
    "store_calls_total",
    "DynamoDB calls by the route that made them and the operation (budgets: docs/performance.md).",
    ["service", "route", "operation"],
)
