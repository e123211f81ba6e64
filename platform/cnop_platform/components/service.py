"""cnop:app:Service: one deployable with its Deployment, Service, account, probes and scaling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from cnop_catalogue import Component
from cnop_platform.components.pod import hardened_pod_spec, labels
from cnop_platform.config import StackConfig


@dataclass(frozen=True)
class ServiceArgs:
    """What a Service needs beyond the catalogue entry."""

    component: Component
    config: StackConfig
    env: Mapping[str, str]
    secret_volume: str | None = None  # a Secret mounted read-only (auth's keyring only)
    identity_key: str | None = None  # this signer's identity key Secret (its pods alone)
    identity_public_keys: bool = False  # mount the callers' public keys (checking services)
    # Variables read from a ConfigMap key: (ConfigMap, key) by variable name.
    env_from_config: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Variables read from a Secret key: (Secret, key) by variable name.
    env_from_secret: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    pod_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


class Service(pulumi.ComponentResource):
    """Deployment, ClusterIP Service, ServiceAccount, PDB/HPA when scaled, ServiceMonitor."""

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cnop:app:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        config, component = args.config, args.component
        meta = k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=config.namespace, labels=labels(name)
        )
        self.account = k8s.core.v1.ServiceAccount(
            name,
            # No role annotation: on EKS, Pod Identity associates this account with its role.
            metadata=meta,
            automount_service_account_token=False,
            opts=child,
        )
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata=meta,
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=None if config.autoscaled else config.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels(name)),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels(name), annotations=dict(args.pod_annotations) or None
                    ),
                    spec=hardened_pod_spec(name, args),
                ),
            ),
            opts=child,
        )
        # Inside the cluster only: the public endpoint is the edge's (components/edge.py).
        self.service = k8s.core.v1.Service(
            name,
            metadata=meta,
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels(name),
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="http", port=component.port, target_port="http"
                    ),
                    k8s.core.v1.ServicePortArgs(
                        name="metrics", port=component.admin_port, target_port="metrics"
                    ),
                ],
            ),
            opts=child,
        )
        if config.autoscaled:
            _scaling(name, config, meta, child)
        k8s.apiextensions.CustomResource(
            name,
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=meta,
            spec={
                "selector": {"matchLabels": labels(name)},
                "endpoints": [
                    {
                        "port": "metrics",
                        "path": "/metrics",
                        "interval": "30s",
                    }
                ],
            },
            opts=child,
        )
        self.register_outputs({"service": self.service.metadata.name})


def _scaling(
    name: str, config: StackConfig, meta: k8s.meta.v1.ObjectMetaArgs, child: pulumi.ResourceOptions
) -> None:
    k8s.policy.v1.PodDisruptionBudget(
        name,
        metadata=meta,
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            min_available=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels(name))
        ),
        opts=child,
    )
    k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        metadata=meta,
        spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="Deployment", name=name
            ),
            min_replicas=config.replicas,
            max_replicas=config.max_replicas or config.replicas,
            metrics=[
                k8s.autoscaling.v2.MetricSpecArgs(
                    type="Resource",
                    resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                        name="cpu",
                        target=k8s.autoscaling.v2.MetricTargetArgs(
                            type="Utilization", average_utilization=70
                        ),
                    ),
                )
            ],
        ),
        opts=child,
    )
