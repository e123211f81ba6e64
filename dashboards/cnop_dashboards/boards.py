"""The platform's dashboards, each a function of its inputs."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from cnop_dashboards.defaults import RATE, new_dashboard, with_panels
from cnop_dashboards.panels import Query, grid, stat_panel, timeseries_panel
from cnop_policies.slo import Slos

PUBLIC = 'service="gateway", route!~"/health|/ready|preflight"'


def quantile(q: float, metric: str, by: str = "", selector: str = "") -> str:
    """histogram_quantile over a histogram's buckets."""
    group = f"{by}, le" if by else "le"
    return (
        f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{selector}}}[{RATE}])))"
    )


def auth_overview() -> Dashboard:
    """Auth service: validations by outcome and reason, latency, issues, revocations."""
    panels = [
        timeseries_panel(
            "Validations by outcome and reason",
            "Token validations per second, split by outcome and rejection reason.",
            "reqps",
            Query(
                f"sum by (outcome, reason) (rate(auth_validations_total[{RATE}]))",
                "{{outcome}} {{reason}}",
            ),
            position=grid(0),
        ),
        timeseries_panel(
            "Validation failure ratio",
            "Share of validations rejected (recording rule, 5m window).",
            "percentunit",
            Query("auth:validation_failures:ratio_rate5m", "rejected"),
            position=grid(1),
        ),
        timeseries_panel(
            "Validation latency",
            "p50 and p99 time to validate one token, revocation lookup included.",
            "s",
            Query(quantile(0.5, "auth_validation_duration_seconds"), "p50"),
            Query(quantile(0.99, "auth_validation_duration_seconds"), "p99"),
            position=grid(2),
        ),
        timeseries_panel(
            "Tokens issued and revoked",
            "Tokens issued at login and revoked at logout, per second.",
            "reqps",
            Query(f"sum(rate(auth_tokens_issued_total[{RATE}]))", "issued"),
            Query(f"sum(rate(auth_tokens_revoked_total[{RATE}]))", "revoked"),
            position=grid(3),
        ),
    ]
    board = new_dashboard(
        "cnop-auth-overview",
        "CNOP / Auth service overview",
        "Token validations, latency, issues and revocations.",
        "auth",
    )
    return with_panels(board, panels)


def gateway_auth_flow() -> Dashboard:
    """Gateway: requests by route and status, auth outcomes, cache, upstreams, breakers."""
    panels = [
        timeseries_panel(
            "Requests by route and status",
            "Gateway requests per second by route template and status.",
            "reqps",
            Query(
                f'sum by (route, status) (rate(http_requests_total{{service="gateway"}}[{RATE}]))',
                "{{route}} {{status}}",
            ),
            position=grid(0),
        ),
        timeseries_panel(
            "Authentication outcomes",
            "Outcome of the token check on protected routes, per second.",
            "reqps",
            Query(f"sum by (outcome) (rate(gateway_auth_outcomes_total[{RATE}]))", "{{outcome}}"),
            position=grid(1),
        ),
        timeseries_panel(
            "Validation cache hit ratio",
            "Share of token checks answered from the gateway's cache.",
            "percentunit",
            Query(
                f'sum(rate(gateway_auth_cache_total{{result="hit"}}[{RATE}]))'
                f" / sum(rate(gateway_auth_cache_total[{RATE}]))",
                "hit ratio",
            ),
            position=grid(2),
        ),
        timeseries_panel(
            "Upstream latency",
            "p99 time each upstream took to answer the gateway.",
            "s",
            Query(quantile(0.99, "gateway_upstream_duration_seconds", "upstream"), "{{upstream}}"),
            position=grid(3),
        ),
        timeseries_panel(
            "Circuit breaker state",
            "Per upstream: 0 closed, 1 open, 2 half-open.",
            "none",
            Query("max by (upstream) (gateway_circuit_breaker_state)", "{{upstream}}"),
            position=grid(4),
        ),
    ]
    board = new_dashboard(
        "cnop-gateway-auth-flow",
        "CNOP / Gateway auth flow",
        "Routing, token checks, cache and upstream health at the gateway.",
        "gateway",
    )
    return with_panels(board, panels)


