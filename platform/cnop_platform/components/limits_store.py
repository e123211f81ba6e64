"""cnop:security:LimitsStore: the Redis every gateway replica keeps its limits in.

AWS stacks: an ElastiCache replication group in the private subnets, TLS in
transit, encrypted at rest, an AUTH token from Pulumi secret config, reachable
only from the pod subnets on 6379 (security group) and, inside the cluster,
only from the gateway (its egress NetworkPolicy). Local cluster: a Redis
Deployment of its own, in memory, with a NetworkPolicy admitting the gateway
alone. Either way the gateway reads the store's URL from a Secret Pulumi
writes (`gateway-limits-store`): the endpoint and token are the stack's own.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from cnop_catalogue import LIMITS_STORE_PORT, LIMITS_STORE_USERS
from cnop_platform.components.netpol import declare_policies
from cnop_platform.components.pod import (
    SCRATCH,
    hardened_container_context,
    hardened_pod_context,
    labels,
    scratch_mount,
    scratch_volume,
    spread,
)
from cnop_platform.components.vpc import Network, pod_networks
from cnop_platform.config import StackConfig

NAME = "limits-store"
URL_SECRET = "gateway-limits-store"  # noqa: S105 - the Secret's name, not its value
URL_KEY = "url"
REDIS_IMAGE = "redis:7.2-alpine"
REDIS_UID = 999  # the image's own redis user


class LimitsStore(pulumi.ComponentResource):
    """The store, and the Secret with the URL the gateway reads."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        network: Network | None,
        apps: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:security:LimitsStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if network is not None:
            url = _elasticache(config, network, child)
        else:
            url = pulumi.Output.from_input(
                f"redis://{NAME}.{config.namespace}.svc.cluster.local:{LIMITS_STORE_PORT}/0"
            )
            if apps:
                _in_cluster(config, child)
        k8s.core.v1.Secret(
            URL_SECRET,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=URL_SECRET, namespace=config.namespace, labels=labels("gateway")
            ),
            type="Opaque",
            string_data={URL_KEY: url},
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stringData"]),
        )
        self.register_outputs({})


def _elasticache(
    config: StackConfig, network: Network, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    token = pulumi.Config("cnop").require_secret("limitsStoreToken")
    subnets = aws.elasticache.SubnetGroup(
        NAME,
        description="The gateways' limits store: private subnets only",
        subnet_ids=[subnet.id for subnet in network.private],
        opts=opts,
    )
    group = aws.ec2.SecurityGroup(
        NAME,
        description="Redis from the pod subnets only",
        vpc_id=network.vpc.id,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=LIMITS_STORE_PORT,
                to_port=LIMITS_STORE_PORT,
                cidr_blocks=pod_networks(config),
            )
        ],
        opts=opts,
    )
    redis = aws.elasticache.ReplicationGroup(
        NAME,
        replication_group_id=f"cnop-{config.environment}-limits",
        description="Rate limits, login guard and revocations shared by the gateway replicas",
        engine="redis",
        engine_version="7.1",
        node_type="cache.t4g.micro",
        num_cache_clusters=2 if config.autoscaled else 1,
        automatic_failover_enabled=config.autoscaled,
        multi_az_enabled=config.autoscaled,
        port=LIMITS_STORE_PORT,
        subnet_group_name=subnets.name,
        security_group_ids=[group.id],
        transit_encryption_enabled=True,
        at_rest_encryption_enabled=True,
        auth_token=token,
        opts=opts,
    )
    return pulumi.Output.all(token, redis.primary_endpoint_address).apply(
        lambda values: f"rediss://:{values[0]}@{values[1]}:{LIMITS_STORE_PORT}/0"
    )


def _in_cluster(config: StackConfig, opts: pulumi.ResourceOptions) -> None:
    meta = k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=config.namespace, labels=labels(NAME))
    probe = k8s.core.v1.ProbeArgs(
        tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="redis"), period_seconds=10
    )
    context = hardened_pod_context()
    k8s.apps.v1.Deployment(
        NAME,
        metadata=meta,
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels(NAME)),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(NAME)),
                spec=k8s.core.v1.PodSpecArgs(
                    automount_service_account_token=False,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=REDIS_UID,
                        run_as_group=REDIS_UID,
                        seccomp_profile=context.seccomp_profile,
                    ),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name=NAME,
                            image=REDIS_IMAGE,
                            # In memory only: counters that live a minute need no disk.
                            args=["--save", "", "--appendonly", "no", "--dir", SCRATCH],
                            ports=[
                                k8s.core.v1.ContainerPortArgs(
                                    name="redis", container_port=LIMITS_STORE_PORT
                                )
                            ],
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "50m", "memory": "64Mi"},
                                limits={"cpu": "500m", "memory": "128Mi"},
                            ),
                            liveness_probe=probe,
                            readiness_probe=probe,
                            security_context=hardened_container_context(),
                            volume_mounts=[scratch_mount()],
                        )
                    ],
                    volumes=[scratch_volume()],
                    topology_spread_constraints=spread(NAME),
                ),
            ),
        ),
        opts=opts,
    )
    k8s.core.v1.Service(
        NAME,
        metadata=meta,
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=labels(NAME),
            ports=[
                k8s.core.v1.ServicePortArgs(
                    name="redis", port=LIMITS_STORE_PORT, target_port="redis"
                )
            ],
        ),
        opts=opts,
    )
    ingress: dict[str, Any] = {
        "podSelector": {"matchLabels": labels(NAME)},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"podSelector": {"matchLabels": labels(user)}} for user in LIMITS_STORE_USERS
                ],
                "ports": [{"protocol": "TCP", "port": LIMITS_STORE_PORT}],
            }
        ],
    }
    declare_policies({f"{NAME}-ingress": ingress}, config.namespace, opts)
