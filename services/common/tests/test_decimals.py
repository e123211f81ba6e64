"""Fixed-scale money, quantity and price strings."""

from decimal import Decimal

import pytest

from cnop_common.decimals import decimal_places, money, price, quantity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "0.00"),
        ("1000", "1000.00"),
        ("10.5", "10.50"),
        ("0.005", "0.01"),
        ("-672.5", "-672.50"),
    ],
)
def test_money_has_two_decimals(value, expected):
    assert money(Decimal(value)) == expected


def test_quantity_has_eight_decimals():
    assert quantity(Decimal("0.5")) == "0.50000000"
    assert quantity(Decimal("12")) == "12.00000000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("67250", "67250.00"), ("0.524", "0.524"), ("0.00002450", "0.0000245"), ("1E+3", "1000.00")],
)
def test_price_keeps_at_least_two_and_at_most_eight_decimals(value, expected):
    assert price(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("value", "places"), [("1", 0), ("1.10", 1), ("0.001", 3), ("1E+2", 0), ("0.12345678", 8)]
)
def test_decimal_places(value, places):
    assert decimal_places(Decimal(value)) == places