def security() -> Dashboard:
    """Rate-limit hits, login failures and blocks, untrusted requests, token rejections."""
    panels = [
        timeseries_panel(
            "Rate-limit hits",
            "Requests refused by the per-IP rate limit.",
            "reqps",
            Query(f"sum(rate(gateway_rate_limited_total[{RATE}]))", "refused"),
            position=grid(0),
        ),
        timeseries_panel(
            "Failed logins and blocks",
            "Failed logins, and login blocks started by scope (user or ip).",
            "reqps",
            Query(f"sum(rate(gateway_login_failures_total[{RATE}]))", "failures"),
            Query(f"sum by (scope) (rate(gateway_login_blocks_total[{RATE}]))", "blocks {{scope}}"),
            position=grid(1),
        ),
        timeseries_panel(
            "Untrusted requests at backends",
            "Requests backends refused as not coming through the gateway, by reason (a"
            " replayed or re-purposed signed call among them), and calls auth refused.",
            "reqps",
            Query(
                f"sum by (service, reason) (rate(untrusted_requests_total[{RATE}]))",
                "{{service}} {{reason}}",
            ),
            Query(
                f"sum by (path) (rate(auth_refused_callers_total[{RATE}]))",
                "auth {{path}}",
            ),
            position=grid(2),
        ),
        timeseries_panel(
            "Rejected tokens by reason",
            "Tokens the auth service rejected, by reason, and those the gateway refused"
            " before asking it (a malformed header, a token in another spelling).",
            "reqps",
            Query(
                f'sum by (reason) (rate(auth_validations_total{{outcome="rejected"}}[{RATE}]))',
                "{{reason}}",
            ),
            Query(
                f'sum(rate(gateway_auth_outcomes_total{{outcome="malformed"}}[{RATE}]))',
                "gateway: malformed",
            ),
            position=grid(3),
        ),
        timeseries_panel(
            "Refused before the application",
            "Requests every server refused before its application saw them: too slow (408),"
            " headers too large (431), not HTTP at all (400).",
            "reqps",
            Query(
                f"sum by (service, status) (rate(http_requests_refused_total[{RATE}]))",
                "{{service}} {{status}}",
            ),
            position=grid(4),
        ),
    ]
    board = new_dashboard(
        "cnop-security",
        "CNOP / Security",
        "Abuse signals: rate limits, password guessing, bypass attempts.",
        "security",
    )
    return with_panels(board, panels)


def service_red(service: str) -> Dashboard:
    """Rate, errors and duration of one service; the same function for every service."""
    selector = f'service="{service}"'
    panels = [
        timeseries_panel(
            "Request rate",
            f"Requests per second to {service}, by route.",
            "reqps",
            Query(f"sum by (route) (rate(http_requests_total{{{selector}}}[{RATE}]))", "{{route}}"),
            position=grid(0),
        ),
        timeseries_panel(
            "Error ratio",
            f"Share of {service}'s requests answered with 5xx.",
            "percentunit",
            Query(f"service:http_errors:ratio_rate5m{{{selector}}}", "5xx ratio"),
            position=grid(1),
        ),
        timeseries_panel(
            "Duration",
            f"p50 and p99 time {service} takes per request.",
            "s",
            Query(quantile(0.5, "http_request_duration_seconds", "", selector), "p50"),
            Query(quantile(0.99, "http_request_duration_seconds", "", selector), "p99"),
            position=grid(2),
        ),
        timeseries_panel(
            "Requests by status",
            f"{service}'s responses per second by status.",
            "reqps",
            Query(
                f"sum by (status) (rate(http_requests_total{{{selector}}}[{RATE}]))", "{{status}}"
            ),
            position=grid(3),
        ),
    ]
    board = new_dashboard(
        f"cnop-red-{service}",
        f"CNOP / {service} RED",
        f"Rate, errors and duration of the {service} service.",
        "red",
    )
    return with_panels(board, panels)


def slo_capacity(slos: Slos) -> Dashboard:
    """Availability and latency SLIs, error budget left, burn rates, throughput."""
    availability_budget = slos.availability.error_budget
    latency_budget = slos.latency.error_budget
    window = f"{slos.availability.window_days}d"
    bad = f'sum(increase(http_requests_total{{{PUBLIC}, status=~"5.."}}[{window}]))'
    everything = f"sum(increase(http_requests_total{{{PUBLIC}}}[{window}]))"
    panels = [
        stat_panel(
            "Availability SLI (1h)",
            f"Share of public requests without 5xx; objective {slos.availability.objective:.1%}.",
            "percentunit",
            Query("1 - gateway:slo_availability_errors:ratio_rate1h"),
            (0, 0),
        ),
        stat_panel(
            "Latency SLI (1h)",
            f"Share answered within {slos.latency_threshold_seconds:g}s; objective "
            f"{slos.latency.objective:.1%}.",
            "percentunit",
            Query("1 - gateway:slo_latency_errors:ratio_rate1h"),
            (6, 0),
        ),
        stat_panel(
            "Availability error budget left",
            f"Share of the {window} availability budget not yet spent.",
            "percentunit",
            Query(f"1 - (({bad} or {everything} * 0) / {everything}) / {availability_budget:g}"),
            (12, 0),
        ),
        timeseries_panel(
            "Availability burn rate",
            "Error ratio divided by the budget, per alert window (1 = on budget).",
            "none",
            *(
                Query(f"gateway:slo_availability_errors:ratio_rate{w} / {availability_budget:g}", w)
                for w in ("5m", "1h", "6h")
            ),
            position=(0, 4),
        ),
        timeseries_panel(
            "Latency burn rate",
            "Slow-request ratio divided by the budget, per alert window.",
            "none",
            *(
                Query(f"gateway:slo_latency_errors:ratio_rate{w} / {latency_budget:g}", w)
                for w in ("5m", "1h", "6h")
            ),
            position=(12, 4),
        ),
        timeseries_panel(
            "Throughput by service",
            "Requests per second each service handles.",
            "reqps",
            Query("service:http_requests:rate5m", "{{service}}"),
            position=(0, 12),
        ),
    ]
    board = new_dashboard(
        "cnop-slo-capacity",
        "CNOP / SLO and capacity",
        "The public API's SLOs (policies/slo.toml), error budget and load.",
        "slo",
    )
    return with_panels(board, panels)
