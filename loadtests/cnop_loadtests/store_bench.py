"""The local store's own speed: one conditional TransactWriteItems plus one consistent GetItem.

The pair every balance change makes (a conditional update of the account, a
conditional put of a new record, then a read of the result), sent one after
another from one client against a store, on a table of its own (deleted after).
Prints pairs per second and the latency percentiles; docs/capacity.md quotes a
run against `make up`'s store.

    .venv/bin/python -m cnop_loadtests.store_bench                     # make up's store
    .venv/bin/python -m cnop_loadtests.store_bench --endpoint http://127.0.0.1:14566 --pairs 1000
"""

from __future__ import annotations

import argparse
import time
import uuid

import boto3

from cnop_catalogue import STORE_PORT


def main() -> None:
    """Run the pairs and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", default=f"http://127.0.0.1:{STORE_PORT}")
    parser.add_argument("--pairs", type=int, default=300)
    args = parser.parse_args()
    client = boto3.client(
        "dynamodb",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the local store takes any key
    )
    table = f"bench-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        client.put_item(TableName=table, Item={"k": {"S": "account"}, "b": {"N": "1000000"}})
        latencies = []
        for n in range(args.pairs):
            start = time.perf_counter()
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"k": {"S": "account"}},
                            "UpdateExpression": "SET b = b - :one",
                            "ConditionExpression": "b >= :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"k": {"S": f"record-{n}"}},
                            "ConditionExpression": "attribute_not_exists(k)",
                        }
                    },
                ]
            )
            client.get_item(TableName=table, Key={"k": {"S": "account"}}, ConsistentRead=True)
            latencies.append(time.perf_counter() - start)
    finally:
        client.delete_table(TableName=table)
    latencies.sort()
    rate = len(latencies) / sum(latencies)
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    print(f"{args.endpoint}: {rate:.0f} pairs/s, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
