"""Fixed-scale money, quantity and price strings."""

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnop_common.decimals import (
    PLAIN_DECIMAL,
    NotPlainNumber,
    decimal_places,
    json_number,
    money,
    parse_json,
    plain_decimal,
    price,
    quantity,
)

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


# The one grammar of amounts, quantities and prices (docs/api.md, "Numbers").
PLAIN = st.from_regex(r"\A-?[0-9]{1,15}(\.[0-9]{1,18})?\Z", fullmatch=True)


@given(PLAIN)
def test_every_plain_decimal_is_taken_exactly(text):
    assert plain_decimal(text) == Decimal(text)
    assert plain_decimal(json_number(text)) == Decimal(text)


@given(st.text(max_size=40))
def test_anything_else_is_refused_with_the_grammar_named(text):
    if PLAIN_DECIMAL.match(text):
        return
    with pytest.raises(ValueError, match="plain decimal"):
        plain_decimal(text)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_json_number_in_exponent_form_is_refused(value):
    text = f"{value:E}"  # always written with an exponent
    with pytest.raises(ValueError, match="no exponent"):
        plain_decimal(parse_json(f'{{"amount": {text}}}'.encode())["amount"])


@pytest.mark.parametrize(
    "text",
    [
        "1E+2",
        "1e-999999999",
        "١٠",
        "1_0",
        " 10",
        "10 ",
        "+10",
        "10.",
        ".5",
        "0x10",
        "NaN",
        "Infinity",
        "1" * 16,
        "1." + "1" * 19,
        "",
        "1,5",
    ],
)
def test_the_strings_seen_in_the_wild_are_refused(text):
    with pytest.raises(ValueError, match="plain decimal"):
        plain_decimal(text)


def test_booleans_and_other_types_are_refused():
    for value in (True, None, [1], {"v": 1}, 1.5):
        with pytest.raises(ValueError, match="must be"):
            plain_decimal(value)


def test_json_numbers_stay_exact_and_huge_ones_are_marked_not_parsed():
    data = parse_json(b'{"a": 0.1, "b": 10, "c": 1e2, "d": ' + b"9" * 5000 + b"}")
    assert data["a"] == Decimal("0.1")
    assert data["b"] == 10
    assert isinstance(data["c"], NotPlainNumber)
    assert isinstance(data["d"], NotPlainNumber)  # never an int of 5000 digits


def test_nesting_too_deep_is_invalid_json_not_a_crash():
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        parse_json(b"[" * 100_000 + b"]" * 100_000)
