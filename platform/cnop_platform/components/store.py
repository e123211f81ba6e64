"""The DynamoDB-compatible store of the local stack, running in the cluster."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from cnop_catalogue import STORE_PORT
from cnop_platform.components.pod import hardened_container_context, hardened_pod_context, labels
from cnop_platform.config import StackConfig


def in_cluster_store(config: StackConfig, opts: pulumi.ResourceOptions) -> None:
    """Deployment and ClusterIP Service of the store (DynamoDB Local, platform/store/)."""
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
                    security_context=hardened_pod_context(),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="store",
                            image=config.image("store"),
                            ports=[
                                k8s.core.v1.ContainerPortArgs(
                                    name="dynamodb", container_port=STORE_PORT
                                )
                            ],
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "100m", "memory": "256Mi"},
                                limits={"cpu": "1", "memory": "512Mi"},
                            ),
                            liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=tcp, period_seconds=10),
                            readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=tcp, period_seconds=5),
                            security_context=hardened_container_context(),
                            # The root is read-only; SQLite may spill temporary files.
                            volume_mounts=[
                                # A mount point in the container, not a file of ours.
                                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")  # noqa: S108
                            ],
                        )
                    ],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name="tmp",
                            empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi"),
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
            ports=[
                k8s.core.v1.ServicePortArgs(
                    name="dynamodb", port=STORE_PORT, target_port="dynamodb"
                )
            ],
        ),
        opts=opts,
    )
