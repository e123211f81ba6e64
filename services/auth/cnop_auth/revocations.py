"""Revoked token ids in DynamoDB, so every replica denies them; TTL drops them at expiry."""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


class StoreDown(Exception):  # noqa: N818 - a state, named as the API names it
    """The revocation store did not answer; validation must fail closed."""


class Revocations:
    """Read and write the revoked-token table."""

    def __init__(
        self, *, table: str, endpoint_url: str | None, region: str, timeout_seconds: float
    ) -> None:
        self.table = table
        extra: dict[str, Any] = {}
        if endpoint_url:
            extra = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        self.client: Any = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                connect_timeout=timeout_seconds,
                read_timeout=timeout_seconds,
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=64,
            ),
            **extra,
        )

    def ensure_table(self) -> None:
        """Create the table (with TTL) when missing; harmless when it exists."""
        try:
            self.client.describe_table(TableName=self.table)
            return
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        try:
            self.client.create_table(
                TableName=self.table,
                KeySchema=[{"AttributeName": "jti", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "jti", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        self.client.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        self.client.update_time_to_live(
            TableName=self.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )

    def is_revoked(self, jti: str) -> bool:
        """True when the token id was revoked (and has not expired yet)."""
        try:
            item = self.client.get_item(
                TableName=self.table, Key={"jti": {"S": jti}}, ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise StoreDown from exc
        return item is not None

    def revoke(self, jti: str, expires_at: int) -> None:
        """Deny the token id until it expires anyway."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "jti": {"S": jti},
                    "expires_at": {"N": str(expires_at)},
                    "revoked_at": {"N": str(int(time.time()))},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreDown from exc

    def check(self) -> None:
        """Readiness: the table answers."""
        try:
            self.client.describe_table(TableName=self.table)
        except (ClientError, BotoCoreError) as exc:
            raise StoreDown from exc
