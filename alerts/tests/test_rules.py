"""promtool on the generated rules: syntax, and for every alert a firing and a quiet case."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cnop_alerts.generate import GENERATED, render
from cnop_alerts.model import RUNBOOK_BASE_LABEL, RUNBOOK_PATH, Alert
from cnop_alerts.rules import alert_groups
from cnop_policies import slo

pytestmark = pytest.mark.unit

RULE_FILES = ["recording-rules.yml", "alert-rules.yml"]
PROMTOOL = shutil.which("promtool")


# What promtool's tests set as the external label: the annotation must expand to it.
RUNBOOK_BASE = "https://runbooks.example.test/docs/runbooks/"


def runbook(name: str) -> str:
    return f"{RUNBOOK_BASE}{name}.md"


def case(
    alert: str, series: dict[str, str], at: str, fires: list[dict[str, Any]]
) -> dict[str, Any]:
    """One promtool test: input series, and what `alert` shows at time `at`."""
    return {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series.items()],
        "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": fires}],
    }


def fired(labels: dict[str, str], summary: str, description: str, alert: str) -> dict[str, Any]:
    return {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": runbook(alert),
        },
    }


AUTH_UP = 'up{job="auth", service="auth", instance="127.0.0.1:8003"}'
PUBLIC_OK = (
    'http_requests_total{service="gateway", route="/api/v1/orders", method="POST", status="200"}'
)
PUBLIC_5XX = (
    'http_requests_total{service="gateway", route="/api/v1/orders", method="POST", status="500"}'
)
BUCKET = (
    'http_request_duration_seconds_bucket{service="gateway", route="/api/v1/orders", '
    'method="POST", le="0.5"}'
)
COUNT = (
    'http_request_duration_seconds_count{service="gateway", route="/api/v1/orders", method="POST"}'
)

UNTRUSTED = 'untrusted_requests_total{service="user", reason="untrusted_network"}'
ORDER_5XX = 'http_requests_total{service="order", route="/orders", method="POST", status="500"}'
ORDER_OK = 'http_requests_total{service="order", route="/orders", method="POST", status="201"}'

CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "AuthServiceDown": (
        case(
            "AuthServiceDown",
            {AUTH_UP: "0x10"},
            "5m",
            [
                fired(
                    {
                        "severity": "critical",
                        "service": "auth",
                        "job": "auth",
                        "instance": "127.0.0.1:8003",
                    },
                    "The auth service is down: protected routes answer 503.",
                    "Prometheus cannot scrape auth (127.0.0.1:8003); logins and every protected "
                    "route fail closed.",
                    "AuthServiceDown",
                )
            ],
        ),
        case("AuthServiceDown", {AUTH_UP: "1x10"}, "5m", []),
    ),
    "AuthValidationFailureRatioHigh": (
        case(
            "AuthValidationFailureRatioHigh",
            {
                'auth_validations_total{outcome="rejected", reason="token_invalid"}': "0+60x20",
                'auth_validations_total{outcome="valid", reason="ok"}': "0+60x20",
            },
            "16m",
            [
                fired(
                    {"severity": "warning", "service": "auth"},
                    "Many presented tokens are rejected.",
                    "50% of token validations failed over 5m.",
                    "AuthValidationFailureRatioHigh",
                )
            ],
        ),
        case(
            "AuthValidationFailureRatioHigh",
            {
                'auth_validations_total{outcome="rejected", reason="token_invalid"}': "0+1x20",
                'auth_validations_total{outcome="valid", reason="ok"}': "0+60x20",
            },
            "16m",
            [],
        ),
    ),
    "AuthValidationLatencyHigh": (
        case(
            "AuthValidationLatencyHigh",
            {
                'auth_validation_duration_seconds_bucket{le="0.25"}': "0x20",
                'auth_validation_duration_seconds_bucket{le="0.5"}': "0+10x20",
                'auth_validation_duration_seconds_bucket{le="+Inf"}': "0+10x20",
            },
            "16m",
            [
                fired(
                    {"severity": "warning", "service": "auth"},
                    "Token validation is slow.",
                    "p99 token validation takes 497.5ms (limit 250ms).",
                    "AuthValidationLatencyHigh",
                )
            ],
        ),
        case(
            "AuthValidationLatencyHigh",
            {
                'auth_validation_duration_seconds_bucket{le="0.005"}': "0+10x20",
                'auth_validation_duration_seconds_bucket{le="+Inf"}': "0+10x20",
            },
            "16m",
            [],
        ),
    ),
    "SuspiciousLoginActivity": (
        case(
            "SuspiciousLoginActivity",
            {"gateway_login_failures_total": "0+20x10"},
            "6m",
            [
                fired(
                    {"severity": "warning", "service": "gateway"},
                    "Failed logins or login blocks point to password guessing.",
                    "20 failed logins per minute, or logins being blocked.",
                    "SuspiciousLoginActivity",
                )
            ],
        ),
        case(
            "SuspiciousLoginActivity",
            {"gateway_login_failures_total": "0+2x10", "gateway_login_blocks_total": "0x10"},
            "6m",
            [],
        ),
    ),
    "RateLimitHitsSpiking": (
        case(
            "RateLimitHitsSpiking",
            {"gateway_rate_limited_total": "0+120x20"},
            "12m",
            [
                fired(
                    {"severity": "warning", "service": "gateway"},
                    "Clients are being rate limited in bulk.",
                    "120 requests per minute refused by the rate limit.",
                    "RateLimitHitsSpiking",
                )
            ],
        ),
        case("RateLimitHitsSpiking", {"gateway_rate_limited_total": "0+10x20"}, "12m", []),
    ),
    "UntrustedRequestsReachingBackend": (
        case(
            "UntrustedRequestsReachingBackend",
            {UNTRUSTED: "0 0 0 0 0 4 8 12 16 20"},
            "9m",
            [
                fired(
                    {"severity": "warning", "service": "user", "reason": "untrusted_network"},
                    "Something called a backend without going through the gateway.",
                    "user refused 20 requests in 5m (untrusted_network).",
                    "UntrustedRequestsReachingBackend",
                )
            ],
        ),
        case(
            "UntrustedRequestsReachingBackend",
            {'untrusted_requests_total{service="user", reason="untrusted_network"}': "0x10"},
            "9m",
            [],
        ),
    ),
    "CircuitBreakerOpen": (
        case(
            "CircuitBreakerOpen",
            {'gateway_circuit_breaker_state{upstream="order"}': "1x10"},
            "5m",
            [
                fired(
                    {"severity": "critical", "service": "gateway", "upstream": "order"},
                    "The gateway stopped calling an upstream.",
                    "The breaker to order is open: its routes answer 503.",
                    "CircuitBreakerOpen",
                )
            ],
        ),
        case(
            "CircuitBreakerOpen",
            {'gateway_circuit_breaker_state{upstream="order"}': "0 2 0 2 0"},
            "5m",
            [],
        ),
    ),
    "LimitsStoreUnavailable": (
        case(
            "LimitsStoreUnavailable",
            {'gateway_limits_store_up{instance="127.0.0.1:9080"}': "1 1 0x10"},
            "6m",
            [
                fired(
                    {"severity": "warning", "service": "gateway", "instance": "127.0.0.1:9080"},
                    "A gateway replica cannot reach the shared limits store.",
                    "The gateway at 127.0.0.1:9080 counts rate limits, login guesses and "
                    "revocations in its own memory only: each replica grants the full budgets.",
                    "LimitsStoreUnavailable",
                )
            ],
        ),
        case(
            "LimitsStoreUnavailable",
            {'gateway_limits_store_up{instance="127.0.0.1:9080"}': "1 0 1 0 1 1 1"},
            "6m",
            [],
        ),
    ),
    "ScrapeTargetDown": (
        case(
            "ScrapeTargetDown",
            {'up{job="order", service="order", instance="127.0.0.1:8002"}': "0x10"},
            "5m",
            [
                fired(
                    {
                        "severity": "warning",
                        "job": "order",
                        "service": "order",
                        "instance": "127.0.0.1:8002",
                    },
                    "Prometheus cannot scrape a target.",
                    "order at 127.0.0.1:8002 has not answered scrapes for 2m.",
                    "ScrapeTargetDown",
                )
            ],
        ),
        case(
            "ScrapeTargetDown", {'up{job="order", service="order", instance="x"}': "1x10"}, "5m", []
        ),
    ),
    "ServiceHighErrorRatio": (
        case(
            "ServiceHighErrorRatio",
            {
                ORDER_5XX: "0+30x20",
                ORDER_OK: "0+30x20",
            },
            "12m",
            [
                fired(
                    {"severity": "warning", "service": "order"},
                    "A service answers many requests with 5xx.",
                    "order answered 50% of requests with 5xx over 5m.",
                    "ServiceHighErrorRatio",
                )
            ],
        ),
        case(
            "ServiceHighErrorRatio",
            {
                ORDER_5XX: "0+1x20",
                ORDER_OK: "0+99x20",
            },
            "12m",
            [],
        ),
    ),
}


def burn_cases(
    kind: str,
    label: str,
    *,
    series_bad: dict[str, str],
    series_ok: dict[str, str],
    ratio: str,
    long: str,
    short: str,
    factor: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"Gateway{kind.capitalize()}BudgetBurn{label}"
    severity = "critical" if label == "Page" else "warning"
    return (
        case(
            name,
            series_bad,
            "100m",
            [
                fired(
                    {"severity": severity, "service": "gateway", "slo": kind},
                    f"The gateway is spending its {kind} error budget {factor}x too fast.",
                    f"{kind.capitalize()} errors are {ratio} of requests over {long} and {short}; "
                    f"at {factor}x the budget of the SLO is gone early.",
                    name,
                )
            ],
        ),
        case(name, series_ok, "100m", []),
    )


AVAILABILITY_BAD = {PUBLIC_5XX: "0+10x120", PUBLIC_OK: "0+90x120"}
AVAILABILITY_OK = {PUBLIC_5XX: "0+1x120", PUBLIC_OK: "0+199x120"}
LATENCY_BAD = {BUCKET: "0+80x120", COUNT: "0+100x120"}
LATENCY_OK = {BUCKET: "0+999x120", COUNT: "0+1000x120"}
for _label, _long, _short, _factor in (("Page", "1h", "5m", "14.4"), ("Ticket", "6h", "30m", "6")):
    _windows = {"long": _long, "short": _short, "factor": _factor}
    CASES[f"GatewayAvailabilityBudgetBurn{_label}"] = burn_cases(
        "availability",
        _label,
        series_bad=AVAILABILITY_BAD,
        series_ok=AVAILABILITY_OK,
        ratio="10%",
        **_windows,
    )
    CASES[f"GatewayLatencyBudgetBurn{_label}"] = burn_cases(
        "latency", _label, series_bad=LATENCY_BAD, series_ok=LATENCY_OK, ratio="20%", **_windows
    )


def all_alert_names() -> set[str]:
    return {
        rule.name
        for group in alert_groups(slo.load())
        for rule in group.rules
        if isinstance(rule, Alert)
    }


def test_every_alert_has_a_firing_and_a_quiet_case():
    assert set(CASES) == all_alert_names()
    for firing, quiet in CASES.values():
        assert firing["alert_rule_test"][0]["exp_alerts"]
        assert quiet["alert_rule_test"][0]["exp_alerts"] == []


def test_generated_files_match_the_code():
    for name, text in render().items():
        assert (GENERATED / name).read_text(encoding="utf-8") == text, (
            f"alerts/generated/{name} is stale: run `make generate`"
        )


@pytest.fixture(scope="module")
def promtool() -> str:
    assert PROMTOOL is not None, "promtool is not installed (Debian package prometheus)"
    return PROMTOOL


@pytest.mark.tools
def test_promtool_check_rules(promtool):
    result = subprocess.run(
        [promtool, "check", "rules", *(str(GENERATED / f) for f in RULE_FILES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tools
def test_promtool_unit_tests(promtool, tmp_path: Path):
    tests = {
        "rule_files": [str(GENERATED / f) for f in RULE_FILES],
        "evaluation_interval": "1m",
        "tests": [
            {**test, "external_labels": {RUNBOOK_BASE_LABEL: RUNBOOK_BASE}}
            for pair in CASES.values()
            for test in pair
        ],
    }
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_follows_the_mixin_rules():
    for group in alert_groups(slo.load()):
        for alert in group.rules:
            assert isinstance(alert, Alert)
            rule = alert.render()
            assert alert.name[0].isupper()
            assert "_" not in alert.name
            assert rule["labels"]["severity"] in ("critical", "warning", "info")
            assert rule["annotations"]["summary"].endswith(".")
            assert "{{" in rule["annotations"]["description"]
            page = Path(__file__).resolve().parents[2] / RUNBOOK_PATH / f"{alert.name}.md"
            assert page.is_file(), f"missing runbook {page}"
            assert rule["annotations"]["runbook_url"] == (
                f"{{{{ $externalLabels.{RUNBOOK_BASE_LABEL} }}}}{alert.name}.md"
            )


@pytest.mark.tools
def test_alertmanager_config_is_valid():
    amtool = shutil.which("amtool")
    assert amtool is not None, "amtool is not installed (Debian package prometheus-alertmanager)"
    result = subprocess.run(
        [amtool, "check-config", str(GENERATED / "alertmanager.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
