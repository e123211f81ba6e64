"""The invariant checker accepts a consistent account and names every kind of loss."""

import copy
from typing import Any

import pytest

from cnop_loadtests.invariants import check_account

pytestmark = pytest.mark.unit

PORTFOLIO: dict[str, Any] = {
    "cash_balance": "940.00",
    "assets": [{"asset_id": "BTC", "quantity": "0.00100000"}],
}
LEDGER = [
    {"transaction_type": "deposit", "amount": "1000.00"},
    {"transaction_type": "withdraw", "amount": "-50.00"},
    {"transaction_type": "order_payment", "amount": "-67.25"},
    {"transaction_type": "order_payment", "amount": "-40.00"},
    {"transaction_type": "order_sale", "amount": "97.25"},
]
ORDERS = [
    {
        "order_type": "market_buy",
        "asset_id": "BTC",
        "quantity": "0.002",
        "total_amount": "67.25",
        "status": "completed",
    },
    {
        "order_type": "market_buy",
        "asset_id": "ETH",
        "quantity": "0.010",
        "total_amount": "40.00",
        "status": "completed",
    },
    {
        "order_type": "market_sell",
        "asset_id": "BTC",
        "quantity": "0.001",
        "total_amount": "57.25",
        "status": "completed",
    },
    {
        "order_type": "market_sell",
        "asset_id": "ETH",
        "quantity": "0.010",
        "total_amount": "40.00",
        "status": "completed",
    },
]


def test_a_consistent_account_has_no_violation():
    assert check_account("alice", PORTFOLIO, LEDGER, ORDERS) == []


def test_negative_cash_is_a_violation():
    portfolio = {**PORTFOLIO, "cash_balance": "-0.01"}
    problems = [v.problem for v in check_account("bob", portfolio, LEDGER, ORDERS)]
    assert any("negative cash" in p for p in problems)


def test_cash_that_does_not_add_up_is_a_violation_naming_the_account():
    portfolio = {**PORTFOLIO, "cash_balance": "940.01"}  # a cent created from nothing
    (violation, *_) = check_account("carol", portfolio, LEDGER, ORDERS)
    assert violation.username == "carol"
    assert "cash 940.01 != deposits 1000.00" in str(violation)


def test_a_holding_that_does_not_match_the_orders_is_a_violation():
    portfolio = copy.deepcopy(PORTFOLIO)
    portfolio["assets"][0]["quantity"] = "0.00200000"  # the sell never took the asset
    problems = [v.problem for v in check_account("dave", portfolio, LEDGER, ORDERS)]
    assert any(p.startswith("holdings") for p in problems)


def test_a_negative_holding_is_a_violation():
    portfolio = {**PORTFOLIO, "assets": [{"asset_id": "BTC", "quantity": "-0.001"}]}
    problems = [v.problem for v in check_account("erin", portfolio, LEDGER, ORDERS)]
    assert any("negative BTC holding" in p for p in problems)


def test_a_ledger_that_misses_an_order_payment_is_a_violation():
    ledger = [entry for entry in LEDGER if entry["amount"] != "-40.00"]
    problems = [v.problem for v in check_account("frank", PORTFOLIO, ledger, ORDERS)]
    assert any("order payments" in p for p in problems)


def test_an_order_rounded_in_the_traders_favour_is_a_violation():
    # The ledger adds up either way: only the order's own exact value shows it.
    sale = {
        "order_id": "o-9",
        "order_type": "market_sell",
        "asset_id": "USDT",
        "quantity": "0.005",
        "price": "1.00",
        "total_amount": "0.01",
        "status": "completed",
    }
    purchase = {
        **sale,
        "order_id": "o-8",
        "order_type": "market_buy",
        "quantity": "0.1",
        "total_amount": "0.10",
    }
    portfolio = {
        "cash_balance": "10.01",
        "assets": [{"asset_id": "USDT", "quantity": "0.09500000"}],
    }
    ledger = [
        {"transaction_type": "deposit", "amount": "10.10"},
        {"transaction_type": "order_payment", "amount": "-0.10"},
        {"transaction_type": "order_sale", "amount": "0.01"},
    ]
    problems = [v.problem for v in check_account("carol", portfolio, ledger, [purchase, sale])]
    assert problems == [
        "order o-9 received 0.01 for 0.005 × 1.00 = 0.00500: rounded in the trader's favour"
    ]
    fair = {**sale, "total_amount": "0.00"}
    fair_ledger = [*ledger[:2], {"transaction_type": "order_sale", "amount": "0.00"}]
    fair_portfolio = {**portfolio, "cash_balance": "10.00"}
    assert check_account("carol", fair_portfolio, fair_ledger, [purchase, fair]) == []
