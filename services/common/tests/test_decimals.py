"""Fixed-scale money, quantity and price strings."""

import asyncio
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnop_common.decimals import (
    PLAIN_DECIMAL,
    DecimalJSONRequest,
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
    with pytest.raises(json.JSONDecodeError, match="nested too deeply") as raised:
        parse_json(b"[" * 100_000 + b"]" * 100_000)
    assert raised.value.pos == 0  # the document as a whole, not a place in it


def test_a_number_that_is_not_finite_has_no_decimal_places():
    for value in ("NaN", "Infinity", "-Infinity"):
        assert decimal_places(Decimal(value)) == 0


def test_a_decimal_request_reads_its_body_once_and_keeps_the_numbers_exact():
    reads = []

    async def receive() -> dict[str, object]:
        reads.append(1)
        return {"type": "http.request", "body": b'{"amount": 0.1, "n": 7}', "more_body": False}

    request = DecimalJSONRequest({"type": "http", "method": "POST", "headers": []}, receive)

    async def twice() -> tuple[object, object]:
        return await request.json(), await request.json()

    first, second = asyncio.run(twice())
    assert first == {"amount": Decimal("0.1"), "n": 7}
    assert second is first
    assert reads == [1]


# Issue 25 #5: rounding is half up at every scale, and a tie is decided away from zero.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.004999", "0.00"),
        ("0.005", "0.01"),
        ("0.015", "0.02"),  # half-even would give 0.02 here, but...
        ("0.025", "0.03"),  # ...0.02 here: half up does not
        ("0.0150000001", "0.02"),
        ("0.011", "0.01"),  # up (away from zero) would give 0.02
        ("-0.025", "-0.03"),
        ("-0.011", "-0.01"),
    ],
)
def test_money_rounds_half_up(value, expected):
    assert money(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.123456785", "0.12345679"),
        ("0.123456775", "0.12345678"),  # half up, not half even (…677|5 → …678)
        ("0.123456781", "0.12345678"),  # down, whatever sits below half
        ("0.1234567849", "0.12345678"),
        ("2.000000005", "2.00000001"),
    ],
)
def test_quantity_rounds_half_up_at_eight_decimals(value, expected):
    assert quantity(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.000012345", "0.00001235"),  # more than eight decimals: half up at the eighth
        ("0.000012344", "0.00001234"),
        ("0.123456775", "0.12345678"),
        ("43250.0000000049", "43250.00"),  # rounds to a whole: two decimals shown
        ("43250.000000005", "43250.00000001"),
        ("0.1", "0.10"),
    ],
)
def test_price_rounds_half_up_at_eight_decimals_and_keeps_two(value, expected):
    assert price(Decimal(value)) == expected


# Issue 25 #6: the grammar's edges, each refused for a reason of its own.
@pytest.mark.parametrize(
    "text",
    [
        "10\n",  # `$` would accept a trailing newline; `\Z` does not
        "1.٥",  # a non-ASCII digit after the point (`\d` would accept it)
        "٥",
        "1." + "1" * 19,  # 19 decimals: one too many
        "1" * 16,  # 16 digits before the point: one too many
    ],
)
def test_the_grammars_edges_are_refused(text):
    with pytest.raises(ValueError, match="plain decimal"):
        plain_decimal(text)


@pytest.mark.parametrize("text", ["1." + "1" * 18, "9" * 15, "9" * 15 + "." + "9" * 18])
def test_the_grammars_bounds_are_accepted(text):
    assert plain_decimal(text) == Decimal(text)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_decimal_object_that_is_not_finite_is_refused(value):
    with pytest.raises(ValueError, match="plain decimal"):
        plain_decimal(value)
