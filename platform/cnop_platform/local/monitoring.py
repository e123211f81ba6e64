"""Prometheus and Alertmanager for the local platform, configured from the same code as a cluster.

Scrape targets come from the component catalogue; rules and the Alertmanager
configuration come from alerts/ (the committed files, or a faster profile
rendered for tests when `time_scale` < 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cnop_alerts import generate as alert_files
from cnop_alerts.model import CHECKOUT_RUNBOOKS, RUNBOOK_BASE_LABEL
from cnop_catalogue import COMPONENTS

if TYPE_CHECKING:
    from cnop_platform.local.runner import LocalPlatform

PROMETHEUS = "prometheus"
ALERTMANAGER = "alertmanager"
SCRAPE_SECONDS = 15


def _seconds(value: float) -> str:
    return f"{max(1, round(value))}s"


def _rules_dir(platform: LocalPlatform) -> Path:
    if platform.time_scale == 1.0:
        return alert_files.GENERATED
    # A test profile: the same rules, shorter `for:` and intervals.
    target = platform.root / "monitoring" / "rules"
    alert_files.write(target, platform.time_scale)
    return target


def prometheus_config(platform: LocalPlatform) -> dict[str, Any]:
    """prometheus.yml: every component's /metrics, our rules, our Alertmanager."""
    rules = _rules_dir(platform)
    interval = _seconds(SCRAPE_SECONDS * platform.time_scale)
    return {
        "global": {
            "scrape_interval": interval,
            "evaluation_interval": interval,
            # Alerts link their runbooks in this checkout: absolute, openable here.
            "external_labels": {RUNBOOK_BASE_LABEL: CHECKOUT_RUNBOOKS},
        },
        "rule_files": [str(rules / "recording-rules.yml"), str(rules / "alert-rules.yml")],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [platform.address(ALERTMANAGER)]}]}]
        },
        "scrape_configs": [
            {
                "job_name": component.name,
                "static_configs": [
                    {
                        "targets": [platform.admin_url(component.name).removeprefix("http://")],
                        # The `service` label every alert and dashboard selects on.
                        "labels": {"service": component.name},
                    }
                ],
            }
            for component in COMPONENTS
        ],
    }


def prometheus_command(platform: LocalPlatform) -> list[str]:
    """Write the configuration, then the command line that serves it."""
    folder = platform.root / "monitoring"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(platform), sort_keys=False))
    return [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={folder / 'prometheus-data'}",
        f"--web.listen-address={platform.address(PROMETHEUS)}",
        "--storage.tsdb.retention.time=2d",
    ]


def alertmanager_command(platform: LocalPlatform) -> list[str]:
    """The Alertmanager command line, with the committed or the test configuration."""
    folder = platform.root / "monitoring"
    folder.mkdir(parents=True, exist_ok=True)
    if platform.time_scale == 1.0:
        config = alert_files.GENERATED / "alertmanager.yml"
    else:
        config = _rules_dir(platform) / "alertmanager.yml"
    return [
        "prometheus-alertmanager",
        f"--config.file={config}",
        f"--storage.path={folder / 'alertmanager-data'}",
        f"--web.listen-address={platform.address(ALERTMANAGER)}",
        "--cluster.listen-address=",
    ]
