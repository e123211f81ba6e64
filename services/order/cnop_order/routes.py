"""HTTP routes of the order service."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from cnop_common.assets import parse_asset_id
from cnop_common.decimals import decimal_router
from cnop_common.errors import ApiError
from cnop_common.idempotency import IdempotentRequest
from cnop_common.inventory_client import InventoryClient
from cnop_common.store import Store
from cnop_common.trust import Caller, current_caller
from cnop_order.history import OrderHistory
from cnop_order.models import OrderRequest
from cnop_order.tables import IDEMPOTENCY
from cnop_order.trades import Trades

ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{10,64}$")
CallerDep = Annotated[Caller, Depends(current_caller)]


def build_router(
    store: Store, trades: Trades, history: OrderHistory, inventory: InventoryClient
) -> APIRouter:
    """All public routes of the order service."""
    router = decimal_router(tags=["orders"])

    @router.post("/orders", status_code=201)
    def place_order(
        body: OrderRequest,
        caller: CallerDep,
        key: Annotated[
            str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
        ] = None,
    ) -> JSONResponse:
        idempotency = (
            IdempotentRequest(
                store,
                IDEMPOTENCY.name,
                user=caller.username,
                operation="order",
                key=key,
                payload=body.fingerprint_payload(),
            )
            if key is not None
            else None
        )
        return trades.place(caller.username, body, idempotency)

    @router.get("/orders")
    def list_orders(
        caller: CallerDep,
        asset_id: str | None = None,
        order_type: Literal["market_buy", "market_sell"] | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    ) -> dict[str, Any]:
        return history.list(
            caller.username,
            asset_id=parse_asset_id(asset_id) if asset_id is not None else None,
            order_type=order_type,
            limit=limit,
            offset=offset,
        )

    @router.get("/orders/{order_id}")
    def get_order(order_id: str, caller: CallerDep) -> dict[str, Any]:
        if not ORDER_ID.fullmatch(order_id):
            raise ApiError(422, "VALIDATION_ERROR", "order_id must be 10-64 of A-Z a-z 0-9 _ -.")
        return {"data": history.get(caller.username, order_id)}

    @router.get("/assets/{asset_id}/transactions")
    def asset_transactions(
        asset_id: str, caller: CallerDep, limit: Annotated[int, Query(ge=1, le=100)] = 50
    ) -> dict[str, Any]:
        parsed = parse_asset_id(asset_id)
        if inventory.asset(parsed) is None:
            raise ApiError(404, "ASSET_NOT_FOUND", f"Asset {parsed} not found.")
        return history.for_asset(caller.username, parsed, limit)

    return router
