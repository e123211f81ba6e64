"""Money and quantities through the real gateway: one grammar, 422 for the rest (issue 12 #2, #6).

Before: "1E+2" answered 409, "1e-999999999" 500 (and the next POST on that
pooled connection a false 503), "١٠" and "1_0" were taken as 10.00, and a
deeply nested login body was a 500 from the gateway and the user service.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from cnop_platform.testing import gateway_user

pytestmark = pytest.mark.integration

BAD_AMOUNTS = ["1E+2", "1e-999999999", "١٠", "1_0", " 10", "10.", ".5", "+10", "1" * 16]


@pytest.fixture(scope="module")
def trader(gateway_url):
    user = gateway_user(gateway_url, "money", deposit="100.00")
    yield user
    user.close()


def cash(user) -> Decimal:
    return Decimal(user.get("/balance").json()["current_balance"])


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_bad_amount_string_is_a_validation_error_and_moves_nothing(trader, amount):
    before = cash(trader)
    for route in ("/balance/deposit", "/balance/withdraw"):
        answer = trader.post(route, json={"amount": amount})
        assert answer.status_code == 422, (route, answer.text)
        assert answer.json()["code"] == "VALIDATION_ERROR"
        assert "plain decimal" in str(answer.json()["detail"])
    assert cash(trader) == before


@pytest.mark.parametrize(
    "raw", [b'{"amount": 1e2}', b'{"amount": 1E-999999999}', b'{"amount": 1' + b"0" * 5000 + b"}"]
)
def test_a_json_number_outside_the_grammar_is_refused_too(trader, raw):
    answer = trader.post(
        "/balance/deposit", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "VALIDATION_ERROR"


def test_plain_strings_and_numbers_are_taken_exactly(trader):
    before = cash(trader)
    assert trader.post("/balance/deposit", json={"amount": "10.25"}).status_code == 201
    raw = b'{"amount": 0.1}'
    assert trader.post("/balance/deposit", content=raw,
                       headers={"Content-Type": "application/json"}).status_code == 201  # fmt: skip
    assert cash(trader) == before + Decimal("10.35")


@pytest.mark.parametrize("quantity", ["1E-3", "0.1e1", "١", "0_5"])
def test_a_bad_quantity_is_refused_before_any_trade(trader, quantity):
    answer = trader.post(
        "/orders", json={"order_type": "market_buy", "asset_id": "BTC", "quantity": quantity}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "VALIDATION_ERROR"


def test_a_backend_refusal_does_not_poison_the_next_request_on_the_connection(trader):
    # One pooled connection (the user's client) carries both requests.
    assert trader.post("/balance/deposit", json={"amount": "1e-999999999"}).status_code == 422
    assert trader.post("/balance/deposit", json={"amount": "1.00"}).status_code == 201


def test_a_deeply_nested_login_body_is_refused_not_a_crash(gateway_url):
    body = b'{"username": ' + b"[" * 50_000 + b"]" * 50_000 + b', "password": "x"}'
    answer = httpx.post(f"{gateway_url}/api/v1/auth/login", content=body, timeout=30,
                        headers={"Content-Type": "application/json"}, trust_env=False)  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "VALIDATION_ERROR"
