"""Tables the order service owns, and the user service's tables a trade writes."""

from __future__ import annotations

from cnop_common.idempotency import idempotency_table
from cnop_common.schema import IndexSpec, Key, TableSpec
from cnop_order import SERVICE

# Order ids are ULIDs, so (username, order_id) lists a user's orders by time
# and a lookup by another user's name finds nothing: their orders are 404.
ORDERS = TableSpec(
    "orders",
    Key("username"),
    Key("order_id"),
    indexes=(IndexSpec("user-asset-index", Key("user_asset"), Key("order_id")),),
    owner=SERVICE,
)
IDEMPOTENCY = idempotency_table(SERVICE)
OWN_TABLES = (ORDERS, IDEMPOTENCY)

# A trade moves cash and holdings in the same transaction as the order record,
# so it writes these user-service tables; the user service creates them.
BALANCES = TableSpec("balances", Key("username"), owner="user")
LEDGER = TableSpec("ledger", Key("username"), Key("transaction_id"), owner="user")
HOLDINGS = TableSpec("holdings", Key("username"), Key("asset_id"), owner="user")
USED_TABLES = (BALANCES, LEDGER, HOLDINGS)
