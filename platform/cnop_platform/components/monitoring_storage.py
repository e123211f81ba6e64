"""How much disk the metrics need: Prometheus' volume sized for the retention window.

The window is the longer of the stack's retention and every SLO window (30 days):
an SLO whose window outlives the data cannot be computed.
"""

from __future__ import annotations

import math
from typing import Any

from cnop_platform.config import StackConfig
from cnop_policies.slo import load as load_slos

# Sizing of the metrics volume, in series, at Prometheus' ~2 bytes per compressed
# sample: ours (measured locally: ~3 000 per replica set), kube-state-metrics and
# the node exporter (~2 000 per node, at the node group's most), and the API
# server, which kube-prometheus-stack scrapes by default (`kubeApiServer`) and
# which on its own yields ~20 000 per instance even after the chart's default
# bucket drops; EKS answers from at least two.
OUR_SERIES = 3_000
SERIES_PER_NODE = 2_000
API_SERVER_SERIES = 2 * 20_000
SCRAPE_INTERVAL_SECONDS = 30
BYTES_PER_SAMPLE = 2
HEADROOM = 1.5  # WAL, compaction and growth


def metrics_retention_days(config: StackConfig) -> int:
    """Long enough for the stack's retention and every SLO window (30 days)."""
    slos = load_slos()
    return max(config.retention_days, slos.availability.window_days, slos.latency.window_days)


def max_nodes(config: StackConfig) -> int:
    """The node group's most nodes (the autoscaler's ceiling)."""
    return max(4, (config.max_replicas or 2) * 2)


def series_estimate(config: StackConfig) -> int:
    """How many series Prometheus holds at the stack's largest."""
    cluster = API_SERVER_SERIES if config.create_cluster else 0
    return OUR_SERIES * max(1, config.max_replicas or config.replicas) + (
        SERIES_PER_NODE * max_nodes(config) + cluster
    )


def prometheus_volume_gib(config: StackConfig) -> int:
    """The volume that holds the retention window, with headroom."""
    seconds = metrics_retention_days(config) * 86_400
    samples_per_second = series_estimate(config) / SCRAPE_INTERVAL_SECONDS
    needed = samples_per_second * BYTES_PER_SAMPLE * seconds * HEADROOM
    return max(10, math.ceil(needed / 2**30))


def claim(config: StackConfig, gib: int) -> dict[str, Any]:
    """A volume claim template of `gib` GiB (on the encrypted gp3 class in AWS)."""
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{gib}Gi"}},
    }
    if config.create_cluster:
        spec["storageClassName"] = "gp3"
    return {"volumeClaimTemplate": {"spec": spec}}
