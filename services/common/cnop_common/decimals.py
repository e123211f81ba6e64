"""Exact money and quantities: one strict grammar in, fixed-scale strings out.

An amount, quantity or price arrives as a JSON number or a string, written
the same way either way: ASCII digits, an optional point and decimals, an
optional leading minus (so that "-5" is told it must be positive), at most
15 digits before the point and 18 after. No exponent ("1E+2"), no other
digits ("١٠"), no underscores ("1_0"), no spaces. Everything else is a 422
that says so, before any arithmetic can meet it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute, APIRouter

PLAIN_DECIMAL = re.compile(r"\A-?[0-9]{1,15}(?:\.[0-9]{1,18})?\Z")
GRAMMAR = (
    "a plain decimal: ASCII digits, an optional point and decimals, no exponent"
    " (at most 15 digits before the point and 18 after)"
)
CENT = Decimal("0.01")
QUANTUM = Decimal("0.00000001")  # quantities and prices: 8 decimals


def money(value: Decimal) -> str:
    """Cash with two decimals: "1000.00"."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def quantity(value: Decimal) -> str:
    """An asset quantity with eight decimals: "0.50000000"."""
    return str(value.quantize(QUANTUM, rounding=ROUND_HALF_UP))


def price(value: Decimal) -> str:
    """A unit price: at least two decimals, at most eight ("43250.00", "0.00001234")."""
    exact = value.quantize(QUANTUM, rounding=ROUND_HALF_UP).normalize()
    if exact.as_tuple().exponent >= -2:  # type: ignore[operator]
        return money(exact)
    return f"{exact:f}"


def decimal_places(value: Decimal) -> int:
    """How many digits a decimal has after the point (0 for integers)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class NotPlainNumber(str):
    """A JSON number outside the grammar (an exponent, too many digits): refused later
    by the field's validator, with the field's name in the error."""


def json_number(text: str) -> Decimal | int | NotPlainNumber:
    """json.loads' hook for every number literal: exact, or marked as refused."""
    if not PLAIN_DECIMAL.match(text):
        return NotPlainNumber(text)
    return Decimal(text) if "." in text else int(text)


def parse_json(body: bytes) -> Any:
    """JSON with exact numbers; nesting too deep for the parser is invalid JSON, not a 500."""
    try:
        return json.loads(body, parse_float=json_number, parse_int=json_number)
    except RecursionError as exc:
        raise json.JSONDecodeError("document nested too deeply", body.decode("latin-1"), 0) from exc


def plain_decimal(value: Any) -> Any:
    """Before-validator of every amount, quantity and price: the grammar, or a clear error."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, NotPlainNumber):
        raise ValueError(f"must be {GRAMMAR}")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        if not PLAIN_DECIMAL.match(value):
            raise ValueError(f"must be {GRAMMAR}")
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise ValueError(f"must be {GRAMMAR}")


class DecimalJSONRequest(Request):
    """A request whose JSON numbers become exact Decimals (or are marked as refused)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class DecimalRoute(APIRoute):
    """Route class that hands endpoints a DecimalJSONRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def decimal_handler(request: Request) -> Response:
            return await handler(DecimalJSONRequest(request.scope, request.receive))

        return decimal_handler


def decimal_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes parse JSON numbers as Decimal."""
    return APIRouter(route_class=DecimalRoute, **kwargs)
