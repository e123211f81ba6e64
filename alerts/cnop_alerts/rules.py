"""The platform's recording and alerting rules.

Alerts read recording rules where one exists, so a dashboard and an alert
never compute the same thing two ways. Every alert carries a `service` label,
which Alertmanager's inhibition matches on.
"""

from __future__ import annotations

from cnop_alerts.model import Alert, Group, Recording
from cnop_policies.slo import Slos

PUBLIC = 'service="gateway", route!~"/health|/ready|preflight"'
# Multi-window, multi-burn-rate (Google SRE workbook, chapter 5).
PAGE = (14.4, "1h", "5m")
TICKET = (6.0, "6h", "30m")
SLO_WINDOWS = ("5m", "30m", "1h", "6h")


def zero_if_absent(bad: str, everything: str) -> str:
    """`bad`, or 0 for each series of `everything` when there were no bad events at all.

    A counter of errors that never happened has no series, and a ratio over
    no series is no series: a healthy service would show nothing instead of 0.
    """
    return f"({bad} or ({everything}) * 0)"


def recording_groups(slos: Slos) -> list[Group]:
    """Everything dashboards and alerts share, computed once per evaluation."""
    threshold = slos.latency_threshold_seconds
    per_service = Group(
        "cnop-services.recording",
        (
            Recording(
                "service:http_requests:rate5m", "sum by (service) (rate(http_requests_total[5m]))"
            ),
            Recording(
                "service:http_errors:ratio_rate5m",
                zero_if_absent(
                    'sum by (service) (rate(http_requests_total{status=~"5.."}[5m]))',
                    "sum by (service) (rate(http_requests_total[5m]))",
                )
                + " / sum by (service) (rate(http_requests_total[5m]))",
            ),
            Recording(
                "auth:validation_failures:ratio_rate5m",
                zero_if_absent(
                    'sum(rate(auth_validations_total{outcome="rejected"}[5m]))',
                    "sum(rate(auth_validations_total[5m]))",
                )
                + " / sum(rate(auth_validations_total[5m]))",
            ),
            Recording(
                "auth:validation_duration_seconds:p99_5m",
                "histogram_quantile(0.99, sum by (le) "
                "(rate(auth_validation_duration_seconds_bucket[5m])))",
            ),
        ),
    )
    slo_rules: list[Recording] = []
    for window in SLO_WINDOWS:
        slo_rules.append(
            Recording(
                f"gateway:slo_availability_errors:ratio_rate{window}",
                zero_if_absent(
                    f'sum(rate(http_requests_total{{{PUBLIC}, status=~"5.."}}[{window}]))',
                    f"sum(rate(http_requests_total{{{PUBLIC}}}[{window}]))",
                )
                + f" / sum(rate(http_requests_total{{{PUBLIC}}}[{window}]))",
            )
        )
        slo_rules.append(
            Recording(
                f"gateway:slo_latency_errors:ratio_rate{window}",
                f"1 - (sum(rate(http_request_duration_seconds_bucket{{{PUBLIC}, "
                f'le="{threshold:g}"}}[{window}]))'
                f" / sum(rate(http_request_duration_seconds_count{{{PUBLIC}}}[{window}])))",
            )
        )
    return [per_service, Group("cnop-slo.recording", tuple(slo_rules))]


def _burn_alerts(kind: str, budget: float) -> tuple[Alert, ...]:
    alerts = []
    for severity, (factor, long, short), label in (
        ("critical", PAGE, "Page"),
        ("warning", TICKET, "Ticket"),
    ):
        limit = f"{factor * budget:.6g}"
        alerts.append(
            Alert(
                name=f"Gateway{kind.capitalize()}BudgetBurn{label}",
                expr=(
                    f"gateway:slo_{kind}_errors:ratio_rate{long} > {limit}"
                    f" and gateway:slo_{kind}_errors:ratio_rate{short} > {limit}"
                ),
                for_seconds=120 if severity == "critical" else 900,
                severity=severity,  # type: ignore[arg-type]
                summary=f"The gateway is spending its {kind} error budget {factor:g}x too fast.",
                description=(
                    f"{kind.capitalize()} errors are {{{{ $value | humanizePercentage }}}} of "
                    f"requests over {long} and {short}; at {factor:g}x the budget of the SLO "
                    f"is gone early."
                ),
                labels={"service": "gateway", "slo": kind},
            )
        )
    return tuple(alerts)


