"""Idempotency records against the real store (issue 25): one response per key, for 24 h.

The clock is fixed (the module reads `time.time()`): records are written and
judged at chosen instants, on both sides of their expiry. The work and the
record are written together (write_together), as the services write them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from cnop_common.errors import ApiError
from cnop_common.idempotency import (
    IDEMPOTENCY_ITEM,
    RETENTION_SECONDS,
    IdempotentRequest,
    KeyTaken,
    StoredResponse,
    idempotency_table,
    respond_once,
)
from cnop_common.schema import Key, TableSpec
from cnop_common.store import Store
from cnop_common.transactions import write_together

pytestmark = pytest.mark.integration

RECORDS = idempotency_table("idem-test")
WORK = TableSpec("idem-test-work", Key("name"), owner="idem-test")
NOW = 1_800_000_000
BODY = {"amount": "10.00"}


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = float(NOW)
        # The module's clock only: the store client keeps the real one.
        monkeypatch.setattr("cnop_common.idempotency.time", SimpleNamespace(time=lambda: self.now))


@pytest.fixture(scope="module")
def store(local_platform) -> Store:
    store = Store(
        "test",
        endpoint_url=local_platform.url("store"),
        region="us-east-1",
        table_prefix=f"i{secrets.token_hex(3)}-",
        timeout_seconds=5,
    )
    store.ensure_tables([RECORDS, WORK])
    return store


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def _request(
    store: Store, *, user: str = "ann", key: str = "", **changes: Any
) -> IdempotentRequest:
    return IdempotentRequest(
        store,
        RECORDS.name,
        user=user,
        operation=changes.get("operation", "deposit"),
        key=key or secrets.token_hex(8),
        payload=changes.get("payload", BODY),
    )


def _committing(
    store: Store, request: IdempotentRequest, status: int, body: dict[str, Any]
) -> Callable[[], tuple[int, dict[str, Any]]]:
    """A commit as the services write one: the work and the record in one transaction."""
    calls: list[int] = []

    def commit() -> tuple[int, dict[str, Any]]:
        calls.append(1)
        work = {
            "Put": {
                "TableName": store.table(WORK.name),
                "Item": {"name": secrets.token_hex(6), "amount": Decimal("10")},
            }
        }
        items = {"work": work, IDEMPOTENCY_ITEM: request.transact_put(status, body)}
        write_together(
            store, "test", items, {IDEMPOTENCY_ITEM: KeyTaken()}, otherwise=RuntimeError("race")
        )
        return status, body

    commit.calls = calls  # type: ignore[attr-defined]
    return commit


def _never() -> tuple[int, dict[str, Any]]:
    raise AssertionError("the work ran again for a key that already has a response")


def _record(store: Store, request: IdempotentRequest) -> dict[str, Any] | None:
    return store.get("read", RECORDS.name, {"scope_key": request.scope_key})


def test_a_new_key_has_nothing_to_replay(store, clock):
    assert _request(store).replay() is None


def test_the_first_response_is_the_answer_to_every_repeat(store, clock):
    request = _request(store)
    first = respond_once(request, _committing(store, request, 201, {"id": "t-1"}))
    assert (first.status_code, first.body) == (201, b'{"id":"t-1"}')
    clock.now += 3600
    again = respond_once(_request(store, key=request.scope_key.split("#", 1)[1]), _never)
    assert (again.status_code, again.body) == (201, b'{"id":"t-1"}')


def test_a_record_keeps_the_response_for_at_least_a_day(store, clock):
    assert RETENTION_SECONDS >= 24 * 3600
    request = _request(store)
    respond_once(request, _committing(store, request, 201, {"id": "t-2"}))
    record = _record(store, request)
    assert record is not None
    assert int(record["expires_at"]) == NOW + RETENTION_SECONDS
    assert int(record["status_code"]) == 201
    clock.now = NOW + RETENTION_SECONDS - 1  # the last second it holds
    assert request.replay() == StoredResponse(201, {"id": "t-2"})
    clock.now = NOW + RETENTION_SECONDS  # expired, even before the store's TTL sweep
    assert request.replay() is None
    clock.now = NOW + RETENTION_SECONDS + 3600  # and ever after
    assert request.replay() is None


def test_records_are_kept_a_day_and_ten_minutes():
    # A day, as api.md promises, and ten minutes for clocks and the TTL sweep; no
    # longer (every record is storage paid for).
    assert RETENTION_SECONDS == 24 * 3600 + 600


def test_a_stored_response_cannot_be_changed():
    stored = StoredResponse(201, {"id": "x"})
    with pytest.raises(FrozenInstanceError):
        stored.status_code = 500  # type: ignore[misc]


def test_an_expired_record_gives_way_to_new_work_and_a_live_one_does_not(store, clock):
    request = _request(store)
    respond_once(request, _committing(store, request, 201, {"id": "old"}))
    clock.now = NOW + RETENTION_SECONDS - 1
    live = _committing(store, request, 201, {"id": "new"})
    with pytest.raises(KeyTaken):
        live()  # the record's condition: the key is taken until it expires
    clock.now = NOW + RETENTION_SECONDS
    again = _committing(store, request, 201, {"id": "new"})
    answer = respond_once(request, again)
    assert (answer.status_code, answer.body) == (201, b'{"id":"new"}')
    assert again.calls == [1]  # type: ignore[attr-defined]


OTHER_REQUESTS = [
    {"payload": {"amount": "10.01"}},
    {"payload": {"amount": "10.03"}},
    {"payload": {"amount": "9.99"}},
    {"payload": {"amount": "10.00", "note": "x"}},
    {"payload": {}},
    {"operation": "withdraw"},
    {"operation": "buy"},
]


def test_other_requests_fingerprints_sort_on_both_sides_of_the_first():
    # So the refusal below is proven an equality check, not an ordering.
    first = _request(_Nowhere(), key="k")  # type: ignore[arg-type]
    others = [_request(_Nowhere(), key="k", **change).fingerprint for change in OTHER_REQUESTS]  # type: ignore[arg-type]
    assert {other < first.fingerprint for other in others} == {True, False}


class _Nowhere:
    """A store for requests only fingerprinted, never sent."""

    def table(self, name: str) -> str:
        return name


@pytest.mark.parametrize(
    "change",
    OTHER_REQUESTS,
    ids=["more", "more again", "less", "more fields", "empty body", "withdraw", "buy"],
)
def test_a_key_reused_for_another_request_is_refused(store, clock, change):
    key = secrets.token_hex(8)
    request = _request(store, key=key)
    respond_once(request, _committing(store, request, 201, {"id": "t-3"}))
    with pytest.raises(ApiError) as refused:
        respond_once(_request(store, key=key, **change), _never)
    assert (refused.value.status_code, refused.value.code) == (409, "IDEMPOTENCY_KEY_REUSED")


def test_the_same_request_in_another_key_order_is_the_same_request(store, clock):
    key = secrets.token_hex(8)
    payload = {"amount": "10.00", "currency": "USD"}
    request = _request(store, key=key, payload=payload)
    respond_once(request, _committing(store, request, 201, {"id": "t-4"}))
    reordered = {"currency": "USD", "amount": "10.00"}
    assert _request(store, key=key, payload=reordered).replay() == StoredResponse(
        201, {"id": "t-4"}
    )


def test_a_key_is_one_users(store, clock):
    key = secrets.token_hex(8)
    request = _request(store, key=key)
    respond_once(request, _committing(store, request, 201, {"id": "t-5"}))
    other = _request(store, user="bob", key=key)
    assert other.scope_key == f"bob#{key}"
    assert other.replay() is None


def test_a_business_refusal_is_remembered_and_repeated(store, clock):
    request = _request(store)

    def refuse() -> tuple[int, dict[str, Any]]:
        raise ApiError(422, "INSUFFICIENT_BALANCE", "Not enough cash.")

    first = respond_once(request, refuse)
    assert first.status_code == 422
    record = _record(store, request)
    assert record is not None
    assert int(record["status_code"]) == 422
    assert int(record["expires_at"]) == NOW + RETENTION_SECONDS
    again = respond_once(request, _never)
    assert (again.status_code, again.body) == (422, first.body)
    assert b'"code":"INSUFFICIENT_BALANCE"' in again.body


@pytest.mark.parametrize("status", [400, 404, 409, 503])
def test_other_errors_are_not_remembered(store, clock, status):
    request = _request(store)

    def fail() -> tuple[int, dict[str, Any]]:
        raise ApiError(status, "SOMETHING", "not a business refusal")

    with pytest.raises(ApiError):
        respond_once(request, fail)
    assert _record(store, request) is None


def test_without_a_key_a_refusal_is_raised_not_stored(store, clock):
    def refuse() -> tuple[int, dict[str, Any]]:
        raise ApiError(422, "INSUFFICIENT_BALANCE", "Not enough cash.")

    with pytest.raises(ApiError):
        respond_once(None, refuse)
    answer = respond_once(None, lambda: (201, {"id": "plain"}))
    assert (answer.status_code, answer.body) == (201, b'{"id":"plain"}')


class LookedEarly(IdempotentRequest):
    """A request that looked for a record just before a concurrent one wrote it."""

    looked = False

    def replay(self) -> StoredResponse | None:
        if not self.looked:
            self.looked = True
            return None
        return super().replay()


def test_a_concurrent_winner_s_response_is_the_answer(store, clock):
    key = secrets.token_hex(8)
    winner = _request(store, key=key)
    loser = LookedEarly(store, RECORDS.name, user="ann", operation="deposit", key=key, payload=BODY)
    respond_once(winner, _committing(store, winner, 201, {"id": "winner"}))
    late = _committing(store, loser, 201, {"id": "loser"})
    answer = respond_once(loser, late)  # its transaction fails on the record: KeyTaken
    assert late.calls == [1]  # type: ignore[attr-defined]
    assert (answer.status_code, answer.body) == (201, b'{"id":"winner"}')


def test_a_key_taken_with_no_record_left_asks_for_a_retry(store, clock):
    request = _request(store)

    def taken() -> tuple[int, dict[str, Any]]:
        raise KeyTaken

    with pytest.raises(ApiError) as conflict:
        respond_once(request, taken)
    assert (conflict.value.status_code, conflict.value.code) == (409, "CONFLICT")


def test_a_refusal_racing_a_winner_returns_the_winner_s_answer(store, clock):
    key = secrets.token_hex(8)
    winner, loser = _request(store, key=key), _request(store, key=key)
    respond_once(winner, _committing(store, winner, 201, {"id": "winner"}))
    stored = loser.remember_refusal(ApiError(422, "INSUFFICIENT_BALANCE", "Not enough cash."))
    assert stored == StoredResponse(201, {"id": "winner"})
    record = _record(store, loser)
    assert record is not None
    assert int(record["status_code"]) == 201  # the winner's record was not overwritten


def test_a_refusal_racing_another_request_with_the_key_is_refused(store, clock):
    key = secrets.token_hex(8)
    winner = _request(store, key=key)
    respond_once(winner, _committing(store, winner, 201, {"id": "winner"}))
    other = _request(store, key=key, payload={"amount": "99.00"})
    with pytest.raises(ApiError) as refused:
        other.remember_refusal(ApiError(422, "INSUFFICIENT_BALANCE", "Not enough cash."))
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
