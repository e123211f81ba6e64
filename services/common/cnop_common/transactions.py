"""Writes that happen together or not at all, and why DynamoDB refused them.

Every balance change is one TransactWriteItems whose items carry the conditions
that keep the books right (enough cash, enough of the asset, the daily limit, a
fresh idempotency key). When DynamoDB cancels one, it says which item's
condition failed, by position; `write_together` takes the items by name and
turns the first failed one the caller cares about into the caller's refusal.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from cnop_common.store import Store

CONDITION_FAILED = "ConditionalCheckFailed"


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction, in item order ('None' = item was fine)."""
    reasons = exc.response.get("CancellationReasons", [])
    return [str(reason.get("Code", "None")) for reason in reasons]


def is_transaction_cancelled(exc: ClientError) -> bool:
    """True for a TransactWriteItems refused on a condition (not a store failure)."""
    return exc.response["Error"]["Code"] == "TransactionCanceledException"


# Real DynamoDB cancels a transaction that races another on the same item with
# TransactionConflict; that is safe to retry, unlike a failed condition.
_RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def transact(store: Store, items: list[dict[str, Any]], operation: str, attempts: int = 3) -> None:
    """TransactWriteItems with retries on conflicts; a failed condition raises ClientError."""
    for attempt in range(1, attempts + 1):
        try:
            with store.errors(operation):
                store.client.transact_write_items(TransactItems=items)
            return
        except ClientError as exc:
            retryable = is_transaction_cancelled(exc) and any(
                code in _RETRYABLE_REASONS for code in cancellation_codes(exc)
            )
            if not retryable or attempt == attempts:
                raise
            time.sleep(0.01 * attempt)


def write_together(
    store: Store,
    operation: str,
    items: Mapping[str, dict[str, Any]],
    refusals: Mapping[str, Exception],
    otherwise: Exception,
) -> None:
    """Write `items` (name -> TransactWriteItems entry) all or none.

    When a condition fails, raise the refusal of the first name in `refusals`
    (in its order) whose item failed; `otherwise` when none of those did (the
    write lost a race, or failed on an item no refusal explains).
    """
    names = list(items)
    try:
        transact(store, list(items.values()), operation)
    except ClientError as exc:
        if not is_transaction_cancelled(exc):
            raise
        failed = {
            name
            for name, code in zip(names, cancellation_codes(exc), strict=False)
            if code == CONDITION_FAILED
        }
        for name, refusal in refusals.items():
            if name in failed:
                raise refusal from exc
        raise otherwise from exc
