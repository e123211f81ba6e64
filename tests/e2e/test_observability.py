"""Observability proven on a running platform: scrapes, rules, every dashboard query, alerts, logs.

A platform of its own with Prometheus and Alertmanager, on a fast profile
(scrapes and rule evaluation every second, `for:` durations 1/20th), so an
alert can fire within seconds.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import subprocess
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import yaml

from cnop_alerts.generate import render as render_rules
from cnop_alerts.model import CHECKOUT_RUNBOOKS
from cnop_dashboards.generate import GENERATED as DASHBOARDS
from cnop_platform.local.__main__ import print_status
from cnop_platform.local.logs import matching_lines
from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import start, stop, wait_ready
from tests.helpers import PASSWORD, eventually, gateway_user, login, running_platform

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RATE_WINDOW = "1m"  # what $__rate_interval means at a 1 s scrape interval


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel, PromQL) for every target of every generated dashboard."""
    queries = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel["targets"]:
                queries.append((board["uid"], panel["title"], target["expr"]))
    return queries


@pytest.fixture(scope="module")
def platform():
    with running_platform(
        REPO / "var" / "test" / "observability",
        PLATFORMS["observability"],
        env={"RATE_LIMIT_PER_MINUTE": "1000000", "LOGIN_MAX_FAILURES_PER_IP": "1000000"},
        monitoring=True,
        time_scale=0.05,
    ) as running:
        yield running


