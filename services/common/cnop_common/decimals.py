"""Exact money and quantities: JSON numbers parsed as Decimal, fixed-scale strings out."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute, APIRouter

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


class DecimalJSONRequest(Request):
    """A request whose JSON numbers become Decimal, so 0.1 stays exactly 0.1."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = json.loads(body, parse_float=Decimal)
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


def reject_bool(value: Any) -> Any:
    """Before-validator for decimal fields: JSON true/false is not a number."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value
