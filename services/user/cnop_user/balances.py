"""Cash balances and their ledger: deposits and withdrawals in one transaction each.

A balance never changes by read-modify-write: every change is an update with
a condition (a debit requires balance >= amount) inside TransactWriteItems,
together with the ledger entry, the daily-limit counter and, when the client
sent one, the Idempotency-Key record.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from fastapi.responses import JSONResponse

from cnop_common.clock import iso_z, new_id, utc_now
from cnop_common.decimals import money
from cnop_common.errors import ApiError
from cnop_common.idempotency import IDEMPOTENCY_ITEM, IdempotentRequest, KeyTaken, respond_once
from cnop_common.logging import get_logger
from cnop_common.store import Store, count_items, query_page
from cnop_common.transactions import write_together
from cnop_user.tables import BALANCES, DAILY_TOTALS, LEDGER

log = get_logger("balances")

Movement = Literal["deposit", "withdraw"]
PAST_TENSE = {"deposit": "deposited", "withdraw": "withdrew"}


def ledger_entry(item: dict[str, Any]) -> dict[str, Any]:
    """A ledger item as the API shows it (signed amount, fixed scale)."""
    return {
        "transaction_id": item["transaction_id"],
        "transaction_type": item["transaction_type"],
        "amount": money(Decimal(item["amount"])),
        "status": item["status"],
        "created_at": item["created_at"],
        "reference_id": item.get("reference_id"),
    }


class Balances:
    """Cash accounts, their movements and their history."""

    def __init__(self, store: Store, limits: dict[Movement, Decimal]) -> None:
        self.store = store
        self.limits = limits
        self.balances = store.table(BALANCES.name)
        self.ledger = store.table(LEDGER.name)
        self.daily = store.table(DAILY_TOTALS.name)

    def current(self, username: str) -> dict[str, Any]:
        """The balance item; 404 if the account has none."""
        item = self.store.get("get_balance", BALANCES.name, {"username": username})
        if item is None:
            raise ApiError(404, "BALANCE_NOT_FOUND", "No balance for this user.")
        return item

    def move(
        self,
        username: str,
        kind: Movement,
        amount: Decimal,
        idempotency: IdempotentRequest | None,
    ) -> JSONResponse:
        """Deposit or withdraw `amount`, exactly once per Idempotency-Key."""
        limit = self.limits[kind]

        def commit() -> tuple[int, dict[str, Any]]:
            if amount > limit:
                # What the user has comes before what the rules allow: withdrawing
                # more than the balance is "insufficient", whatever the daily limit.
                # (Only this refusal reads; a transaction checks both otherwise.)
                if kind == "withdraw" and self._balance_below(username, amount):
                    raise self._no_room(kind)
                raise self._limit_error(kind, limit)
            return 201, self._commit(username, kind, amount, limit, idempotency)

        return respond_once(idempotency, commit)

    def _commit(
        self,
        username: str,
        kind: Movement,
        amount: Decimal,
        limit: Decimal,
        idempotency: IdempotentRequest | None,
    ) -> dict[str, Any]:
        now = utc_now()
        stamp = iso_z(now)
        transaction_id = new_id("txn")
        body = {
            "success": True,
            "message": f"Successfully {PAST_TENSE[kind]} ${money(amount)}",
            "transaction_id": transaction_id,
            "timestamp": stamp,
        }
        if kind == "deposit":
            change, condition = (
                "SET balance = balance + :a, updated_at = :now",
                ("attribute_exists(username)"),
            )
        else:
            change, condition = "SET balance = balance - :a, updated_at = :now", "balance >= :a"
        items: dict[str, dict[str, Any]] = {
            "balance": {
                "Update": {
                    "TableName": self.balances,
                    "Key": {"username": username},
                    "UpdateExpression": change,
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": {":a": amount, ":now": stamp},
                }
            },
            "daily_total": self._daily_total_update(username, kind, amount, limit, now),
            "ledger": {
                "Put": {
                    "TableName": self.ledger,
                    "Item": {
                        "username": username,
                        "transaction_id": transaction_id,
                        "transaction_type": kind,
                        "amount": amount if kind == "deposit" else -amount,
                        "status": "completed",
                        "created_at": stamp,
                        "reference_id": None,
                    },
                    "ConditionExpression": "attribute_not_exists(transaction_id)",
                }
            },
        }
        if idempotency is not None:
            items[IDEMPOTENCY_ITEM] = idempotency.transact_put(201, body)
        no_room = self._no_room(kind)
        write_together(
            self.store,
            kind,
            items,
            refusals={
                IDEMPOTENCY_ITEM: KeyTaken(),
                "balance": no_room,
                "daily_total": self._limit_error(kind, limit),
            },
            otherwise=ApiError(409, "CONFLICT", "The request conflicted with another; try again."),
        )
        log.info("balance_moved", kind=kind, amount=money(amount), transaction_id=transaction_id)
        return body

    def _daily_total_update(
        self, username: str, kind: Movement, amount: Decimal, limit: Decimal, now: datetime
    ) -> dict[str, Any]:
        # The running total per user and UTC day, bounded by a condition, so
        # concurrent movements can never pass the limit together.
        return {
            "Update": {
                "TableName": self.daily,
                "Key": {"username": username, "period": f"{kind}#{now:%Y-%m-%d}"},
                "UpdateExpression": "SET #t = if_not_exists(#t, :zero) + :a, expires_at = :exp",
                "ConditionExpression": "attribute_not_exists(#t) OR #t <= :room",
                "ExpressionAttributeNames": {"#t": "total"},
                "ExpressionAttributeValues": {
                    ":a": amount,
                    ":zero": Decimal("0"),
                    ":room": limit - amount,
                    ":exp": int((now + timedelta(days=2)).timestamp()),
                },
            }
        }

    @staticmethod
    def _no_room(kind: Movement) -> ApiError:
        """The refusal when the balance's own condition fails (the first reason given)."""
        if kind == "withdraw":
            message = "Insufficient balance for this withdrawal."
            return ApiError(422, "INSUFFICIENT_BALANCE", message)
        return ApiError(404, "BALANCE_NOT_FOUND", "No balance for this user.")

    def _balance_below(self, username: str, amount: Decimal) -> bool:
        """True when the user's balance (read consistently) is under `amount`, or absent."""
        item = self.store.get("get_balance", BALANCES.name, {"username": username})
        return item is None or Decimal(item["balance"]) < amount

    @staticmethod
    def _limit_error(kind: Movement, limit: Decimal) -> ApiError:
        return ApiError(
            422,
            "DAILY_LIMIT_EXCEEDED",
            f"This {kind} would exceed the daily {kind} limit of ${money(limit)}.",
        )

    def history(self, username: str, limit: int, offset: int) -> dict[str, Any]:
        """Ledger entries, newest first, with the total count."""
        query = {
            "TableName": self.ledger,
            "KeyConditionExpression": "username = :u",
            "ExpressionAttributeValues": {":u": username},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        items, has_more = query_page(self.store, "ledger_page", query, offset=offset, limit=limit)
        total = count_items(self.store, "ledger_count", query)
        return {
            "transactions": [ledger_entry(item) for item in items],
            "total_count": total,
            "has_more": has_more,
        }
