"""cnop:data:Data: the DynamoDB tables, from the same definitions the services create locally.

AWS stacks: on-demand tables with point-in-time recovery, encryption, TTL and
(prod) deletion protection, and per service an IAM role scoped to exactly the
tables it uses, handed to its service account by EKS Pod Identity. The
local stack runs the DynamoDB-compatible store in the cluster instead.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from cnop_common.schema import TableSpec
from cnop_platform.components.identity import pod_identity, policy_document
from cnop_platform.components.store import in_cluster_store
from cnop_platform.config import StackConfig
from cnop_platform.tables import ACCESS, TABLES


def pod_identity_accounts(config: StackConfig) -> tuple[str, ...]:
    """The app namespace's service accounts that EKS Pod Identity hands an AWS role:
    each service with DynamoDB tables, where the stack runs DynamoDB on EKS. Their pods
    fetch credentials from the node's Pod Identity agent (components/network.py)."""
    if config.store == "in-cluster" or not config.create_cluster:
        return ()
    return tuple(sorted(ACCESS))


def table_prefix(config: StackConfig) -> str:
    """Table names are prefixed per environment: cnop-<env>-<logical name>."""
    return f"cnop-{config.environment}-"


class Data(pulumi.ComponentResource):
    """Tables and per-service access, or the in-cluster store."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        cluster_name: pulumi.Output[str] | None,
        apps: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:data:Data", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if config.store == "in-cluster":
            if apps:
                in_cluster_store(config, child)
        else:
            tables = {spec.name: _table(spec, config, child) for spec in TABLES}
            for service in pod_identity_accounts(config):
                assert cluster_name is not None  # Pod Identity only where we made the cluster
                pod_identity(
                    f"{service}-dynamodb",
                    cluster_name=cluster_name,
                    namespace=config.namespace,
                    service_account=service,
                    policy=_table_policy([tables[n].arn for n in ACCESS[service]]),
                    opts=child,
                )
        self.register_outputs({})


def _table_policy(arns: list[pulumi.Output[str]]) -> pulumi.Output[str]:
    """Item access to exactly these tables and their indexes: no Scan, no table admin."""
    return pulumi.Output.all(*arns).apply(
        lambda resolved: policy_document(
            {
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                    "dynamodb:DescribeTable",
                    "dynamodb:ConditionCheckItem",
                ],
                "Resource": [*resolved, *(f"{arn}/index/*" for arn in resolved)],
            }
        )
    )


def _table(
    spec: TableSpec, config: StackConfig, opts: pulumi.ResourceOptions
) -> aws.dynamodb.Table:
    attributes = {a["AttributeName"]: a["AttributeType"] for a in spec.attribute_definitions()}
    return aws.dynamodb.Table(
        spec.name,
        name=f"{table_prefix(config)}{spec.name}",
        billing_mode="PAY_PER_REQUEST",
        hash_key=spec.hash_key.name,
        range_key=spec.range_key.name if spec.range_key else None,
        attributes=[aws.dynamodb.TableAttributeArgs(name=n, type=t) for n, t in attributes.items()],
        global_secondary_indexes=[
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=index.name,
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=key.name, key_type=key_type
                    )
                    for key, key_type in ((index.hash_key, "HASH"), (index.range_key, "RANGE"))
                    if key is not None
                ],
                projection_type="ALL",
            )
            for index in spec.indexes
        ],
        ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True)
        if spec.ttl_attribute
        else None,
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
        deletion_protection_enabled=config.deletion_protection,
        tags={"app": "cnop", "environment": config.environment, "owner": spec.owner},
        # Where tables are deletion-protected, Pulumi refuses to delete them too.
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=config.deletion_protection)
        ),
    )
