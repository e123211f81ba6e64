"""Store calls per request stay within their budgets (issue 13: store calls per request).

Counted by the services themselves (`store_calls_total{service,route,operation}`
on their admin ports), read before and after one request on a quiet account:
- a market order is one TransactWriteItems plus at most two reads;
- the portfolio reads in batches: the same calls for one asset held or three.
"""

from __future__ import annotations

import re
from collections import Counter

import httpx
import pytest

from cnop_platform.local.ports import extra
from tests.helpers import extra_process, gateway_user, register

pytestmark = pytest.mark.integration

READS = {"GetItem", "BatchGetItem", "Query", "Scan"}


def calls(platform, service: str, route: str) -> Counter[str]:
    """This service's store calls made by `route`, by operation, so far."""
    text = httpx.get(f"{platform.admin_url(service)}/metrics", trust_env=False).text
    found: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.startswith("store_calls_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if labels.get("service") == service and labels.get("route") == route:
            found[labels["operation"]] += int(float(line.rsplit(" ", 1)[1]))
    return found


def spent(platform, service: str, route: str, action) -> Counter[str]:
    before = calls(platform, service, route)
    action()
    after = calls(platform, service, route)
    return Counter({op: after[op] - before[op] for op in after if after[op] != before[op]})


def test_a_market_order_is_one_transaction_and_at_most_two_reads(local_platform):
    trader = register(local_platform, "budget", deposit="1000.00")
    body = {"order_type": "market_buy", "asset_id": "BTC", "quantity": "0.001"}
    used = spent(
        local_platform,
        "order",
        "/orders",
        lambda: trader.order.post("/orders", json=body).raise_for_status(),
    )
    assert used["TransactWriteItems"] == 1
    assert sum(used[op] for op in READS) <= 2, used
    assert set(used) <= READS | {"TransactWriteItems"}, used
    trader.close()


def test_the_portfolio_costs_the_same_for_one_asset_held_or_three(local_platform):
    trader = register(local_platform, "budgetpf", deposit="1000.00")
    buy = {"order_type": "market_buy", "quantity": "0.01"}

    def portfolio() -> None:
        trader.user.get("/portfolio").raise_for_status()

    trader.order.post("/orders", json={**buy, "asset_id": "ETH"}).raise_for_status()
    one = spent(local_platform, "user", "/portfolio", portfolio)
    for asset in ("SOL", "BNB"):
        trader.order.post("/orders", json={**buy, "asset_id": asset}).raise_for_status()
    three = spent(local_platform, "user", "/portfolio", portfolio)
    assert one, "no store call was counted for /portfolio"  # else the budget proves nothing
    assert three == one  # no call per asset
    assert sum(one.values()) <= 2, one
    trader.close()


def _validations(platform) -> float:
    text = httpx.get(f"{platform.admin_url('auth')}/metrics", trust_env=False).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("auth_validations_total{")
    )


def test_a_cached_validation_costs_auth_nothing(local_platform, gateway_url):
    # A gateway whose cache outlives the test: no timing decides the outcome.
    with extra_process(
        local_platform,
        "gateway",
        extra("store budgets: gateway with a long cache"),
        AUTH_CACHE_SECONDS="60",
    ) as gateway:
        member = gateway_user(gateway_url, "budgetauth")
        headers = {"Authorization": f"Bearer {member.token}"}
        balance = f"{gateway}/api/v1/balance"
        # One kept-alive connection: one worker process, whose cache this is (each
        # of a gateway's workers validates a token once per bound).
        with httpx.Client(trust_env=False) as client:
            first = _validations(local_platform)
            assert client.get(balance, headers=headers).status_code == 200
            before = _validations(local_platform)  # validated once, now cached
            assert before > first  # the count sees a validation, so its silence means one
            for _ in range(5):
                assert client.get(balance, headers=headers).status_code == 200
        assert _validations(local_platform) == before
        member.close()
