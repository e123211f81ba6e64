"""cnop:data:Data: the DynamoDB tables, from the same definitions the services create locally.

AWS stacks: on-demand tables with point-in-time recovery, encryption, TTL and
(prod) deletion protection, and per service an IAM role scoped to exactly the
tables it uses, assumed through its Kubernetes service account (IRSA). The
local stack runs the DynamoDB-compatible store in the cluster instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from cnop_common.store import Key, TableSpec
from cnop_order import tables as order_tables
from cnop_platform.components.service import labels
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
                _in_cluster_store(config, child)
        else:
            tables = {spec.name: _table(spec, config, child) for spec in TABLES}
            if oidc is not None:
                for service, names in ACCESS.items():
                    self.role_arns[service] = _service_role(
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


def _service_role(
    service: str,
    table_arns: list[pulumi.Output[str]],
    config: StackConfig,
    oidc: tuple[pulumi.Output[str], pulumi.Output[str]],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    provider_arn, issuer = oidc
    subject = f"system:serviceaccount:{config.namespace}:{service}"
    trust = pulumi.Output.all(provider_arn, issuer).apply(
        lambda v: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Principal": {"Federated": v[0]},
                        "Condition": {
                            "StringEquals": {f"{v[1].removeprefix('https://')}:sub": subject}
                        },
                    }
                ],
            }
        )
    )
    role = aws.iam.Role(f"{service}-dynamodb", assume_role_policy=trust, opts=opts)
    policy = pulumi.Output.all(*table_arns).apply(
        lambda arns: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "dynamodb:GetItem",
                            "dynamodb:PutItem",
                            "dynamodb:UpdateItem",
                            "dynamodb:DeleteItem",
                            "dynamodb:Query",
                            "dynamodb:DescribeTable",
                            "dynamodb:ConditionCheckItem",
                        ],
                        "Resource": [*arns, *(f"{arn}/index/*" for arn in arns)],
                    }
                ],
            }
        )
    )
    aws.iam.RolePolicy(f"{service}-dynamodb", role=role.id, policy=policy, opts=opts)
    return role.arn


def _in_cluster_store(config: StackConfig, opts: pulumi.ResourceOptions) -> None:
    meta = k8s.meta.v1.ObjectMetaArgs(
        name="store", namespace=config.namespace, labels=labels("store")
    )
    tcp = k8s.core.v1.TCPSocketActionArgs(port="dynamodb")
    k8s.apps.v1.Deployment(
        "store",
        metadata=meta,
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels("store")),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels("store")),
                spec=k8s.core.v1.PodSpecArgs(
                    automount_service_account_token=False,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=10001,
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="store",
                            image=config.image("store"),
                            ports=[
                                k8s.core.v1.ContainerPortArgs(name="dynamodb", container_port=4566)
                            ],
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "100m", "memory": "256Mi"},
                                limits={"cpu": "1", "memory": "512Mi"},
                            ),
                            liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=tcp, period_seconds=10),
                            readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=tcp, period_seconds=5),
                            security_context=k8s.core.v1.SecurityContextArgs(
                                run_as_non_root=True,
                                read_only_root_filesystem=True,
                                allow_privilege_escalation=False,
                                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                            ),
                        )
                    ],
                ),
            ),
        ),
        opts=opts,
    )
    k8s.core.v1.Service(
        "store",
        metadata=meta,
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=labels("store"),
            ports=[k8s.core.v1.ServicePortArgs(name="dynamodb", port=4566, target_port="dynamodb")],
        ),
        opts=opts,
    )
