"""Market orders: one TransactWriteItems per trade.

A buy debits cash (condition: balance >= total), adds to the holding, writes
the order and its ledger entry; a sell removes from the holding (condition:
quantity >= sold) and credits cash. Everything commits together or nothing
does, so cash and holdings can never go negative, even under concurrency.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from fastapi.responses import JSONResponse
from prometheus_client import Counter

from cnop_common.clock import iso_z, new_id, utc_now
from cnop_common.decimals import CENT, money
from cnop_common.errors import ApiError
from cnop_common.idempotency import IDEMPOTENCY_ITEM, IdempotentRequest, KeyTaken, respond_once
from cnop_common.inventory_client import AssetPrice, InventoryClient
from cnop_common.logging import get_logger
from cnop_common.store import Store
from cnop_common.transactions import write_together
from cnop_order.models import LIMIT_TYPES, OrderRequest, order_view
from cnop_order.tables import BALANCES, HOLDINGS, LEDGER, ORDERS

log = get_logger("trades")

ORDERS_TOTAL = Counter(
    "orders_total", "Orders by type and outcome.", ["service", "order_type", "outcome"]
)
TRADE_VALUE = Counter(
    "trade_value_usd_total", "Cash value of completed trades, in USD.", ["service", "order_type"]
)


def order_total(order_type: str, quantity: Decimal, unit_price: Decimal) -> Decimal:
    """The cash an order moves, to the cent, never in the trader's favour.

    A buy rounds up and a sell rounds down: with half-up rounding, buying 0.1
    of a $1 asset and selling it back in lots of 0.005 paid half a cent per lot
    that was never bought. Now such a lot rounds to $0.00 and is refused.
    """
    exact = quantity * unit_price
    rounding = ROUND_CEILING if order_type == "market_buy" else ROUND_FLOOR
    return exact.quantize(CENT, rounding=rounding)


class Trades:
    """Executes market orders against the inventory's current price."""

    def __init__(
        self, service: str, store: Store, inventory: InventoryClient, value_cap: Decimal
    ) -> None:
        self.service = service
        self.store = store
        self.inventory = inventory
        self.value_cap = value_cap
        self.orders = store.table(ORDERS.name)
        self.balances = store.table(BALANCES.name)
        self.holdings = store.table(HOLDINGS.name)
        self.ledger = store.table(LEDGER.name)

    def place(
        self, username: str, request: OrderRequest, idempotency: IdempotentRequest | None
    ) -> JSONResponse:
        """Execute the order once per Idempotency-Key and answer 201 with it."""

        def commit() -> tuple[int, dict[str, Any]]:
            try:
                order = self._execute(username, request, idempotency)
            except ApiError as error:
                ORDERS_TOTAL.labels(self.service, request.order_type, error.code.lower()).inc()
                raise
            ORDERS_TOTAL.labels(self.service, request.order_type, "completed").inc()
            TRADE_VALUE.labels(self.service, request.order_type).inc(float(order["total_amount"]))
            return 201, {"data": order}

        return respond_once(idempotency, commit)

    def _priced(self, username: str, request: OrderRequest) -> tuple[AssetPrice, Decimal]:
        """The asset and the order's cash total, or the error that stops the order."""
        if request.order_type in LIMIT_TYPES:
            raise ApiError(
                422, "ORDER_TYPE_NOT_SUPPORTED", "Only market_buy and market_sell are supported."
            )
        asset = self.inventory.asset(request.asset_id)
        if asset is None:
            raise ApiError(404, "ASSET_NOT_FOUND", f"Asset {request.asset_id} not found.")
        if not asset.is_active:
            raise ApiError(422, "ASSET_INACTIVE", f"Asset {request.asset_id} is not tradable.")
        if request.quantity * asset.price_usd < CENT:
            # Checked on the exact value: a buy must not round a fraction of a cent
            # up to one, nor a sell be refused only after rounding.
            raise ApiError(422, "ORDER_VALUE_TOO_SMALL", "Order value must be at least $0.01.")
        total = order_total(request.order_type, request.quantity, asset.price_usd)
        if total > self.value_cap:
            # What the user has comes before what the rules allow (only this refusal
            # reads; the transaction's conditions decide every order that passes).
            lacking = self._lacking(username, request, total)
            if lacking is not None:
                raise lacking
            raise ApiError(
                422,
                "ORDER_VALUE_EXCEEDED",
                f"Order value ${money(total)} exceeds the limit of ${money(self.value_cap)}.",
            )
        return asset, total

    def _lacking(self, username: str, request: OrderRequest, total: Decimal) -> ApiError | None:
        """The refusal the transaction would give for what the user lacks, if anything."""
        buy = request.order_type == "market_buy"
        if buy:
            item = self.store.get("get_balance", BALANCES.name, {"username": username})
            has, needs = (Decimal(item["balance"]) if item else Decimal(0)), total
        else:
            key = {"username": username, "asset_id": request.asset_id}
            item = self.store.get("get_holding", HOLDINGS.name, key)
            has, needs = (Decimal(item["quantity"]) if item else Decimal(0)), request.quantity
        if has >= needs:
            return None
        refusals = self._refusals(buy)
        refusal = refusals["cash"] if buy else refusals["holding"]
        return refusal if isinstance(refusal, ApiError) else None

    def _execute(
        self, username: str, request: OrderRequest, idempotency: IdempotentRequest | None
    ) -> dict[str, Any]:
        asset, total = self._priced(username, request)
        stamp = iso_z(utc_now())
        order_id = new_id("ord")
        order = {
            "username": username,
            "order_id": order_id,
            "user_asset": f"{username}#{asset.asset_id}",
            "order_type": request.order_type,
            "asset_id": asset.asset_id,
            "quantity": request.quantity,
            "price": asset.price_usd,
            "total_amount": total,
            "status": "completed",
            "created_at": stamp,
        }
        view = order_view(order)
        buy = request.order_type == "market_buy"
        cash_item = self._cash_change(username, total, stamp, debit=buy)
        holding_item = self._holding_change(username, asset, request.quantity, stamp, add=buy)
        items: dict[str, dict[str, Any]] = {
            "cash": cash_item,
            "holding": holding_item,
            "order": {
                "Put": {
                    "TableName": self.orders,
                    "Item": order,
                    "ConditionExpression": "attribute_not_exists(order_id)",
                }
            },
            "ledger": {
                "Put": {
                    "TableName": self.ledger,
                    "Item": {
                        "username": username,
                        "transaction_id": new_id("txn"),
                        "transaction_type": "order_payment" if buy else "order_sale",
                        "amount": -total if buy else total,
                        "status": "completed",
                        "created_at": stamp,
                        "reference_id": order_id,
                    },
                    "ConditionExpression": "attribute_not_exists(transaction_id)",
                }
            },
        }
        if idempotency is not None:
            items[IDEMPOTENCY_ITEM] = idempotency.transact_put(201, {"data": view})
        conflict = ApiError(409, "CONFLICT", "The order conflicted with another; try again.")
        write_together(self.store, "trade", items, self._refusals(buy), otherwise=conflict)
        log.info(
            "order_completed",
            order_id=order_id,
            order_type=request.order_type,
            asset_id=asset.asset_id,
            total_amount=money(total),
        )
        return view

    def _cash_change(
        self, username: str, total: Decimal, stamp: str, *, debit: bool
    ) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.balances,
                "Key": {"username": username},
                "UpdateExpression": (
                    "SET balance = balance - :t, updated_at = :now"
                    if debit
                    else "SET balance = balance + :t, updated_at = :now"
                ),
                "ConditionExpression": "balance >= :t" if debit else "attribute_exists(username)",
                "ExpressionAttributeValues": {":t": total, ":now": stamp},
            }
        }

    def _holding_change(
        self, username: str, asset: AssetPrice, amount: Decimal, stamp: str, *, add: bool
    ) -> dict[str, Any]:
        if add:
            update = (
                "SET quantity = if_not_exists(quantity, :zero) + :q, updated_at = :now, "
                "created_at = if_not_exists(created_at, :now), asset_name = :name"
            )
            values: dict[str, Any] = {
                ":q": amount,
                ":zero": Decimal(0),
                ":now": stamp,
                ":name": asset.name,
            }
            return {
                "Update": {
                    "TableName": self.holdings,
                    "Key": {"username": username, "asset_id": asset.asset_id},
                    "UpdateExpression": update,
                    "ExpressionAttributeValues": values,
                }
            }
        return {
            "Update": {
                "TableName": self.holdings,
                "Key": {"username": username, "asset_id": asset.asset_id},
                "UpdateExpression": "SET quantity = quantity - :q, updated_at = :now",
                "ConditionExpression": "quantity >= :q",
                "ExpressionAttributeValues": {":q": amount, ":now": stamp},
            }
        }

    @staticmethod
    def _refusals(buy: bool) -> dict[str, Exception]:
        """What each failed condition means, the most telling first."""
        # A buy's cash update checks for enough cash; a sell's, that the account exists.
        cash = (
            ApiError(422, "INSUFFICIENT_BALANCE", "Insufficient cash for this order.")
            if buy
            else ApiError(404, "BALANCE_NOT_FOUND", "No cash account for this user.")
        )
        holding = ApiError(
            422, "INSUFFICIENT_ASSET_BALANCE", "You do not hold enough of this asset."
        )
        if buy:  # the holding's update has no condition: only cash can run out
            return {IDEMPOTENCY_ITEM: KeyTaken(), "cash": cash}
        return {IDEMPOTENCY_ITEM: KeyTaken(), "holding": holding, "cash": cash}
