"""Pinned charts and the values that point them at our configuration."""

from __future__ import annotations

from typing import Any

import yaml

from cnop_alerts.generate import GENERATED as RULES
from cnop_platform.config import StackConfig

NAMESPACE = "monitoring"
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


def chart_values(config: StackConfig) -> dict[str, dict[str, Any]]:
    """Helm values per chart: our Alertmanager config, retention, sidecar, log shipping."""
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
    return values
