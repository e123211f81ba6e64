"""cnop:verify:LoadGenerator: Locust master and workers in the cluster, for load beyond a laptop.

The same locustfile as everywhere (the verification image), against the
in-cluster gateway. Off by default: both Deployments have no replicas until the
stack sets `cnop:loadGenerator: true`; then the master waits for the stack's
`cnop:loadWorkers` workers. Reach its web UI with
`kubectl -n cnop port-forward deploy/loadtest-master 8089`.

Every virtual user of a worker sends from that worker pod's address, so the
gateway's per-address limit applies per worker (429s are counted apart).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from cnop_catalogue import BY_NAME, VERIFY_IMAGE
from cnop_platform.components.netpol import declare_policies
from cnop_platform.components.pod import (
    SCRATCH,
    hardened_container_context,
    hardened_pod_context,
    labels,
    scratch_mount,
    scratch_volume,
)
from cnop_platform.config import StackConfig

NAME = "loadtest"
MASTER_PORT = 5557  # Locust's master ↔ worker port
UI_PORT = 8089
RESOURCES = {
    "requests": {"cpu": "500m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def role_labels(role: str) -> dict[str, str]:
    """Labels of the master's or the workers' pods."""
    return {**labels(NAME), "app.kubernetes.io/component": role}


def locust_args(role: str, config: StackConfig) -> list[str]:
    """The command line of a master or a worker."""
    locustfile = ["-f", "/app/loadtests/locustfile.py"]
    if role == "worker":
        return [
            *locustfile,
            "--worker",
            f"--master-host={NAME}-master",
            f"--master-port={MASTER_PORT}",
        ]
    gateway = BY_NAME["gateway"]
    host = f"http://gateway.{config.namespace}.svc.cluster.local:{gateway.port}"
    return [
        *locustfile,
        "--master",
        f"--master-bind-port={MASTER_PORT}",
        f"--expect-workers={max(1, config.load_workers)}",
        f"--host={host}",
        f"--cnop-steady-rps={config.load_steady_rps}",
    ]


def policies(config: StackConfig) -> dict[str, dict[str, Any]]:
    """Workers may reach the gateway's API port and the master; the master accepts only workers."""
    worker = {"podSelector": {"matchLabels": role_labels("worker")}}
    return {
        f"{NAME}-worker-egress": {
            "podSelector": {"matchLabels": role_labels("worker")},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"podSelector": {"matchLabels": labels("gateway")}}],
                    "ports": [{"protocol": "TCP", "port": BY_NAME["gateway"].port}],
                },
                {
                    "to": [{"podSelector": {"matchLabels": role_labels("master")}}],
                    "ports": [{"protocol": "TCP", "port": MASTER_PORT}],
                },
            ],
        },
        f"{NAME}-master-ingress": {
            "podSelector": {"matchLabels": role_labels("master")},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [worker], "ports": [{"protocol": "TCP", "port": MASTER_PORT}]}],
        },
    }


class LoadGenerator(pulumi.ComponentResource):
    """Locust master (with its Service) and workers, scaled to zero unless switched on."""

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:verify:LoadGenerator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = config.namespace
        on = config.load_generator
        k8s.core.v1.ServiceAccount(
            NAME,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=ns, labels=labels(NAME)),
            automount_service_account_token=False,
            opts=child,
        )
        for role, replicas in (
            ("master", 1 if on else 0),
            ("worker", config.load_workers if on else 0),
        ):
            _deployment(f"{NAME}-{role}", role, replicas, config, child)
        k8s.core.v1.Service(
            f"{NAME}-master",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{NAME}-master", namespace=ns, labels=role_labels("master")
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=role_labels("master"),
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="workers", port=MASTER_PORT, target_port=MASTER_PORT
                    )
                ],
            ),
            opts=child,
        )
        declare_policies(policies(config), ns, child)
        self.register_outputs({})


def _deployment(
    name: str, role: str, replicas: int, config: StackConfig, opts: pulumi.ResourceOptions
) -> None:
    ports = (
        [
            k8s.core.v1.ContainerPortArgs(name="workers", container_port=MASTER_PORT),
            k8s.core.v1.ContainerPortArgs(name="ui", container_port=UI_PORT),
        ]
        if role == "master"
        else []
    )
    k8s.apps.v1.Deployment(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=config.namespace, labels=role_labels(role)
        ),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=role_labels(role)),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=role_labels(role)),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=NAME,
                    automount_service_account_token=False,
                    security_context=hardened_pod_context(),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="locust",
                            image=config.image(VERIFY_IMAGE),
                            command=["locust"],
                            args=locust_args(role, config),
                            env=[k8s.core.v1.EnvVarArgs(name="HOME", value=SCRATCH)],
                            ports=ports,
                            liveness_probe=_probe(role),
                            readiness_probe=_probe(role),
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests=RESOURCES["requests"], limits=RESOURCES["limits"]
                            ),
                            security_context=hardened_container_context(),
                            volume_mounts=[scratch_mount()],
                        )
                    ],
                    volumes=[scratch_volume()],
                ),
            ),
        ),
        opts=opts,
    )


def _probe(role: str) -> k8s.core.v1.ProbeArgs:
    """The master: its web UI answers. A worker: it can reach its master (else it is useless)."""
    if role == "master":
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path="/", port="ui"), period_seconds=10
        )
    reach = f"import socket; socket.create_connection(('{NAME}-master', {MASTER_PORT}), 3).close()"
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=["python", "-c", reach]), period_seconds=15
    )