def alert_groups(slos: Slos) -> list[Group]:
    """Alerts by area: auth, security, resilience, services and SLOs."""
    auth = Group(
        "cnop-auth.alerts",
        (
            Alert(
                "AuthServiceDown",
                'up{service="auth"} == 0 or absent(up{service="auth"})',
                60,
                "critical",
                "The auth service is down: protected routes answer 503.",
                "Prometheus cannot scrape auth ({{ $labels.instance }}); logins and every "
                "protected route fail closed.",
                {"service": "auth"},
            ),
            Alert(
                "AuthValidationFailureRatioHigh",
                "auth:validation_failures:ratio_rate5m > 0.25",
                600,
                "warning",
                "Many presented tokens are rejected.",
                "{{ $value | humanizePercentage }} of token validations failed over 5m.",
                {"service": "auth"},
            ),
            Alert(
                "AuthValidationLatencyHigh",
                "auth:validation_duration_seconds:p99_5m > 0.25",
                600,
                "warning",
                "Token validation is slow.",
                "p99 token validation takes {{ $value | humanizeDuration }} (limit 250ms).",
                {"service": "auth"},
            ),
        ),
    )
    security = Group(
        "cnop-security.alerts",
        (
            Alert(
                "SuspiciousLoginActivity",
                "sum(rate(gateway_login_failures_total[5m])) * 60 > 10"
                " or sum(increase(gateway_login_blocks_total[5m])) > 0",
                0,
                "warning",
                "Failed logins or login blocks point to password guessing.",
                "{{ $value | humanize }} failed logins per minute, or logins being blocked.",
                {"service": "gateway"},
            ),
            Alert(
                "RateLimitHitsSpiking",
                "sum(rate(gateway_rate_limited_total[5m])) * 60 > 60",
                300,
                "warning",
                "Clients are being rate limited in bulk.",
                "{{ $value | humanize }} requests per minute refused by the rate limit.",
                {"service": "gateway"},
            ),
            Alert(
                "UntrustedRequestsReachingBackend",
                "sum by (service, reason) (increase(untrusted_requests_total[5m])) > 0",
                0,
                "warning",
                "Something called a backend without going through the gateway.",
                "{{ $labels.service }} refused {{ $value | humanize }} requests in 5m "
                "({{ $labels.reason }}).",
                {},
            ),
        ),
    )
    resilience = Group(
        "cnop-resilience.alerts",
        (
            Alert(
                "CircuitBreakerOpen",
                "max by (upstream) (gateway_circuit_breaker_state) == 1",
                60,
                "critical",
                "The gateway stopped calling an upstream.",
                "The breaker to {{ $labels.upstream }} is open: its routes answer 503.",
                {"service": "gateway"},
            ),
            Alert(
                "LimitsStoreUnavailable",
                "min by (instance) (gateway_limits_store_up) == 0",
                120,
                "warning",
                "A gateway replica cannot reach the shared limits store.",
                "The gateway at {{ $labels.instance }} counts rate limits, login guesses and "
                "revocations in its own memory only: each replica grants the full budgets.",
                {"service": "gateway"},
            ),
            Alert(
                "ScrapeTargetDown",
                "up == 0",
                120,
                "warning",
                "Prometheus cannot scrape a target.",
                "{{ $labels.job }} at {{ $labels.instance }} has not answered scrapes for 2m.",
                {},
            ),
            Alert(
                "ServiceHighErrorRatio",
                "service:http_errors:ratio_rate5m > 0.05",
                300,
                "warning",
                "A service answers many requests with 5xx.",
                "{{ $labels.service }} answered {{ $value | humanizePercentage }} of "
                "requests with 5xx over 5m.",
                {},
            ),
        ),
    )
    slo = Group(
        "cnop-slo.alerts",
        _burn_alerts("availability", slos.availability.error_budget)
        + _burn_alerts("latency", slos.latency.error_budget),
    )
    return [auth, security, resilience, slo]
