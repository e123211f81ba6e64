"""The whole public API through the gateway, as a client of api.md would use it."""

import secrets
from decimal import Decimal

import httpx
import pytest

from tests.helpers import (
    PASSWORD,
    assert_never_reached,
    login,
    registration,
    unique_username,
    wait_for_log_lines,
)

pytestmark = pytest.mark.integration


def test_register_login_trade_logout_through_the_gateway(gateway_url):
    api = httpx.Client(base_url=f"{gateway_url}/api/v1", timeout=30)
    username = unique_username("Public")
    created = api.post("/auth/register", json=registration(username))
    assert created.status_code == 201
    assert created.json() == {"message": "User registered successfully"}

    token = login(gateway_url, username, PASSWORD).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    profile = api.get("/auth/profile", headers=auth)
    assert profile.status_code == 200
    assert profile.json()["username"] == username.lower()

    deposit = api.post(
        "/balance/deposit",
        json={"amount": "500.00"},
        headers={**auth, "Idempotency-Key": "first-deposit"},
    )
    assert deposit.status_code == 201
    repeat = api.post(
        "/balance/deposit",
        json={"amount": "500.00"},
        headers={**auth, "Idempotency-Key": "first-deposit"},
    )
    assert repeat.json() == deposit.json()

    bought = api.post(
        "/orders",
        json={"order_type": "market_buy", "asset_id": "ETH", "quantity": "0.05"},
        headers=auth,
    )
    assert bought.status_code == 201, bought.text
    cost = Decimal(bought.json()["data"]["total_amount"])

    portfolio = api.get("/portfolio", headers=auth).json()
    assert Decimal(portfolio["cash_balance"]) == Decimal(500) - cost
    assert [a["asset_id"] for a in portfolio["assets"]] == ["ETH"]

    sold = api.post(
        "/orders",
        json={"order_type": "market_sell", "asset_id": "ETH", "quantity": "0.05"},
        headers=auth,
    )
    assert sold.status_code == 201
    history = api.get("/balance/transactions", headers=auth).json()
    assert [t["transaction_type"] for t in history["transactions"]] == [
        "order_sale",
        "order_payment",
        "deposit",
    ]
    order_id = bought.json()["data"]["order_id"]
    assert api.get(f"/orders/{order_id}", headers=auth).json()["data"]["order_id"] == order_id
    assert len(api.get("/assets/ETH/transactions", headers=auth).json()["data"]) == 2
    assert api.get("/inventory/assets").json()["total_count"] >= 20

    assert api.post("/auth/logout", json={}, headers=auth).status_code == 200
    refused = api.get("/balance", headers=auth)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["code"] == "TOKEN_REVOKED"
    api.close()


def test_gateway_health_ready_and_no_public_metrics(gateway_url):
    assert httpx.get(f"{gateway_url}/health").json() == {"status": "healthy", "service": "gateway"}
    ready = httpx.get(f"{gateway_url}/ready")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"auth", "user", "inventory", "order"}
    assert httpx.get(f"{gateway_url}/metrics").status_code == 404


def test_trace_context_reaches_auth_and_backend(local_platform, gateway_url):
    username = unique_username("trace")
    httpx.post(f"{gateway_url}/api/v1/auth/register", json=registration(username))
    first = {"Authorization": f"Bearer {login(gateway_url, username).json()['access_token']}"}
    # A holding, so that the portfolio asks inventory for prices.
    httpx.post(f"{gateway_url}/api/v1/balance/deposit", json={"amount": "10"}, headers=first)
    order = {"order_type": "market_buy", "asset_id": "USDT", "quantity": "1"}
    bought = httpx.post(f"{gateway_url}/api/v1/orders", headers=first, json=order)
    assert bought.status_code == 201
    # A fresh token: its validation cannot be cached, so auth is one of the hops.
    token = login(gateway_url, username).json()["access_token"]
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    response = httpx.get(
        f"{gateway_url}/api/v1/portfolio",
        headers={
            "Authorization": f"Bearer {token}",
            "X-Request-ID": "trace-hops-1",
            "traceparent": f"00-{trace_id}-b7ad6b7169203331-01",
        },
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-hops-1"
    assert response.headers["traceparent"].startswith(f"00-{trace_id}-")
    for service in ("gateway", "auth", "user", "inventory"):
        lines = wait_for_log_lines(local_platform.log_file(service), "trace-hops-1")
        assert lines, f"{service} logged nothing for the request"
        assert all(trace_id in line for line in lines), service


def test_the_never_reached_check_can_fail(local_platform, gateway_url):
    # Guards the helper every "the backend sees nothing" case relies on.
    request_id = f"reached-{secrets.token_hex(6)}"
    assert (
        httpx.get(
            f"{gateway_url}/api/v1/inventory/assets?limit=1", headers={"X-Request-ID": request_id}
        ).status_code
        == 200
    )
    with pytest.raises(AssertionError):
        assert_never_reached(local_platform, "inventory", request_id)
