"""Pinned charts and the values that point them at our configuration.

Each value here answers a constraint of the chart it configures (read in the
chart's own values.yaml and validation templates at the pinned version);
tests/platform_program/test_chart_values.py holds one test per constraint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from cnop_alerts.generate import GENERATED as RULES
from cnop_alerts.model import CHECKOUT_RUNBOOKS, RUNBOOK_BASE_LABEL, RUNBOOK_PATH
from cnop_platform.components.monitoring_storage import (
    claim,
    metrics_retention_days,
    prometheus_volume_gib,
)
from cnop_platform.config import StackConfig

NAMESPACE = "monitoring"
# Pinned chart versions. Nothing here can reach the chart repositories, so a
# real `pulumi up` is what proves each pin resolves.
CHARTS = {
    "kube-prometheus-stack": ("https://prometheus-community.github.io/helm-charts", "75.15.0"),
    "loki": ("https://grafana.github.io/helm-charts", "6.35.0"),
    "tempo": ("https://grafana.github.io/helm-charts", "1.23.3"),
    "alloy": ("https://grafana.github.io/helm-charts", "1.2.1"),
}
LOKI_URL = f"http://loki-gateway.{NAMESPACE}.svc.cluster.local"
TEMPO_URL = f"http://tempo.{NAMESPACE}.svc.cluster.local:3200"
OTLP_HTTP_PORT = 4318  # Tempo's OTLP/HTTP receiver, where every component sends spans
GRAFANA_ADMIN_SECRET = "grafana-admin"  # noqa: S105 - the Secret's name, not its value
LOKI_ACCOUNT = "loki"  # the chart's service account (its full name)


@dataclass(frozen=True)
class Receiver:
    """Where alerts go in a stack: the kind from config, the address a Pulumi secret."""

    kind: str  # none | webhook | slack | pagerduty
    address: pulumi.Input[str] | None = None

    def integrations(self, send_resolved: bool) -> dict[str, Any]:
        """The receiver body Alertmanager expects for this kind."""
        if self.kind == "none":
            return {}
        if self.kind == "webhook":
            return {"webhook_configs": [{"url": self.address, "send_resolved": send_resolved}]}
        if self.kind == "slack":
            return {"slack_configs": [{"api_url": self.address, "send_resolved": send_resolved}]}
        return {
            "pagerduty_configs": [{"routing_key": self.address, "send_resolved": send_resolved}]
        }


def runbook_base_url(config: StackConfig) -> str:
    """Where the stack's alerts link their runbooks: cnop:runbookBaseUrl; else the
    runbooks in the git repository Argo CD deploys from, at the revision it deploys;
    else (a local cluster without one) the checkout `pulumi up` runs from."""
    if config.runbook_base_url:
        return config.runbook_base_url
    if config.git_repo:
        return f"{config.git_repo.removesuffix('.git')}/blob/{config.git_revision}/{RUNBOOK_PATH}"
    return CHECKOUT_RUNBOOKS


def alertmanager_config(receiver: Receiver) -> dict[str, Any]:
    """Our routing (alerts/generated/alertmanager.yml) with this stack's receivers."""
    config: dict[str, Any] = yaml.safe_load((RULES / "alertmanager.yml").read_text())
    receivers = []
    for entry in config["receivers"]:
        if "webhook_configs" not in entry:  # the 'null' receiver stays empty
            receivers.append(entry)
            continue
        resolved = any(hook.get("send_resolved") for hook in entry["webhook_configs"])
        receivers.append({"name": entry["name"], **receiver.integrations(resolved)})
    return {**config, "receivers": receivers}


def grafana_datasources() -> list[dict[str, Any]]:
    """Loki and Tempo beside the chart's Prometheus; a log line's trace id opens its trace."""
    return [
        {
            "name": "Loki",
            "uid": "loki",
            "type": "loki",
            "access": "proxy",
            "url": LOKI_URL,
            "jsonData": {
                "derivedFields": [
                    {
                        # trace_id is structured metadata (Alloy's loki.process).
                        "name": "trace_id",
                        "matcherType": "label",
                        "matcherRegex": "trace_id",
                        "datasourceUid": "tempo",
                        "url": "${__value.raw}",
                        "urlDisplayLabel": "Open trace",
                    }
                ]
            },
        },
        {
            "name": "Tempo",
            "uid": "tempo",
            "type": "tempo",
            "access": "proxy",
            "url": TEMPO_URL,
            "jsonData": {
                "tracesToLogsV2": {"datasourceUid": "loki", "filterByTraceID": True},
                "serviceMap": {"datasourceUid": "prometheus"},
            },
        },
    ]


# Control-plane parts EKS runs out of reach: no scrape target, so no alert on them.
HIDDEN_CONTROL_PLANE = ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy")
HIDDEN_RULE_GROUPS = (
    "etcd",
    "kubeControllerManager",
    "kubeSchedulerAlerting",
    "kubeSchedulerRecording",
    "kubeProxy",
)


