"""Holdings and the portfolio, valued at the inventory's current prices."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cnop_common.decimals import CENT, money, price, quantity
from cnop_common.errors import ApiError
from cnop_common.inventory_client import InventoryClient
from cnop_common.store import Store
from cnop_user.tables import HOLDINGS

HUNDRED = Decimal(100)


class Portfolio:
    """What a user holds and what it is worth."""

    def __init__(self, store: Store, inventory: InventoryClient) -> None:
        self.store = store
        self.inventory = inventory
        self.holdings = store.table(HOLDINGS.name)

    def _held(self, username: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with self.store.errors("holdings"):
            for page in self.store.client.get_paginator("query").paginate(
                TableName=self.holdings,
                KeyConditionExpression="username = :u",
                ExpressionAttributeValues={":u": username},
                ConsistentRead=True,
            ):
                items.extend(page.get("Items", []))
        # A holding sold down to zero keeps its item (and created_at) but is not held.
        return [item for item in items if Decimal(item["quantity"]) > 0]

    def asset_balance(self, username: str, asset_id: str) -> dict[str, Any]:
        """One holding with its current value; 404 if none is held."""
        item = self.store.get(
            "holding", HOLDINGS.name, {"username": username, "asset_id": asset_id}
        )
        if item is None or Decimal(item["quantity"]) <= 0:
            raise ApiError(404, "ASSET_BALANCE_NOT_FOUND", f"You hold no {asset_id}.")
        asset = self.inventory.asset(asset_id)
        held = Decimal(item["quantity"])
        current = asset.price_usd if asset else Decimal(0)
        return {
            "asset_id": asset_id,
            "asset_name": asset.name if asset else asset_id,
            "quantity": quantity(held),
            "current_price": price(current),
            "total_value": money(held * current),
            "created_at": item.get("created_at"),
            "updated_at": item.get("updated_at"),
        }

    def summary(self, username: str, cash: Decimal) -> dict[str, Any]:
        """Cash plus every holding at market value, with each one's share of the total."""
        held = self._held(username)
        prices = self.inventory.all_assets() if held else {}
        rows = []
        for item in held:
            asset = prices.get(item["asset_id"])
            amount = Decimal(item["quantity"])
            current = asset.price_usd if asset else Decimal(0)
            rows.append((item["asset_id"], asset, amount, current, amount * current))
        total = cash + sum((row[4] for row in rows), Decimal(0))
        assets = [
            {
                "asset_id": asset_id,
                "asset_name": asset.name if asset else asset_id,
                "quantity": quantity(amount),
                "current_price": price(current),
                "market_value": money(value),
                "percentage": str(
                    (value / total * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
                    if total > 0
                    else Decimal("0.00")
                ),
            }
            for asset_id, asset, amount, current, value in sorted(rows, key=lambda r: -r[4])
        ]
        return {"cash_balance": money(cash), "total_value": money(total), "assets": assets}
