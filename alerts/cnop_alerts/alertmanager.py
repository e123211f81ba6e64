"""Alertmanager configuration as code: routes by severity, inhibition, receivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Receivers:
    """Where notifications go. The webhook is always there; Slack and e-mail when given."""

    webhook_url: str = "http://127.0.0.1:9095/alerts"
    slack_api_url: str | None = None
    slack_channel: str = "#cnop-alerts"
    email_to: str | None = None
    email_from: str = "alertmanager@cnop.local"
    smarthost: str = "localhost:25"


def _receiver(name: str, receivers: Receivers, *, send_resolved: bool) -> dict[str, Any]:
    receiver: dict[str, Any] = {
        "name": name,
        "webhook_configs": [{"url": receivers.webhook_url, "send_resolved": send_resolved}],
    }
    if receivers.slack_api_url:
        receiver["slack_configs"] = [
            {
                "api_url": receivers.slack_api_url,
                "channel": receivers.slack_channel,
                "send_resolved": send_resolved,
                "title": "{{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
                "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
            }
        ]
    if receivers.email_to:
        receiver["email_configs"] = [
            {
                "to": receivers.email_to,
                "from": receivers.email_from,
                "smarthost": receivers.smarthost,
                "send_resolved": send_resolved,
            }
        ]
    return receiver


def config(receivers: Receivers = Receivers(), time_scale: float = 1.0) -> dict[str, Any]:
    """The whole alertmanager.yml; `time_scale` shortens waits for test profiles."""

    def seconds(value: int) -> str:
        return f"{max(1, round(value * time_scale))}s"

    return {
        "route": {
            "receiver": "ticket",
            "group_by": ["alertname", "service"],
            "group_wait": seconds(30),
            "group_interval": seconds(300),
            "repeat_interval": seconds(4 * 3600),
            "routes": [
                {
                    "matchers": ['severity="critical"'],
                    "receiver": "page",
                    "repeat_interval": seconds(3600),
                },
                {"matchers": ['severity="warning"'], "receiver": "ticket"},
                {"matchers": ['severity="info"'], "receiver": "null"},
            ],
        },
        "inhibit_rules": [
            {
                # While a critical alert fires for a service, its warnings are noise.
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["service"],
            }
        ],
        "receivers": [
            _receiver("page", receivers, send_resolved=True),
            _receiver("ticket", receivers, send_resolved=False),
            {"name": "null"},
        ],
    }
