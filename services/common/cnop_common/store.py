"""The DynamoDB client: pooled, timed, counted; table bootstrap; paged queries.

Table definitions are in schema.py; writes that must happen together, and how
their refusals are explained, in transactions.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cnop_common.errors import StoreUnavailable
from cnop_common.logging import get_logger
from cnop_common.metrics import STORE_CALLS, STORE_ERRORS
from cnop_common.middleware import current_route
from cnop_common.schema import TableSpec, key_schema

log = get_logger("store")


class Store:
    """A thread-safe DynamoDB client plus the platform's table names.

    The client comes from a boto3 resource so that Python values (Decimal,
    str, dict) are (de)serialised for us, on every call including
    TransactWriteItems.
    """

    def __init__(
        self,
        service: str,
        *,
        endpoint_url: str | None,
        region: str,
        table_prefix: str,
        timeout_seconds: float,
        pool_size: int = 64,
    ) -> None:
        self.service = service
        self.table_prefix = table_prefix
        config = Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            retries={"max_attempts": 2, "mode": "standard"},
            max_pool_connections=pool_size,
        )
        extra: dict[str, Any] = {}
        if endpoint_url:
            # The local store accepts any credentials; real AWS uses the default chain.
            extra = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        resource = boto3.session.Session().resource(
            "dynamodb", endpoint_url=endpoint_url, region_name=region, config=config, **extra
        )
        # Typed Any on purpose: this client takes and returns plain Python
        # values (the resource layer converts them), which the low-level
        # client's type stubs do not describe.
        self.client: Any = resource.meta.client
        # Every call the store makes, counted by the route that made it.
        self.client.meta.events.register("before-call.dynamodb", self._count_call)
        self._bootstrapped = threading.Event()

    def _count_call(self, model: Any, **_: Any) -> None:
        STORE_CALLS.labels(self.service, current_route(), model.name).inc()

    def table(self, logical_name: str) -> str:
        """Physical name of a logical table."""
        return f"{self.table_prefix}{logical_name}"

    def ensure_tables(self, specs: Iterable[TableSpec]) -> None:
        """Create the missing tables (idempotent) and switch on their TTL."""
        existing = set(self._list_tables())
        for spec in specs:
            name = self.table(spec.name)
            if name in existing:
                continue
            self._create_table(name, spec)
            log.info("table_created", table=name)
        self._bootstrapped.set()

    def _list_tables(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_tables")
        for page in paginator.paginate():
            yield from page.get("TableNames", [])

    def _create_table(self, name: str, spec: TableSpec) -> None:
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": spec.key_schema(),
            "AttributeDefinitions": spec.attribute_definitions(),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if spec.indexes:
            args["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": key_schema(index.hash_key, index.range_key),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in spec.indexes
            ]
        try:
            self.client.create_table(**args)
        except ClientError as exc:
            # Another replica created it between our list and our create.
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        self.client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        if spec.ttl_attribute:
            self.client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )

    def get(self, operation: str, logical_table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        """One item by key, read consistently; None when there is none."""
        with self.errors(operation):
            response = self.client.get_item(
                TableName=self.table(logical_table), Key=key, ConsistentRead=True
            )
        item = response.get("Item")
        return dict(item) if item is not None else None

    def check_tables(self, specs: Sequence[TableSpec]) -> None:
        """Raise StoreUnavailable unless every table answers (the readiness check)."""
        with self.errors("describe_table"):
            for spec in specs:
                self.client.describe_table(TableName=self.table(spec.name))

    @contextmanager
    def errors(self, operation: str) -> Iterator[None]:
        """Turn store failures into 503 STORE_UNAVAILABLE (business conditions pass through).

        A missing table means the store lost its data (a test platform's store
        keeps it in memory), so the next bootstrap check creates the tables again.
        """
        try:
            yield
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise
            if code == "ResourceNotFoundException":
                self._bootstrapped.clear()
            STORE_ERRORS.labels(self.service, operation).inc()
            # The store's message names the broken part of a rejected request
            # (ValidationException is our bug, not an outage); bounded in length.
            message = str(exc.response["Error"].get("Message", ""))[:300]
            log.error("store_error", operation=operation, error_code=code, error_message=message)
            raise StoreUnavailable() from exc
        except BotoCoreError as exc:
            STORE_ERRORS.labels(self.service, operation).inc()
            log.error("store_unreachable", operation=operation, error_type=type(exc).__name__)
            raise StoreUnavailable() from exc

    @property
    def bootstrapped(self) -> bool:
        """True once the tables are known to exist."""
        return self._bootstrapped.is_set()


def query_page(
    store: Store, operation: str, query: dict[str, Any], *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a query, skipping `offset` matches; also says whether more follow.

    DynamoDB pages by key, not by position, so an offset reads the items it
    skips; the API's pages are small and bounded (limit ≤ 250).
    """
    wanted = offset + limit + 1
    items: list[dict[str, Any]] = []
    with store.errors(operation):
        for page in store.client.get_paginator("query").paginate(**query):
            items.extend(page.get("Items", []))
            if len(items) >= wanted:
                break
    return items[offset : offset + limit], len(items) > offset + limit


def count_items(store: Store, operation: str, query: dict[str, Any]) -> int:
    """How many items a query matches (Select=COUNT across every page)."""
    total = 0
    with store.errors(operation):
        for page in store.client.get_paginator("query").paginate(Select="COUNT", **query):
            total += int(page.get("Count", 0))
    return total
