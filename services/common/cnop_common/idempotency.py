"""Idempotency-Key support for money-moving POSTs.

The first response to a key is stored in the same DynamoDB transaction as the
work it describes (a Put conditioned on the key being new or expired), so a
repeat can never do the work twice: of five concurrent requests with one key,
one transaction commits and the others see the key's condition fail, read the
stored response and return it. A business refusal (422) is stored on its own
after the fact, so a repeat returns the same refusal.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from fastapi.responses import JSONResponse

from cnop_common.errors import ApiError, error_body
from cnop_common.schema import Key, TableSpec
from cnop_common.store import Store

# At least the 24 h api.md promises; DynamoDB's TTL sweep may keep items longer,
# which is why reads also compare expires_at with the clock.
RETENTION_SECONDS = 24 * 3600 + 600


def idempotency_table(owner: str) -> TableSpec:
    """The idempotency table a service owns."""
    return TableSpec(
        name=f"{owner}-idempotency",
        hash_key=Key("scope_key"),
        ttl_attribute="expires_at",
        owner=owner,
    )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response given for a key."""

    status_code: int
    body: dict[str, Any]

    def to_response(self) -> JSONResponse:
        """Replay it as it was."""
        return JSONResponse(self.body, status_code=self.status_code)


class IdempotentRequest:
    """One request carrying an Idempotency-Key, scoped to its user in this service.

    The key names one request, whichever endpoint it went to: the record is the
    user's and the key's alone, and the fingerprint covers the operation, so the
    key reused on another endpoint of the service (a deposit's key on a
    withdrawal) is refused like one reused with another body."""

    def __init__(
        self, store: Store, table: str, *, user: str, operation: str, key: str, payload: Any
    ) -> None:
        self.store = store
        self.logical_table = table
        self.table = store.table(table)
        self.scope_key = f"{user}#{key}"
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        self.fingerprint = hashlib.sha256(f"{operation}:{canonical}".encode()).hexdigest()

    def replay(self) -> StoredResponse | None:
        """The stored response for this key, or None; 409 if the key came with another body."""
        item = self.store.get("idempotency_get", self.logical_table, {"scope_key": self.scope_key})
        if item is None or int(item["expires_at"]) <= int(time.time()):
            return None
        if item["fingerprint"] != self.fingerprint:
            raise ApiError(
                409,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different request"
                " (another body, or another endpoint).",
            )
        return StoredResponse(int(item["status_code"]), json.loads(str(item["body"])))

    def transact_put(self, status_code: int, body: dict[str, Any]) -> dict[str, Any]:
        """The TransactWriteItems entry that records the response with the work."""
        return {"Put": self._conditional_put(status_code, body)}

    def remember_refusal(self, error: ApiError) -> StoredResponse:
        """Store a business refusal so repeats get the same answer; return what is stored."""
        body = error_body(error.status_code, error.code, error.detail)
        try:
            with self.store.errors("idempotency_put"):
                self.store.client.put_item(**self._conditional_put(error.status_code, body))
        except ClientError:
            # A concurrent request with the same key recorded its answer first.
            stored = self.replay()
            if stored is not None:
                return stored
            raise
        return StoredResponse(error.status_code, body)

    def _conditional_put(self, status_code: int, body: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        return {
            "TableName": self.table,
            "Item": {
                "scope_key": self.scope_key,
                "fingerprint": self.fingerprint,
                "status_code": status_code,
                "body": json.dumps(body, separators=(",", ":")),
                "expires_at": now + RETENTION_SECONDS,
            },
            "ConditionExpression": "attribute_not_exists(scope_key) OR expires_at <= :now",
            "ExpressionAttributeValues": {":now": now},
        }


class KeyTaken(Exception):  # noqa: N818 - a signal, not a failure
    """The key's record was written by a concurrent request in the meantime."""


# The name of the idempotency record among a transaction's items (transactions.py):
# its condition failing means a concurrent request with the same key got there first.
IDEMPOTENCY_ITEM = "idempotency"


def respond_once(
    idempotency: IdempotentRequest | None,
    commit: Callable[[], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Run `commit` at most once per key and answer every repeat with the first response.

    `commit` appends `idempotency.transact_put(...)` as the last item of its
    transaction and raises KeyTaken when that item's condition failed.
    """
    if idempotency is not None and (stored := idempotency.replay()) is not None:
        return stored.to_response()
    try:
        status_code, body = commit()
    except KeyTaken:
        assert idempotency is not None
        stored = idempotency.replay()
        if stored is None:  # the winner's record expired in between: vanishingly rare
            raise ApiError(409, "CONFLICT", "A concurrent request used this key; retry.") from None
        return stored.to_response()
    except ApiError as error:
        if idempotency is None or error.status_code != 422:
            raise
        return idempotency.remember_refusal(error).to_response()
    return JSONResponse(body, status_code=status_code)
