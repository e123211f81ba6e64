"""Order totals round against the trader: a buy up, a sell down (issue 12 #4)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnop_order.trades import order_total

pytestmark = pytest.mark.unit

QUANTITIES = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=8)
PRICES = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("100000"), places=8)
CENT = Decimal("0.01")


@given(QUANTITIES, PRICES)
def test_a_buy_never_costs_less_and_a_sell_never_pays_more_than_the_exact_value(q, p):
    exact = q * p
    buy, sell = order_total("market_buy", q, p), order_total("market_sell", q, p)
    assert exact <= buy < exact + CENT
    assert exact - CENT < sell <= exact


def test_the_half_cent_lot_that_made_money_now_rounds_to_nothing():
    assert order_total("market_buy", Decimal("0.1"), Decimal("1.00")) == Decimal("0.10")
    assert order_total("market_sell", Decimal("0.005"), Decimal("1.00")) == Decimal("0.00")
    assert order_total("market_buy", Decimal("0.005"), Decimal("1.00")) == Decimal("0.01")


def test_the_order_type_is_compared_by_value_not_identity():
    # A request's order type is a string built by the JSON parser, never the
    # interned literal: a buy must round up whatever object spells it.
    built = "".join(["market_", "buy"])
    assert id(built) != id("market_buy")  # another object with the same value
    assert order_total(built, Decimal("0.005"), Decimal("1.00")) == Decimal("0.01")
