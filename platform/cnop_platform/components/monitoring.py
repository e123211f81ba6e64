"""cnop:observability:Monitoring: kube-prometheus-stack with our rules, dashboards and routing.

Rules and dashboards are the committed generated files, shipped unchanged:
PrometheusRule objects carry the rule groups, ConfigMaps carry the dashboard
JSON byte for byte for Grafana's sidecar (one folder per area). Logs go
through Alloy to Loki with request and trace ids as structured metadata;
traces go over OTLP to Tempo.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from cnop_alerts.generate import GENERATED as RULES
from cnop_dashboards.generate import GENERATED as DASHBOARDS
from cnop_platform.components.monitoring_values import CHARTS, NAMESPACE, chart_values
from cnop_platform.config import StackConfig

OTLP_ENDPOINT = f"http://tempo.{NAMESPACE}.svc.cluster.local:4318"


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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:observability:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            NAMESPACE, metadata=k8s.meta.v1.ObjectMetaArgs(name=NAMESPACE), opts=child
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        self._releases(config, after)
        if apps:
            self._rules_and_dashboards(config, after)
        self.register_outputs({"otlp_endpoint": OTLP_ENDPOINT})

    def _releases(self, config: StackConfig, opts: pulumi.ResourceOptions) -> None:
        values = chart_values(config)
        for chart, (repo, version) in CHARTS.items():
            k8s.helm.v3.Release(
                chart,
                name=chart,
                chart=chart,
                version=version,
                namespace=NAMESPACE,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
                values=values[chart],
                opts=opts,
            )

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
