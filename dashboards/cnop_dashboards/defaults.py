"""What every generated dashboard shares: datasource variable, tags, time, refresh."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard, DatasourceVariable
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_VARIABLE = "datasource"
# Every query names the datasource through the variable, so one dashboard
# works against any Prometheus a Grafana has.
DATASOURCE = DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")
RATE = "$__rate_interval"


def new_dashboard(uid: str, title: str, description: str, area: str) -> Dashboard:
    """A dashboard with the platform's defaults; `uid` never changes once published."""
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["generated", "cnop", area])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .editable()
        .with_variable(
            DatasourceVariable(DATASOURCE_VARIABLE).label("Prometheus").type("prometheus")
        )
    )


def with_panels(board: Dashboard, panels: Sequence[Any]) -> Dashboard:
    """Add panels in order, with stable ids (1, 2, ...) so links to a panel keep working."""
    for number, panel in enumerate(panels, start=1):
        board = board.with_panel(panel.id(number))
    return board