def prometheus_query(platform, expr: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{platform.url('prometheus')}/api/v1/query", params={"query": expr})
    body = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return list(body["data"]["result"])


@pytest.fixture(scope="module")
def traffic(platform):
    """Drive every kind of event the dashboards show."""
    gateway = platform.url("gateway")
    buyer = gateway_user(gateway, "obs", deposit="500")
    assert (
        buyer.post(
            "/orders", json={"order_type": "market_buy", "asset_id": "ETH", "quantity": "0.01"}
        ).status_code
        == 201
    )
    assert (
        buyer.post(
            "/orders", json={"order_type": "market_sell", "asset_id": "ETH", "quantity": "0.005"}
        ).status_code
        == 201
    )
    for path in ("/portfolio", "/orders", "/balance/transactions", "/inventory/assets"):
        assert buyer.get(path).status_code == 200
    assert (
        httpx.get(
            f"{gateway}/api/v1/balance", headers={"Authorization": "Bearer not.a.token"}
        ).status_code
        == 401
    )
    guessed = gateway_user(gateway, "guessed")
    for _ in range(5):
        assert login(gateway, guessed.username, "Wr0ng!password-1").status_code == 401
    assert login(gateway, guessed.username, PASSWORD).status_code == 429
    # A direct call that skips the gateway: refused and counted by the backend.
    assert httpx.get(f"{platform.url('user')}/balance").status_code == 403
    assert buyer.post("/auth/logout", json={}).status_code == 200
    # No wait here: every test below polls until the scrapes and rules have seen it.
    return buyer


def test_every_scrape_target_is_up(platform):
    def all_up():
        results = prometheus_query(platform, "up")
        return results if len(results) == 6 and all(r["value"][1] == "1" for r in results) else []

    results = eventually(all_up)
    assert {r["metric"]["service"] for r in results} == {
        "web",
        "gateway",
        "auth",
        "user",
        "inventory",
        "order",
    }


def test_every_rule_group_is_loaded_and_healthy(platform, traffic):
    expected = set()
    rule_count = 0
    for name, text in render_rules().items():
        if name.endswith("-rules.yml"):
            file_groups = yaml.safe_load(text)["groups"]
            expected |= {g["name"] for g in file_groups}
            rule_count += sum(len(g["rules"]) for g in file_groups)

    def healthy():
        groups = httpx.get(f"{platform.url('prometheus')}/api/v1/rules").json()["data"]["groups"]
        if {g["name"] for g in groups} != expected:
            return []
        rules = [rule for group in groups for rule in group["rules"]]
        return groups if all(rule["health"] == "ok" for rule in rules) else []

    groups = eventually(healthy)
    assert groups, "rule groups missing or unhealthy"
    # Every rule of the files, each loaded once (the files hold 26 today).
    assert rule_count >= 26
    assert sum(len(g["rules"]) for g in groups) == rule_count


@pytest.mark.parametrize(("dashboard", "panel", "expr"), panel_queries())
def test_every_panel_query_returns_data(platform, traffic, dashboard, panel, expr):
    runnable = expr.replace("$__rate_interval", RATE_WINDOW)
    results = eventually(lambda: prometheus_query(platform, runnable), timeout=20)
    assert results, f"{dashboard} / {panel}: no series for {runnable}"


def test_one_request_can_be_followed_across_services_by_trace_id(platform, traffic):
    gateway = platform.url("gateway")
    user = gateway_user(gateway, "follow")
    fresh = login(gateway, user.username).json()["access_token"]
    trace_id = secrets.token_hex(16)
    response = httpx.get(
        f"{gateway}/api/v1/balance",
        headers={
            "Authorization": f"Bearer {fresh}",
            "traceparent": f"00-{trace_id}-eee19b7ec3c1b174-01",
        },
    )
    assert response.status_code == 200

    def followed() -> list[dict[str, Any]]:
        # Each service logs the request just after answering it: allow a moment.
        records = matching_lines(platform.root / "log", trace_id)
        return records if {r["service"] for r in records} >= {"gateway", "auth", "user"} else []

    records = eventually(followed, timeout=5)
    assert records, "the request did not show up in gateway, auth and user logs"
    # One trace and one request id across the services, each service its own span.
    assert {r["trace_id"] for r in records} == {trace_id}
    assert len({r["request_id"] for r in records}) == 1
    spans = {r["service"]: r["span_id"] for r in records if r.get("event") == "request"}
    assert {"gateway", "auth", "user"} <= set(spans)
    assert len(set(spans.values())) == len(spans)


def test_stopping_auth_makes_the_auth_down_alert_reach_alertmanager(platform, traffic):
    alerts_api = f"{platform.url('alertmanager')}/api/v2/alerts"

    def auth_down_alerts():
        return [
            a for a in httpx.get(alerts_api).json() if a["labels"]["alertname"] == "AuthServiceDown"
        ]

    assert auth_down_alerts() == []
    stop(platform, "auth")
    try:
        alerts = eventually(auth_down_alerts, timeout=60)
        assert alerts, "AuthServiceDown never reached Alertmanager"
        alert = alerts[0]
        assert alert["labels"]["severity"] == "critical"
        assert alert["labels"]["service"] == "auth"
        # Absolute: a person reading the notification on this machine can open it.
        runbook = alert["annotations"]["runbook_url"]
        assert runbook == f"{CHECKOUT_RUNBOOKS}AuthServiceDown.md"
        assert Path(urlparse(runbook).path).is_file()
    finally:
        start(platform, "auth")
        wait_ready(platform, "auth")


# A URL as the README and `make up` write it (up to a space, quote, backtick or bracket).
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:(\d+)([^\s`'\")*|,]*)")


def printed_urls(platform) -> set[str]:
    """Every URL `make up` prints (its status lines), the README and the dashboards'
    catalogue name, moved to this platform's ports (theirs are `make up`'s, offset 0)."""
    status = io.StringIO()
    with redirect_stdout(status):
        print_status(platform)
    readme = (REPO / "README.md").read_text()
    # The dashboards' catalogue links each query to `make up`'s Prometheus too.
    catalogue = (REPO / "docs" / "dashboards.md").read_text()
    urls = set()
    for text, shift in (
        (status.getvalue(), 0),
        (readme, platform.port_offset),
        (catalogue, platform.port_offset),
    ):
        for port, path in LOCAL_URL.findall(text):
            urls.add(f"http://127.0.0.1:{int(port) + shift}{path.rstrip('.:;')}")
    return urls


def test_every_url_the_readme_and_make_up_print_opens(platform):
    urls = printed_urls(platform)
    # The pages a newcomer opens first are among them.
    for page in ("/classic/graph", "/classic/alerts", "/api/v2/alerts"):
        assert any(url.endswith(page) for url in urls), page
    refused = []
    for url in sorted(urls):
        if url == platform.url("store"):
            # The store's endpoint is for DynamoDB clients: it answers, not a page.
            ok = httpx.get(url, trust_env=False).status_code < 500
        elif url.endswith("/api/v1"):
            # The API's base, for the README's curl lines: its first public answer.
            ok = httpx.get(f"{url}/inventory/assets", trust_env=False).status_code == 200
        else:
            ok = httpx.get(url, trust_env=False, follow_redirects=True).status_code == 200
        if not ok:
            refused.append(url)
    assert refused == []


def test_the_amtool_commands_the_readme_and_make_up_print_work(platform):
    alertmanager = platform.url("alertmanager")
    amtool = shutil.which("amtool")  # Debian's prometheus-alertmanager package has it
    assert amtool is not None
    for what in ("alert", "silence"):
        done = subprocess.run(
            [amtool, f"--alertmanager.url={alertmanager}", what, "query"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