def prometheus_stack_values(config: StackConfig, receiver: Receiver) -> dict[str, Any]:
    """kube-prometheus-stack: retention and storage for the SLO windows, our routing,
    data sources, and no alerts on what the cloud hides."""
    days = metrics_retention_days(config)
    volume = prometheus_volume_gib(config)
    values: dict[str, Any] = {
        "prometheus": {
            "prometheusSpec": {
                "retention": f"{days}d",
                # Keep below the volume: Prometheus drops old blocks before the disk fills.
                "retentionSize": f"{math.floor(volume * 0.85)}GB",
                "storageSpec": claim(config, volume),
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                # Our rules build each alert's runbook link on this (cnop_alerts.model).
                "externalLabels": {RUNBOOK_BASE_LABEL: runbook_base_url(config)},
            }
        },
        "alertmanager": {
            "config": alertmanager_config(receiver),
            "alertmanagerSpec": {"retention": "120h", "storage": claim(config, 2)},
        },
        # The operator's admission webhook would be called by the API server, which the
        # monitoring namespace's ingress isolation does not admit (monitoring.py); our
        # rules are checked by promtool in CI before they ever reach a cluster.
        "prometheusOperator": {"admissionWebhooks": {"enabled": False}},
        "grafana": {
            # The admin password is Pulumi's generated secret, never the chart's default.
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "additionalDataSources": grafana_datasources(),
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "folderAnnotation": "grafana_folder",
                    "searchNamespace": "ALL",
                    "provider": {"foldersFromFilesStructure": True},
                }
            },
        },
    }
    if config.create_cluster:
        for part in HIDDEN_CONTROL_PLANE:
            values[part] = {"enabled": False}
        values["defaultRules"] = {"rules": dict.fromkeys(HIDDEN_RULE_GROUPS, False)}
    return values


def loki_values(config: StackConfig, bucket: pulumi.Input[str] | None) -> dict[str, Any]:
    """One single-binary Loki (the one mode the chart accepts without object storage
    for one replica), chunks on S3 where there is a bucket, retention enforced."""
    object_store = "s3" if bucket is not None else "filesystem"
    storage: dict[str, Any] = {"type": object_store}
    if bucket is not None:
        storage["bucketNames"] = {"chunks": bucket, "ruler": bucket}
        storage["s3"] = {"region": config.aws_region}
    return {
        "deploymentMode": "SingleBinary",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "limits_config": {
                "allow_structured_metadata": True,
                "retention_period": f"{config.retention_days * 24}h",
            },
            # Retention is the compactor's job; without this it is only a setting.
            "compactor": {
                "retention_enabled": True,
                "delete_request_store": object_store,
            },
            "storage": storage,
            "schemaConfig": {
                "configs": [
                    {
                        "from": "2024-01-01",
                        "store": "tsdb",
                        "object_store": object_store,
                        "schema": "v13",
                        "index": {"prefix": "index_", "period": "24h"},
                    }
                ]
            },
        },
        "singleBinary": {
            "replicas": 1,
            "persistence": {
                "enabled": True,
                "size": "20Gi",
                "storageClass": "gp3" if config.create_cluster else None,
            },
        },
        # The chart's default simple-scalable targets (3 each) must be off in this mode.
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
        # The default memcached caches ask for ~9 GiB; one binary caches in memory.
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        # The canary (a DaemonSet) and the Helm test that needs it: not in our clusters.
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
    }


def tempo_values(config: StackConfig) -> dict[str, Any]:
    """Tempo: OTLP in, traces on a volume for the retention window."""
    return {
        "tempo": {
            "receivers": {"otlp": {"protocols": {"http": {}, "grpc": {}}}},
            "retention": f"{config.retention_days * 24}h",
        },
        "persistence": {
            "enabled": True,
            "size": f"{max(10, 2 * config.retention_days)}Gi",
            **({"storageClassName": "gp3"} if config.create_cluster else {}),
        },
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
  // One Alloy per node, one owner per pod: each line is shipped once.
  clustering { enabled = true }
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
  endpoint { url = "%(loki)s/loki/api/v1/push" }
}
"""


def alloy_values(config: StackConfig) -> dict[str, Any]:
    """Alloy: our pipeline, clustered so the DaemonSet's peers split the pods."""
    return {
        "alloy": {
            "clustering": {"enabled": True},
            "configMap": {
                "content": ALLOY_CONFIG % {"namespace": config.namespace, "loki": LOKI_URL}
            },
        }
    }


def chart_values(
    config: StackConfig, receiver: Receiver, loki_bucket: pulumi.Input[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Helm values per chart."""
    return {
        "kube-prometheus-stack": prometheus_stack_values(config, receiver),
        "loki": loki_values(config, loki_bucket),
        "tempo": tempo_values(config),
        "alloy": alloy_values(config),
    }
