"""Table definitions as data: key schema, indexes and TTL.

The services' local bootstrap (store.Store.ensure_tables) and the Pulumi program
create tables from the same `TableSpec`s, so both have exactly the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

KeyType = Literal["S", "N"]


@dataclass(frozen=True, slots=True)
class Key:
    """One key attribute: its name and DynamoDB scalar type."""

    name: str
    type: KeyType = "S"


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A global secondary index (projection: all attributes)."""

    name: str
    hash_key: Key
    range_key: Key | None = None


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table as production declares it; `name` is the logical name before the prefix."""

    name: str
    hash_key: Key
    range_key: Key | None = None
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None
    owner: str = ""

    def key_schema(self) -> list[dict[str, str]]:
        """DynamoDB KeySchema for the table."""
        return key_schema(self.hash_key, self.range_key)

    def attribute_definitions(self) -> list[dict[str, str]]:
        """Every key attribute of the table and its indexes, once each."""
        keys: dict[str, str] = {}
        for key in (self.hash_key, self.range_key):
            if key is not None:
                keys[key.name] = key.type
        for index in self.indexes:
            for key in (index.hash_key, index.range_key):
                if key is not None:
                    keys[key.name] = key.type
        return [{"AttributeName": n, "AttributeType": t} for n, t in keys.items()]


def key_schema(hash_key: Key, range_key: Key | None) -> list[dict[str, str]]:
    """DynamoDB KeySchema for a table's or an index's keys."""
    schema = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key is not None:
        schema.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return schema
