"""The retry policy and refusal mapping of transactions.py, at unit level (issue 25).

Which store answers are retried (a conflict or throttling: the write did not
happen and may be tried again), how often and after what pauses, and which are
not (a failed condition is the answer). The store client here is a stand-in
that answers a scripted sequence: real DynamoDB cancels racing transactions
with TransactionConflict, which DynamoDB Local does not reproduce on demand.
The real store's own answers are tested in test_transactions.py.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cnop_common.errors import ApiError
from cnop_common.store import Store
from cnop_common.transactions import (
    cancellation_codes,
    is_transaction_cancelled,
    transact,
    write_together,
)

pytestmark = pytest.mark.unit


def wire(text: str) -> str:
    """The text as parsed from a response: a new string, never the interned literal."""
    return "".join(list(text))


def cancelled(*codes: str) -> ClientError:
    response: Any = {
        "Error": {"Code": wire("TransactionCanceledException"), "Message": "cancelled"},
        "CancellationReasons": [{"Code": wire(code)} for code in codes],
    }
    return ClientError(response, "TransactWriteItems")


class Client:
    """Answers each TransactWriteItems with the next scripted outcome (None: written)."""

    def __init__(self, *outcomes: ClientError | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def transact_write_items(self, TransactItems: list[Any]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return {}


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    taken: list[float] = []
    monkeypatch.setattr("cnop_common.transactions.time", SimpleNamespace(sleep=taken.append))
    return taken


def store_answering(*outcomes: ClientError | None) -> tuple[Store, Client]:
    store = Store(
        "test",
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        table_prefix="",
        timeout_seconds=1,
    )
    client = Client(*outcomes)
    store.client = client
    return store, client


def test_a_write_that_goes_through_is_made_once(pauses):
    store, client = store_answering(None)
    transact(store, [{}], "test")
    assert (client.calls, pauses) == (1, [])


@pytest.mark.parametrize(
    "reason", ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]
)
def test_a_conflict_or_throttling_is_tried_again_after_a_pause(pauses, reason):
    store, client = store_answering(cancelled("None", reason), None)
    transact(store, [{}, {}], "test")
    assert (client.calls, pauses) == (2, [0.01])


def test_three_attempts_then_the_last_answer_is_raised(pauses):
    last = cancelled("TransactionConflict")
    store, client = store_answering(
        cancelled("TransactionConflict"), cancelled("ThrottlingError"), last
    )
    with pytest.raises(ClientError) as raised:
        transact(store, [{}], "test")
    assert raised.value is last
    assert (client.calls, pauses) == (3, [0.01, 0.02])


def test_more_attempts_when_asked(pauses):
    store, client = store_answering(*[cancelled("TransactionConflict")] * 4, None)
    transact(store, [{}], "test", attempts=5)
    assert (client.calls, pauses) == (5, [0.01, 0.02, 0.03, 0.04])


@pytest.mark.parametrize(
    "codes", [("ConditionalCheckFailed",), ("None", "ConditionalCheckFailed"), ("ValidationError",)]
)
def test_a_refusal_on_a_condition_is_the_answer_not_retried(pauses, codes):
    store, client = store_answering(cancelled(*codes), None)
    with pytest.raises(ClientError):
        transact(store, [{}], "test")
    assert (client.calls, pauses) == (1, [])


def test_a_failed_condition_beside_a_conflict_is_retried(pauses):
    # One item conflicted: the whole write may go through on the next attempt.
    store, client = store_answering(
        cancelled("ConditionalCheckFailed", "TransactionConflict"), None
    )
    transact(store, [{}, {}], "test")
    assert client.calls == 2


def test_a_store_failure_is_not_retried_here(pauses):
    failure = ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "Op")
    store, client = store_answering(failure, None)
    with pytest.raises(ApiError):  # the store's errors become 503 STORE_UNAVAILABLE
        transact(store, [{}], "test")
    assert (client.calls, pauses) == (1, [])


@pytest.mark.parametrize(
    ("code", "cancelled_"),
    [
        ("TransactionCanceledException", True),
        ("ConditionalCheckFailedException", False),
        ("ValidationException", False),
        ("TransactionConflictException", False),
    ],
)
def test_which_errors_are_cancelled_transactions(code, cancelled_):
    error = ClientError({"Error": {"Code": wire(code), "Message": "x"}}, "Op")
    assert is_transaction_cancelled(error) is cancelled_


def test_the_reasons_of_a_cancelled_transaction_in_item_order():
    error = ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "x"},
            "CancellationReasons": [{"Code": "None"}, {}, {"Code": "ConditionalCheckFailed"}],
        },
        "TransactWriteItems",
    )
    assert cancellation_codes(error) == ["None", "None", "ConditionalCheckFailed"]
    bare = ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "x"}}, "Op")
    assert cancellation_codes(bare) == []


class RefusedError(Exception):
    pass


def test_write_together_names_the_first_refusal_in_its_order(pauses):
    items: dict[str, dict[str, Any]] = {"cash": {}, "holding": {}, "record": {}}
    refusals = {"holding": RefusedError("holding"), "cash": RefusedError("cash")}
    store, _ = store_answering(
        cancelled("ConditionalCheckFailed", "ConditionalCheckFailed", "None")
    )
    with pytest.raises(RefusedError, match="holding"):  # the refusals' order, not the items'
        write_together(store, "test", items, refusals, otherwise=RefusedError("race"))


def test_write_together_with_fewer_reasons_than_items_maps_those_it_has(pauses):
    items: dict[str, dict[str, Any]] = {"cash": {}, "holding": {}}
    store, _ = store_answering(cancelled("ConditionalCheckFailed"))
    refusals = {"holding": RefusedError("holding"), "cash": RefusedError("cash")}
    with pytest.raises(RefusedError, match="cash"):
        write_together(store, "test", items, refusals, otherwise=RefusedError("race"))


def test_write_together_without_a_named_failure_is_the_otherwise(pauses):
    store, _ = store_answering(cancelled("None", "ConditionalCheckFailed"))
    with pytest.raises(RefusedError, match="race"):
        write_together(
            store,
            "test",
            {"cash": {}, "record": {}},
            {"cash": RefusedError("cash")},
            otherwise=RefusedError("race"),
        )


def test_write_together_lets_other_errors_through(pauses):
    failure = ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "Op")
    store, _ = store_answering(failure)
    with pytest.raises(ApiError):
        write_together(
            store, "test", {"cash": {}}, {"cash": RefusedError("cash")}, otherwise=RefusedError("x")
        )
