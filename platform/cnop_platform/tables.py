"""The platform's tables and who uses them: read by the program and the local runner alike."""

from __future__ import annotations

from collections.abc import Mapping

from cnop_common.schema import Key, TableSpec
from cnop_order import tables as order_tables
from cnop_user import tables as user_tables

# The auth service keeps its own code; its one table is declared here from the
# same facts (key `jti`, TTL `expires_at`) as cnop_auth.revocations.
AUTH_REVOKED = TableSpec(
    "auth-revoked-tokens", Key("jti"), ttl_attribute="expires_at", owner="auth"
)
TABLES: tuple[TableSpec, ...] = (*user_tables.OWN_TABLES, *order_tables.OWN_TABLES, AUTH_REVOKED)
# Which tables each service reads and writes (a trade writes the user tables).
ACCESS: Mapping[str, tuple[str, ...]] = {
    "user": tuple(spec.name for spec in user_tables.OWN_TABLES),
    "order": tuple(spec.name for spec in (*order_tables.OWN_TABLES, *order_tables.USED_TABLES)),
    "auth": (AUTH_REVOKED.name,),
}
