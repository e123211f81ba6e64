"""Order request body and the views of orders the API returns."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from cnop_common.assets import ASSET_ID
from cnop_common.decimals import decimal_places, money, plain_decimal, price, quantity

MARKET_TYPES = ("market_buy", "market_sell")
LIMIT_TYPES = ("limit_buy", "limit_sell")
MIN_QUANTITY = Decimal("0.001")
MAX_QUANTITY = Decimal("1000000000")


def _check_quantity(value: Decimal) -> Decimal:
    if value < MIN_QUANTITY:
        raise ValueError("quantity must be at least 0.001")
    if value > MAX_QUANTITY:
        raise ValueError("quantity is too large")
    if decimal_places(value) > 8:
        raise ValueError("quantity must have at most 8 decimal places")
    return value


def _check_order_type(value: str) -> str:
    if value not in MARKET_TYPES + LIMIT_TYPES:
        raise ValueError("order_type must be market_buy or market_sell")
    return value


PositivePrice = Annotated[Decimal, BeforeValidator(plain_decimal), Field(gt=0)]


class OrderRequest(BaseModel):
    """POST /orders."""

    model_config = ConfigDict(extra="ignore")

    order_type: Annotated[str, AfterValidator(_check_order_type)]
    asset_id: Annotated[str, Field(pattern=ASSET_ID.pattern), AfterValidator(lambda v: v.upper())]
    quantity: Annotated[
        Decimal, BeforeValidator(plain_decimal), Field(gt=0), AfterValidator(_check_quantity)
    ]
    # Accepted for compatibility; market orders execute at the inventory price.
    # The constraint sits on the Decimal, not on the optional: pydantic would
    # otherwise apply `gt` to None and fail with a TypeError (a 500).
    price: PositivePrice | None = None

    def fingerprint_payload(self) -> dict[str, str | None]:
        """The request's meaning, independent of JSON formatting (for Idempotency-Key)."""
        return {
            "order_type": self.order_type,
            "asset_id": self.asset_id,
            "quantity": str(self.quantity.normalize()),
            "price": str(self.price.normalize()) if self.price is not None else None,
        }


def order_view(item: dict[str, Any]) -> dict[str, Any]:
    """An order as the API shows it."""
    return {
        "order_id": item["order_id"],
        "order_type": item["order_type"],
        "asset_id": item["asset_id"],
        "quantity": quantity(Decimal(item["quantity"])),
        "price": price(Decimal(item["price"])),
        "status": item["status"],
        "total_amount": money(Decimal(item["total_amount"])),
        "created_at": item["created_at"],
    }


def asset_transaction_view(item: dict[str, Any]) -> dict[str, Any]:
    """An order as a line of the asset's transaction history."""
    return {
        "asset_id": item["asset_id"],
        "transaction_type": "BUY" if item["order_type"] == "market_buy" else "SELL",
        "quantity": quantity(Decimal(item["quantity"])),
        "price": price(Decimal(item["price"])),
        "total_amount": money(Decimal(item["total_amount"])),
        "order_id": item["order_id"],
        "status": "COMPLETED",
        "timestamp": item["created_at"],
    }
