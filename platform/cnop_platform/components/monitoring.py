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
from cnop_platform.config import StackConfig

NAMESPACE = "monitoring"
OTLP_ENDPOINT = f"http://tempo.{NAMESPACE}.svc.cluster.local:4318"
# Pinned chart versions. kube-prometheus-stack and loki are published releases;
# nothing here can reach the chart repositories, so a real `pulumi up` is what
# proves each pin resolves.
CHARTS = {
    "kube-prometheus-stack": ("https://prometheus-community.github.io/helm-charts", "75.15.0"),
    "loki": ("https://grafana.github.io/helm-charts", "6.35.0"),
    "tempo": ("https://grafana.github.io/helm-charts", "1.23.3"),
    "alloy": ("https://grafana.github.io/helm-charts", "1.2.1"),
}
ALLOY_CONFIG = """
discovery.kubernetes "pods" { role = "pod" }
discovery.relabel "cnop" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    regex = "%(namespace)s"
    action = "keep"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    target_label = "service"
  }
}
loki.source.kubernetes "cnop" {
  targets = discovery.relabel.cnop.output
  forward_to = [loki.process.ids.receiver]
}
loki.process "ids" {
  stage.json {
    expressions = { request_id = "request_id", trace_id = "trace_id", level = "level" }
  }
  stage.structured_metadata {
    values = { request_id = "request_id", trace_id = "trace_id" }
  }
  stage.labels { values = { level = "" } }
  forward_to = [loki.write.default.receiver]
}
loki.write "default" {
  endpoint { url = "http://loki-gateway.%(monitoring)s.svc.cluster.local/loki/api/v1/push" }
}
"""


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
        alertmanager = yaml.safe_load((RULES / "alertmanager.yml").read_text())
        values: dict[str, dict[str, Any]] = {
            "kube-prometheus-stack": {
                "prometheus": {
                    "prometheusSpec": {
                        "retention": f"{config.retention_days}d",
                        "ruleSelectorNilUsesHelmValues": False,
                        "serviceMonitorSelectorNilUsesHelmValues": False,
                    }
                },
                "alertmanager": {"config": alertmanager},
                "grafana": {
                    "sidecar": {
                        "dashboards": {
                            "enabled": True,
                            "label": "grafana_dashboard",
                            "labelValue": "1",
                            "folderAnnotation": "grafana_folder",
                            "searchNamespace": "ALL",
                            "provider": {"foldersFromFilesStructure": True},
                        }
                    }
                },
            },
            "loki": {
                "deploymentMode": "SingleBinary",
                "loki": {
                    "auth_enabled": False,
                    "commonConfig": {"replication_factor": 1},
                    "limits_config": {
                        "allow_structured_metadata": True,
                        "retention_period": f"{config.retention_days * 24}h",
                    },
                    "storage": {"type": "filesystem"},
                    "schemaConfig": {
                        "configs": [
                            {
                                "from": "2024-01-01",
                                "store": "tsdb",
                                "object_store": "filesystem",
                                "schema": "v13",
                                "index": {"prefix": "index_", "period": "24h"},
                            }
                        ]
                    },
                },
                "singleBinary": {"replicas": 1},
            },
            "tempo": {
                "tempo": {
                    "receivers": {"otlp": {"protocols": {"http": {}, "grpc": {}}}},
                    "retention": f"{config.retention_days * 24}h",
                }
            },
            "alloy": {
                "alloy": {
                    "configMap": {
                        "content": ALLOY_CONFIG
                        % {"namespace": config.namespace, "monitoring": NAMESPACE}
                    }
                }
            },
        }
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
