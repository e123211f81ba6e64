"""The tables the user service owns (the order service writes some of them in trades)."""

from __future__ import annotations

from cnop_common.idempotency import idempotency_table
from cnop_common.schema import Key, TableSpec
from cnop_user import SERVICE

USERS = TableSpec("users", Key("username"), owner=SERVICE)
# One item per e-mail address makes address uniqueness a condition DynamoDB checks.
USER_EMAILS = TableSpec("user-emails", Key("email"), owner=SERVICE)
BALANCES = TableSpec("balances", Key("username"), owner=SERVICE)
# Ledger entries sort by their ULID transaction id, i.e. by time.
LEDGER = TableSpec("ledger", Key("username"), Key("transaction_id"), owner=SERVICE)
HOLDINGS = TableSpec("holdings", Key("username"), Key("asset_id"), owner=SERVICE)
DAILY_TOTALS = TableSpec(
    "daily-totals", Key("username"), Key("period"), ttl_attribute="expires_at", owner=SERVICE
)
IDEMPOTENCY = idempotency_table(SERVICE)

OWN_TABLES = (USERS, USER_EMAILS, BALANCES, LEDGER, HOLDINGS, DAILY_TOTALS, IDEMPOTENCY)
