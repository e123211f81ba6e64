"""cnop:app:Service: one deployable with its Deployment, Service, account, probes and scaling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from cnop_platform.catalogue import Component
from cnop_platform.config import StackConfig

RESOURCES = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}
UID = 10001


def labels(name: str) -> dict[str, str]:
    """The labels that select a component's pods (one name everywhere)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "cnop"}


@dataclass(frozen=True)
class ServiceArgs:
    """What a Service needs beyond the catalogue entry."""

    component: Component
    config: StackConfig
    env: Mapping[str, str]
    secret_volume: str | None = None  # a Secret mounted read-only (auth's keyring only)
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


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
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=name,
                namespace=config.namespace,
                labels=labels(name),
                annotations=dict(args.service_account_annotations),
            ),
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
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(name)),
                    spec=_pod_spec(name, args),
                ),
            ),
            opts=child,
        )
        ports = [k8s.core.v1.ServicePortArgs(name="http", port=component.port, target_port="http")]
        if component.admin_port:
            ports.append(
                k8s.core.v1.ServicePortArgs(
                    name="metrics", port=component.admin_port, target_port="metrics"
                )
            )
        exposed = component.public and config.expose == "loadbalancer"
        self.service = k8s.core.v1.Service(
            name,
            metadata=meta,
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer" if exposed else "ClusterIP",
                selector=labels(name),
                ports=ports,
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
                        "port": "metrics" if component.admin_port else "http",
                        "path": "/metrics",
                        "interval": "30s",
                    }
                ],
            },
            opts=child,
        )
        self.register_outputs({"service": self.service.metadata.name})


def _pod_spec(name: str, args: ServiceArgs) -> k8s.core.v1.PodSpecArgs:
    component = args.component
    ports = [k8s.core.v1.ContainerPortArgs(name="http", container_port=component.port)]
    if component.admin_port:
        ports.append(
            k8s.core.v1.ContainerPortArgs(name="metrics", container_port=component.admin_port)
        )
    mounts = [k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")]  # noqa: S108
    volumes = [k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())]
    if args.secret_volume:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(
                name="signing-keys", read_only=True, mount_path="/var/run/secrets/cnop"
            )
        )
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name="signing-keys",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=args.secret_volume, default_mode=0o400
                ),
            )
        )
    return k8s.core.v1.PodSpecArgs(
        service_account_name=name,
        automount_service_account_token=False,
        security_context=k8s.core.v1.PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=UID,
            run_as_group=UID,
            fs_group=UID,
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        containers=[
            k8s.core.v1.ContainerArgs(
                name=name,
                image=args.config.image(name),
                ports=ports,
                env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in sorted(args.env.items())],
                resources=k8s.core.v1.ResourceRequirementsArgs(
                    requests=RESOURCES["requests"], limits=RESOURCES["limits"]
                ),
                liveness_probe=k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/health", port="http"),
                    period_seconds=10,
                    failure_threshold=3,
                ),
                readiness_probe=k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/ready", port="http"),
                    period_seconds=5,
                    failure_threshold=2,
                ),
                security_context=k8s.core.v1.SecurityContextArgs(
                    run_as_non_root=True,
                    read_only_root_filesystem=True,
                    allow_privilege_escalation=False,
                    capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                ),
                volume_mounts=mounts,
            )
        ],
        volumes=volumes,
    )


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
