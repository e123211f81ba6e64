"""Alert and recording rules as data, rendered the monitoring-mixin way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]
# One pattern for every alert: an absolute link, so a person reading a notification
# can open it. The base is Prometheus' external label of that name, set where
# each Prometheus is configured (the local runner: this checkout's docs; a stack:
# cnop:runbookBaseUrl, or its git repository), so these rules hold no address.
RUNBOOK_BASE_LABEL = "runbook_base_url"
RUNBOOK_PATH = "docs/runbooks/"
# This checkout's runbooks as an absolute URL: for a Prometheus on this machine.
CHECKOUT_RUNBOOKS = f"{(Path(__file__).resolve().parents[2] / RUNBOOK_PATH).as_uri()}/"


def runbook_url(name: str) -> str:
    """The runbook_url annotation of alert `name`: a template over the external label."""
    return "{{ $externalLabels." + RUNBOOK_BASE_LABEL + " }}" + f"{name}.md"


@dataclass(frozen=True, slots=True)
class Recording:
    """A recording rule: `level:metric:operations` naming."""

    record: str
    expr: str

    def render(self) -> dict[str, Any]:
        """The rule as Prometheus reads it."""
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True, slots=True)
class Alert:
    """An alerting rule with the annotations every alert must carry."""

    name: str
    expr: str
    for_seconds: int
    severity: Severity
    summary: str
    description: str  # a Go template over $labels and $value
    labels: dict[str, str] = field(default_factory=dict)

    def render(self, time_scale: float = 1.0) -> dict[str, Any]:
        """The rule; `time_scale` shortens `for:` for test profiles (1.0 in production)."""
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        seconds = round(self.for_seconds * time_scale)
        if seconds:
            rule["for"] = f"{seconds}s" if seconds % 60 else f"{seconds // 60}m"
        rule["labels"] = {"severity": self.severity, **self.labels}
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": runbook_url(self.name),
        }
        return rule


@dataclass(frozen=True, slots=True)
class Group:
    """A rule group: recording rules and alerts are kept in separate groups."""

    name: str
    rules: tuple[Recording, ...] | tuple[Alert, ...]
    interval_seconds: int = 30

    def render(self, time_scale: float = 1.0) -> dict[str, Any]:
        """The group as Prometheus reads it."""
        interval = max(1, round(self.interval_seconds * time_scale))
        rules = [
            rule.render(time_scale) if isinstance(rule, Alert) else rule.render()
            for rule in self.rules
        ]
        return {"name": self.name, "interval": f"{interval}s", "rules": rules}
