"""Reading a user's orders: by id, as a filtered list, and per asset."""

from __future__ import annotations

from typing import Any

from cnop_common.errors import ApiError
from cnop_common.store import Store, query_page
from cnop_order.models import asset_transaction_view, order_view
from cnop_order.tables import ORDERS


class OrderHistory:
    """Queries over the orders table; every query is keyed by the caller."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.orders = store.table(ORDERS.name)

    def get(self, username: str, order_id: str) -> dict[str, Any]:
        """The caller's order; another user's order is indistinguishable from a missing one."""
        item = self.store.get(
            "get_order", ORDERS.name, {"username": username, "order_id": order_id}
        )
        if item is None:
            raise ApiError(404, "ORDER_NOT_FOUND", "Order not found.")
        return order_view(item)

    def _query(self, username: str, asset_id: str | None) -> dict[str, Any]:
        if asset_id is None:
            return {
                "TableName": self.orders,
                "KeyConditionExpression": "username = :k",
                "ExpressionAttributeValues": {":k": username},
                "ScanIndexForward": False,
                "ConsistentRead": True,
            }
        return {
            "TableName": self.orders,
            "IndexName": ORDERS.indexes[0].name,
            "KeyConditionExpression": "user_asset = :k",
            "ExpressionAttributeValues": {":k": f"{username}#{asset_id}"},
            "ScanIndexForward": False,
        }

    def list(
        self,
        username: str,
        *,
        asset_id: str | None,
        order_type: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """The caller's orders, newest first, optionally for one asset and one type."""
        query = self._query(username, asset_id)
        if order_type is not None:
            query["FilterExpression"] = "order_type = :t"
            query["ExpressionAttributeValues"][":t"] = order_type
        items, has_more = query_page(self.store, "list_orders", query, offset=offset, limit=limit)
        return {"data": [order_view(item) for item in items], "has_more": has_more}

    def for_asset(self, username: str, asset_id: str, limit: int) -> dict[str, Any]:
        """The caller's trades in one asset, newest first."""
        query = self._query(username, asset_id)
        items, has_more = query_page(self.store, "asset_orders", query, offset=0, limit=limit)
        return {"data": [asset_transaction_view(item) for item in items], "has_more": has_more}
