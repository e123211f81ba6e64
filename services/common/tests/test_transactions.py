"""write_together against the real store: items by name, refusals by name (integration)."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest

from cnop_common.schema import Key, TableSpec
from cnop_common.store import Store
from cnop_common.transactions import write_together

pytestmark = pytest.mark.integration

ACCOUNTS = TableSpec("write-together-accounts", Key("name"), owner="test")


class RefusedError(Exception):
    pass


@pytest.fixture(scope="module")
def store(local_platform) -> Store:
    store = Store(
        "test",
        endpoint_url=local_platform.url("store"),
        region="us-east-1",
        table_prefix=f"t{secrets.token_hex(3)}-",
        timeout_seconds=5,
    )
    store.ensure_tables([ACCOUNTS])
    return store


def _debit(store: Store, name: str, amount: str) -> dict[str, object]:
    return {
        "Update": {
            "TableName": store.table(ACCOUNTS.name),
            "Key": {"name": name},
            "UpdateExpression": "SET balance = balance - :a",
            "ConditionExpression": "balance >= :a",
            "ExpressionAttributeValues": {":a": Decimal(amount)},
        }
    }


def _open(store: Store, name: str, balance: str) -> None:
    store.client.put_item(
        TableName=store.table(ACCOUNTS.name), Item={"name": name, "balance": Decimal(balance)}
    )


def _balance(store: Store, name: str) -> Decimal:
    item = store.client.get_item(
        TableName=store.table(ACCOUNTS.name), Key={"name": name}, ConsistentRead=True
    )["Item"]
    return Decimal(item["balance"])


def test_the_refusal_of_the_item_that_failed_whatever_its_position(store):
    rich, poor = f"rich-{secrets.token_hex(4)}", f"poor-{secrets.token_hex(4)}"
    _open(store, rich, "100")
    _open(store, poor, "1")
    items = {"rich": _debit(store, rich, "5"), "poor": _debit(store, poor, "5")}
    refusals = {"rich": RefusedError("rich"), "poor": RefusedError("poor")}
    with pytest.raises(RefusedError, match="poor"):
        write_together(store, "test", items, refusals, otherwise=RefusedError("race"))
    # All or nothing: the item that could go through did not.
    assert _balance(store, rich) == Decimal("100")
    reordered = {"poor": items["poor"], "rich": items["rich"]}
    with pytest.raises(RefusedError, match="poor"):
        write_together(store, "test", reordered, refusals, otherwise=RefusedError("race"))


def test_a_failure_no_refusal_names_is_the_otherwise(store):
    poor = f"poor-{secrets.token_hex(4)}"
    _open(store, poor, "1")
    with pytest.raises(RefusedError, match="race"):
        write_together(
            store, "test", {"poor": _debit(store, poor, "5")}, {}, otherwise=RefusedError("race")
        )


def test_the_first_named_refusal_wins_when_several_failed(store):
    one, two = f"a-{secrets.token_hex(4)}", f"b-{secrets.token_hex(4)}"
    _open(store, one, "1")
    _open(store, two, "1")
    items = {"one": _debit(store, one, "5"), "two": _debit(store, two, "5")}
    refusals = {"two": RefusedError("two"), "one": RefusedError("one")}
    with pytest.raises(RefusedError, match="two"):
        write_together(store, "test", items, refusals, otherwise=RefusedError("race"))


def test_writes_that_hold_go_through_together(store):
    rich = f"rich-{secrets.token_hex(4)}"
    _open(store, rich, "100")
    write_together(
        store, "test", {"rich": _debit(store, rich, "5")}, {}, otherwise=RefusedError("x")
    )
    assert _balance(store, rich) == Decimal("95")
