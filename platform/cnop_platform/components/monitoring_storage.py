"""How much disk the metrics need: Prometheus' volume sized for the retention window.

The window is the longer of the stack's retention and every SLO window (30 days):
an SLO whose window outlives the data cannot be computed.
"""

from __future__ import annotations

import math
from typing import Any

from cnop_platform.config import StackConfig
from cnop_policies.slo import load as load_slos

# Sizing of the metrics volume: series the platform and the cluster's exporters
# produce (measured locally: ~3 000 of ours; kube-state-metrics and node
# exporters add ~2 000 per node), at Prometheus' ~2 bytes per compressed sample.
SERIES_ESTIMATE = 20_000
SCRAPE_INTERVAL_SECONDS = 30
BYTES_PER_SAMPLE = 2
HEADROOM = 1.5  # WAL, compaction and growth


def metrics_retention_days(config: StackConfig) -> int:
    """Long enough for the stack's retention and every SLO window (30 days)."""
    slos = load_slos()
    return max(config.retention_days, slos.availability.window_days, slos.latency.window_days)


def prometheus_volume_gib(config: StackConfig) -> int:
    """The volume that holds the retention window, with headroom."""
    seconds = metrics_retention_days(config) * 86_400
    needed = SERIES_ESTIMATE / SCRAPE_INTERVAL_SECONDS * BYTES_PER_SAMPLE * seconds * HEADROOM
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
