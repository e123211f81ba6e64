"""cnop:verify:PostDeployCheck: after every Argo CD sync, the policy suites and a smoke load run.

An Argo CD PostSync hook Job runs the verification image (loadtests/Dockerfile)
against the in-cluster gateway: auth, tracing and observability policies and a
smoke Locust run gated on the SLOs. A failed Job marks the sync failed. Its
NetworkPolicy lets it reach the gateway's API port and the query APIs of
Prometheus, Loki and Tempo, nothing else (not the gateway's admin port: the
auth suite checks that it cannot).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from cnop_catalogue import BY_NAME, VERIFY_IMAGE
from cnop_platform.components.monitoring_values import NAMESPACE as MONITORING
from cnop_platform.components.netpol import declare_policies, in_monitoring
from cnop_platform.components.pod import (
    SCRATCH,
    hardened_container_context,
    hardened_pod_context,
    labels,
    scratch_mount,
    scratch_volume,
)
from cnop_platform.config import StackConfig

NAME = "verify"
# The monitoring stack's query APIs (Service → pod port, which NetworkPolicy sees).
PROMETHEUS = (f"http://kube-prometheus-stack-prometheus.{MONITORING}.svc.cluster.local:9090", 9090)
LOKI = (f"http://loki-gateway.{MONITORING}.svc.cluster.local", 8080)  # nginx in the pod: 8080
TEMPO = (f"http://tempo.{MONITORING}.svc.cluster.local:3200", 3200)
DEADLINE_SECONDS = 900
RESOURCES = {
    "requests": {"cpu": "250m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def verify_env(config: StackConfig) -> dict[str, str]:
    """Where the suites find the platform from inside the cluster (tests/postdeploy/support.py)."""
    gateway = BY_NAME["gateway"]
    host = f"gateway.{config.namespace}.svc.cluster.local"
    return {
        "CNOP_TARGET_GATEWAY": f"http://{host}:{gateway.port}",
        "CNOP_TARGET_ADMIN": f"http://{host}:{gateway.metrics_port}",
        "CNOP_TARGET_ADMIN_EXPOSED": "false",
        "CNOP_TARGET_PROMETHEUS": PROMETHEUS[0],
        "CNOP_TARGET_LOKI": LOKI[0],
        "CNOP_TARGET_TEMPO": TEMPO[0],
        "CNOP_TARGET_WAIT_SECONDS": "180",
        "CNOP_MIN_RPS": str(config.load_min_rps),
    }


# The query APIs the check reads, as NetworkPolicy peers with their pod ports: its
# egress here, their ingress in the monitoring namespace (monitoring.py).
QUERIED = (
    (in_monitoring("prometheus"), PROMETHEUS[1]),
    (in_monitoring("loki", "gateway"), LOKI[1]),
    (in_monitoring("tempo"), TEMPO[1]),
)


def verify_egress() -> list[dict[str, Any]]:
    """The gateway's API port, and the query APIs of Prometheus, Loki and Tempo."""
    return [
        {
            "to": [{"podSelector": {"matchLabels": labels("gateway")}}],
            "ports": [{"protocol": "TCP", "port": BY_NAME["gateway"].port}],
        },
        *({"to": [peer], "ports": [{"protocol": "TCP", "port": port}]} for peer, port in QUERIED),
    ]


class PostDeployCheck(pulumi.ComponentResource):
    """The PostSync hook Job, its ServiceAccount and its NetworkPolicy."""

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:verify:PostDeployCheck", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = config.namespace
        k8s.core.v1.ServiceAccount(
            NAME,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=ns, labels=labels(NAME)),
            automount_service_account_token=False,
            opts=child,
        )
        declare_policies(
            {
                f"{NAME}-egress": {
                    "podSelector": {"matchLabels": labels(NAME)},
                    "policyTypes": ["Egress"],
                    "egress": verify_egress(),
                }
            },
            ns,
            child,
        )
        k8s.batch.v1.Job(
            NAME,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=NAME,
                namespace=ns,
                labels=labels(NAME),
                annotations={
                    # Runs after every sync; its failure fails the sync. The last run's
                    # Job stays for `kubectl logs job/verify` until the next sync.
                    "argocd.argoproj.io/hook": "PostSync",
                    "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
                },
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=0,  # a failed verification is a verdict, not a flake to retry
                active_deadline_seconds=DEADLINE_SECONDS,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(NAME)),
                    spec=_pod(config),
                ),
            ),
            opts=child,
        )
        self.register_outputs({})


def _pod(config: StackConfig) -> k8s.core.v1.PodSpecArgs:
    return k8s.core.v1.PodSpecArgs(
        service_account_name=NAME,
        automount_service_account_token=False,
        restart_policy="Never",
        security_context=hardened_pod_context(),
        containers=[
            k8s.core.v1.ContainerArgs(
                name=NAME,
                image=config.image(VERIFY_IMAGE),
                args=["--smoke", "--reports", f"{SCRATCH}/reports"],
                env=[
                    k8s.core.v1.EnvVarArgs(name=k, value=v)
                    for k, v in sorted(verify_env(config).items())
                ],
                resources=k8s.core.v1.ResourceRequirementsArgs(
                    requests=RESOURCES["requests"], limits=RESOURCES["limits"]
                ),
                security_context=hardened_container_context(),
                volume_mounts=[scratch_mount()],
            )
        ],
        volumes=[scratch_volume()],
    )
