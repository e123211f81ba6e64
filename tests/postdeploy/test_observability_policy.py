"""Observability policy: every service is scraped, every rule is loaded and healthy, and after
ordinary traffic every dashboard panel's query returns data — 0 where there is nothing to show,
never "No data".

The traffic here is deliberately healthy (no failed login, no bad token): a
panel that only has data when something went wrong is the defect this catches.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cnop_catalogue import COMPONENTS
from tests.helpers import eventually
from tests.postdeploy.support import Target, get_json, new_member

pytestmark = [pytest.mark.e2e, pytest.mark.postdeploy]

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "dashboards" / "generated"
RULES = REPO / "alerts" / "generated"
# What Grafana's $__rate_interval comes to at the scrape intervals we run (4 × 15 s).
RATE_WINDOW = "1m"


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel, PromQL) of every target of every shipped dashboard."""
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found.append((board["uid"], panel["title"], target["expr"]))
    return found


def rule_groups() -> set[str]:
    """Names of every rule group we ship."""
    names = set()
    for path in RULES.glob("*-rules.yml"):
        names |= {group["name"] for group in yaml.safe_load(path.read_text())["groups"]}
    return names


def query(target: Target, expr: str) -> list[dict[str, Any]]:
    body = get_json(f"{target.prometheus}/api/v1/query", params={"query": expr})
    assert body["status"] == "success", f"{expr}: {body}"
    return list(body["data"]["result"])


@pytest.fixture(scope="module")
def prometheus(target: Target) -> Target:
    assert target.prometheus, "the target names no Prometheus to check"
    return target


@pytest.fixture(scope="module")
def healthy_traffic(prometheus: Target) -> None:
    """A customer's ordinary session: everything succeeds."""
    member = new_member(prometheus)
    api = prometheus.api
    with httpx.Client(timeout=30, trust_env=False, headers=member.auth) as http:
        assert http.post(f"{api}/balance/deposit", json={"amount": "200"}).status_code == 201
        for side, quantity in (("market_buy", "0.01"), ("market_sell", "0.005")):
            order = {"order_type": side, "asset_id": "ETH", "quantity": quantity}
            assert http.post(f"{api}/orders", json=order).status_code == 201
        for path in ("/portfolio", "/orders", "/balance/transactions", "/inventory/assets"):
            assert http.get(f"{api}{path}").status_code == 200
        assert http.post(f"{api}/auth/logout", json={}).status_code == 200


def test_every_service_is_scraped_and_up(prometheus):
    wanted = {component.name for component in COMPONENTS}

    def up() -> set[str]:
        results = query(prometheus, "up == 1")
        services = {r["metric"].get("service", "") for r in results}
        return services if wanted <= services else set()

    assert eventually(up, timeout=prometheus.wait_seconds), (
        f"not up: {wanted - {r['metric'].get('service') for r in query(prometheus, 'up == 1')}}"
    )


def test_every_rule_is_loaded_and_healthy(prometheus):
    expected = rule_groups()

    def loaded() -> list[dict[str, Any]]:
        groups = get_json(f"{prometheus.prometheus}/api/v1/rules")["data"]["groups"]
        ours = [g for g in groups if g["name"] in expected]
        rules = [rule for group in ours for rule in group["rules"]]
        evaluated = all(rule.get("lastEvaluation", "").startswith("2") for rule in rules)
        if {g["name"] for g in ours} != expected or not evaluated:
            return []
        return rules

    rules = eventually(loaded, timeout=prometheus.wait_seconds)
    assert rules, f"rule groups missing or never evaluated: {sorted(expected)}"
    unhealthy = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert unhealthy == []


@pytest.fixture(scope="module")
def panel_results(prometheus, healthy_traffic) -> dict[str, int]:
    """Series count of every panel query, once all have data or the wait is over."""
    queries = {expr.replace("$__rate_interval", RATE_WINDOW) for _, _, expr in panel_queries()}
    counts: dict[str, int] = {}
    deadline = time.monotonic() + prometheus.wait_seconds
    while True:
        for expr in queries:
            if not counts.get(expr):
                counts[expr] = len(query(prometheus, expr))
        if all(counts.values()) or time.monotonic() > deadline:
            return counts
        time.sleep(1)


@pytest.mark.parametrize(("dashboard", "panel", "expr"), panel_queries())
def test_every_panel_query_returns_data(panel_results, dashboard, panel, expr):
    runnable = expr.replace("$__rate_interval", RATE_WINDOW)
    assert panel_results[runnable] > 0, f"{dashboard} / {panel}: no data for {runnable}"
