"""cnop:observability:Monitoring: kube-prometheus-stack with our rules, dashboards and routing.

Rules and dashboards are the committed generated files, shipped unchanged:
PrometheusRule objects carry the rule groups, ConfigMaps carry the dashboard
JSON byte for byte for Grafana's sidecar (one folder per area). Logs go
through Alloy to Loki with request and trace ids as structured metadata;
traces go over OTLP to Tempo. On AWS, Loki keeps its chunks in an S3 bucket of
this stack, reached through Pod Identity.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from cnop_alerts.generate import GENERATED as RULES
from cnop_dashboards.generate import GENERATED as DASHBOARDS
from cnop_platform.components.helm import release
from cnop_platform.components.identity import pod_identity, policy_document
from cnop_platform.components.monitoring_values import (
    CHARTS,
    GRAFANA_ADMIN_SECRET,
    LOKI_ACCOUNT,
    NAMESPACE,
    OTLP_HTTP_PORT,
    Receiver,
    chart_values,
)
from cnop_platform.components.netpol import (
    declare_policies,
    in_monitoring,
    in_namespace,
    isolated_namespace,
)
from cnop_platform.components.pod import labels
from cnop_platform.components.verification import NAME as VERIFY
from cnop_platform.components.verification import QUERIED
from cnop_platform.config import StackConfig

OTLP_ENDPOINT = f"http://tempo.{NAMESPACE}.svc.cluster.local:{OTLP_HTTP_PORT}"


def rule_groups(file_name: str) -> list[dict[str, Any]]:
    """The groups of one generated rule file."""
    return list(yaml.safe_load((RULES / file_name).read_text())["groups"])


def dashboard_files() -> dict[str, Path]:
    """Every generated dashboard by name."""
    return {path.stem: path for path in sorted(DASHBOARDS.glob("*.json"))}


class Monitoring(pulumi.ComponentResource):
    """The monitoring stack and everything of ours it loads."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        apps: bool,
        cluster_name: pulumi.Output[str] | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:observability:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            NAMESPACE, metadata=k8s.meta.v1.ObjectMetaArgs(name=NAMESPACE), opts=child
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        admin = _grafana_admin(after)
        declare_policies(monitoring_ingress(config), NAMESPACE, after)
        loki = _loki_storage(config, cluster_name, child) if cluster_name is not None else None
        bucket, identity = loki if loki else (None, [])
        self._releases(
            config,
            _receiver(config),
            bucket,
            pulumi.ResourceOptions.merge(
                after, pulumi.ResourceOptions(depends_on=[*identity, admin])
            ),
        )
        if apps:
            self._rules_and_dashboards(config, after)
        self.register_outputs({"otlp_endpoint": OTLP_ENDPOINT})

    def _releases(
        self,
        config: StackConfig,
        receiver: Receiver,
        bucket: pulumi.Output[str] | None,
        opts: pulumi.ResourceOptions,
    ) -> None:
        values = chart_values(config, receiver, bucket)
        first: list[pulumi.Resource] = []
        for chart, pin in CHARTS.items():
            installed = release(
                chart,
                pin,
                namespace=NAMESPACE,
                values=values[chart],
                # kube-prometheus-stack brings the CRDs the others' monitors use.
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=first)),
            )
            first = first or [installed]

    def _rules_and_dashboards(self, config: StackConfig, opts: pulumi.ResourceOptions) -> None:
        for file_name in ("recording-rules.yml", "alert-rules.yml"):
            rule_name = f"cnop-{file_name.removesuffix('.yml')}"
            k8s.apiextensions.CustomResource(
                rule_name,
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=rule_name,
                    namespace=config.namespace,
                    labels={"app.kubernetes.io/part-of": "cnop"},
                ),
                spec={"groups": rule_groups(file_name)},
                opts=opts,
            )
        for name, path in dashboard_files().items():
            area = json.loads(path.read_text())["tags"][2]
            k8s.core.v1.ConfigMap(
                f"dashboard-{name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"dashboard-{name}",
                    namespace=NAMESPACE,
                    labels={"grafana_dashboard": "1", "app.kubernetes.io/part-of": "cnop"},
                    annotations={"grafana_folder": f"CNOP/{area}"},
                ),
                data={path.name: path.read_text()},
                opts=opts,
            )


def monitoring_ingress(config: StackConfig) -> dict[str, dict[str, Any]]:
    """Who reaches the monitoring pods: each other; from the app namespace, every pod
    sends spans to Tempo and the post-deploy check reads the query APIs; nothing else.
    (Scrapes go out of here; kubelet probes and port-forwards are not policed.)"""
    verify = in_namespace(config.namespace, labels(VERIFY))

    def allow(peers: list[dict[str, Any]], pods: dict[str, Any], port: int) -> dict[str, Any]:
        return {
            "podSelector": pods["podSelector"],
            "policyTypes": ["Ingress"],
            "ingress": [{"from": peers, "ports": [{"protocol": "TCP", "port": port}]}],
        }

    specs = isolated_namespace(NAMESPACE)
    specs["allow-spans-from-the-app"] = allow(
        [in_namespace(config.namespace)], in_monitoring("tempo"), OTLP_HTTP_PORT
    )
    for peer, port in QUERIED:
        app = peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        specs[f"allow-{app}-queries-from-verify"] = allow([verify], peer, port)
    return specs


def _grafana_admin(opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    """Grafana's admin login: a password Pulumi generates once and keeps as a secret
    (read it with `kubectl -n monitoring get secret grafana-admin -o
    jsonpath='{.data.admin-password}' | base64 -d`)."""
    password = random.RandomPassword(GRAFANA_ADMIN_SECRET, length=32, special=False, opts=opts)
    return k8s.core.v1.Secret(
        GRAFANA_ADMIN_SECRET,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=GRAFANA_ADMIN_SECRET, namespace=NAMESPACE),
        string_data={"admin-user": "admin", "admin-password": password.result},
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData"])
        ),
    )


def _receiver(config: StackConfig) -> Receiver:
    """The stack's alert receiver; its address is a Pulumi secret, never in a file."""
    if config.alert_receiver == "none":
        return Receiver("none")
    address = pulumi.Config("cnop").require_secret("alertReceiverUrl")
    return Receiver(config.alert_receiver, address)


def _loki_storage(
    config: StackConfig, cluster_name: pulumi.Output[str], opts: pulumi.ResourceOptions
) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
    """A private bucket for Loki's chunks, expiring a day after Loki's own retention;
    its name, and the Pod Identity association Loki's pods must come after."""
    bucket = aws.s3.Bucket(
        "loki",
        bucket_prefix=f"cnop-{config.environment}-loki-",
        force_destroy=not config.deletion_protection,
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=config.deletion_protection)
        ),
    )
    aws.s3.BucketPublicAccessBlock(
        "loki",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketLifecycleConfiguration(
        "loki",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-after-retention",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=config.retention_days + 1
                ),
            )
        ],
        opts=opts,
    )
    association = pod_identity(
        "loki",
        cluster_name=cluster_name,
        namespace=NAMESPACE,
        service_account=LOKI_ACCOUNT,
        policy=bucket.arn.apply(
            lambda arn: policy_document(
                {"Action": ["s3:ListBucket"], "Resource": arn},
                {
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": f"{arn}/*",
                },
            )
        ),
        opts=opts,
    )
    return bucket.bucket, [association]
