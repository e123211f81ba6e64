"""The business flow of the issue: register → deposit → buy → portfolio → sell → transactions."""

from decimal import Decimal

import pytest

from tests.helpers import Clients, registration, unique_username, wait_for_log_lines

pytestmark = pytest.mark.integration


def test_register_deposit_buy_portfolio_sell_transactions(local_platform, anonymous: Clients):
    username = unique_username("flow")
    assert anonymous.user.post("/auth/register", json=registration(username)).status_code == 201
    me = Clients(local_platform, username)
    try:
        assert me.user.post("/balance/deposit", json={"amount": "5000"}).status_code == 201
        btc_price = Decimal(me.inventory.get("/inventory/assets/BTC").json()["data"]["price_usd"])
        bought = me.order.post(
            "/orders", json={"order_type": "market_buy", "asset_id": "BTC", "quantity": "0.05"}
        )
        assert bought.status_code == 201, bought.text
        cost = Decimal(bought.json()["data"]["total_amount"])
        assert cost == (Decimal("0.05") * btc_price).quantize(Decimal("0.01"))

        portfolio = me.user.get("/portfolio").json()
        assert Decimal(portfolio["cash_balance"]) == Decimal(5000) - cost
        (btc,) = portfolio["assets"]
        assert btc["asset_id"] == "BTC"
        assert btc["asset_name"] == "Bitcoin"
        assert btc["quantity"] == "0.05000000"
        assert Decimal(btc["market_value"]) == cost
        assert Decimal(portfolio["total_value"]) == Decimal("5000.00")
        assert btc["percentage"] == str((cost / Decimal(5000) * 100).quantize(Decimal("0.01")))

        holding = me.user.get("/balance/asset/btc").json()
        assert holding["quantity"] == "0.05000000"
        assert Decimal(holding["total_value"]) == cost

        sold = me.order.post(
            "/orders", json={"order_type": "market_sell", "asset_id": "BTC", "quantity": "0.02"}
        )
        assert sold.status_code == 201, sold.text
        proceeds = Decimal(sold.json()["data"]["total_amount"])

        history = me.user.get("/balance/transactions").json()
        assert [t["transaction_type"] for t in history["transactions"]] == [
            "order_sale",
            "order_payment",
            "deposit",
        ]
        assert history["transactions"][0]["reference_id"] == sold.json()["data"]["order_id"]
        assert history["transactions"][1]["reference_id"] == bought.json()["data"]["order_id"]
        expected_cash = Decimal(5000) - cost + proceeds
        assert Decimal(me.user.get("/balance").json()["current_balance"]) == expected_cash
        assert me.user.get("/balance/asset/BTC").json()["quantity"] == "0.03000000"
    finally:
        me.close()


def test_trace_context_and_request_id_reach_inventory(local_platform, funded: Clients):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = funded.order.post(
        "/orders",
        json={"order_type": "market_buy", "asset_id": "USDT", "quantity": "1"},
        headers={
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
            "X-Request-ID": "flow-trace-1",
        },
    )
    assert response.status_code == 201
    assert response.headers["traceparent"].startswith(f"00-{trace_id}-")
    lines = wait_for_log_lines(local_platform.log_file("inventory"), "flow-trace-1")
    assert lines, "the order service's call to inventory carried no request id"
    assert all(trace_id in line for line in lines)
