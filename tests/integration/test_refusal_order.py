"""What the user has is checked before what the rules allow (issue 24, item 3).

Withdrawing 99,999 from a $663.75 balance used to answer DAILY_LIMIT_EXCEEDED,
and selling 5 BTC while holding 0.005 that the order's value was above the cap:
true, but not the first thing the user needs to hear. Each case below has both
reasons true, or only the rule's, and checks which one is answered.
"""

from __future__ import annotations

import pytest

from cnop_platform.local.ports import extra
from tests.helpers import ServiceClient, extra_process, register, signer_of

pytestmark = pytest.mark.integration

SMALL_CAP_PORT = extra("refusals: order service with a small value cap")


def code(response) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["code"])


def test_a_withdrawal_above_the_balance_and_the_daily_limit_is_insufficient(local_platform):
    user = register(local_platform, "refusewd", deposit="663.75")
    assert code(user.user.post("/balance/withdraw", json={"amount": "99999"})) == (
        "INSUFFICIENT_BALANCE"
    )
    # With the money there, the rule is the reason.
    assert user.user.post("/balance/deposit", json={"amount": "8000"}).status_code == 201
    assert code(user.user.post("/balance/withdraw", json={"amount": "5000.01"})) == (
        "DAILY_LIMIT_EXCEEDED"
    )
    assert user.user.get("/balance").json()["current_balance"] == "8663.75"
    user.close()


def test_an_order_above_the_cap_that_the_user_cannot_cover_is_insufficient(local_platform):
    user = register(local_platform, "refuseord", deposit="1000.00")
    price = user.inventory.get("/inventory/assets/BTC").json()["data"]["price_usd"]
    assert float(price) > 10_000  # one BTC is above the $10,000 cap
    buy = {"order_type": "market_buy", "asset_id": "BTC", "quantity": "1"}
    assert code(user.order.post("/orders", json=buy)) == "INSUFFICIENT_BALANCE"
    sell = {"order_type": "market_sell", "asset_id": "BTC", "quantity": "5"}
    assert code(user.order.post("/orders", json=sell)) == "INSUFFICIENT_ASSET_BALANCE"
    small = {"order_type": "market_buy", "asset_id": "BTC", "quantity": "0.005"}
    assert user.order.post("/orders", json=small).status_code == 201
    assert code(user.order.post("/orders", json=sell)) == "INSUFFICIENT_ASSET_BALANCE"
    user.close()


def test_an_order_above_the_cap_that_the_user_can_cover_is_refused_by_the_cap(local_platform):
    # An order service whose cap is $100: the user has $1,000, so a $500 order is
    # within their means and refused by the rule alone.
    user = register(local_platform, "refusecap", deposit="1000.00")
    with extra_process(local_platform, "order", SMALL_CAP_PORT, ORDER_VALUE_CAP="100") as url:
        order = ServiceClient(
            url, user.username, signer=signer_of(local_platform, "gateway"), audience="order"
        )
        price = float(user.inventory.get("/inventory/assets/SOL").json()["data"]["price_usd"])
        within_means = f"{500 / price:.4f}"
        beyond_means = f"{5000 / price:.4f}"
        buy = {"order_type": "market_buy", "asset_id": "SOL"}
        assert code(order.post("/orders", json={**buy, "quantity": within_means})) == (
            "ORDER_VALUE_EXCEEDED"
        )
        assert code(order.post("/orders", json={**buy, "quantity": beyond_means})) == (
            "INSUFFICIENT_BALANCE"
        )
        order.close()
    assert user.user.get("/balance").json()["current_balance"] == "1000.00"
    user.close()
