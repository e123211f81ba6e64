"""cnop:data:Data: the DynamoDB tables, from the same definitions the services create locally.

AWS stacks: on-demand tables with point-in-time recovery, encryption, TTL and
(prod) deletion protection, and per service an IAM role scoped to exactly the
tables it uses, assumed through its Kubernetes service account (IRSA). The
local stack runs the DynamoDB-compatible store in the cluster instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from cnop_common.store import Key, TableSpec
from cnop_order import tables as order_tables
from cnop_platform.components.iam import service_role
from cnop_platform.components.store import in_cluster_store
from cnop_platform.config import StackConfig
from cnop_user import tables as user_tables

# The auth service keeps its own code; its one table is declared here from the
# same facts (key `jti`, TTL `expires_at`) as cnop_auth.revocations.
AUTH_REVOKED = TableSpec(
    "auth-revoked-tokens", Key("jti"), ttl_attribute="expires_at", owner="auth"
)
TABLES: tuple[TableSpec, ...] = (*user_tables.OWN_TABLES, *order_tables.OWN_TABLES, AUTH_REVOKED)
# Which tables each service reads and writes (a trade writes the user tables).
ACCESS: Mapping[str, tuple[str, ...]] = {
    "user": tuple(spec.name for spec in user_tables.OWN_TABLES),
    "order": tuple(spec.name for spec in (*order_tables.OWN_TABLES, *order_tables.USED_TABLES)),
    "auth": (AUTH_REVOKED.name,),
}
# Services that talk to the store: their network egress, store settings and IAM follow.
STORE_USERS = tuple(sorted(ACCESS))


def table_prefix(config: StackConfig) -> str:
    """Table names are prefixed per environment: cnop-<env>-<logical name>."""
    return f"cnop-{config.environment}-"


class Data(pulumi.ComponentResource):
    """Tables and per-service access, or the in-cluster store."""

    role_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        config: StackConfig,
        oidc: tuple[pulumi.Output[str], pulumi.Output[str]] | None,
        apps: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:data:Data", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_arns = {}
        if config.store == "in-cluster":
            if apps:
                in_cluster_store(config, child)
        else:
            tables = {spec.name: _table(spec, config, child) for spec in TABLES}
            if oidc is not None:
                for service, names in ACCESS.items():
                    self.role_arns[service] = service_role(
                        service, [tables[n].arn for n in names], config, oidc, child
                    )
        self.register_outputs({})


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
                hash_key=index.hash_key.name,
                range_key=index.range_key.name if index.range_key else None,
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
        opts=opts,
    )
