"""One function per panel kind; every panel has a unit, a description and our datasource."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.models.dashboard import GridPos

from cnop_dashboards.defaults import DATASOURCE

WIDTH = 12
HEIGHT = 8


@dataclass(frozen=True, slots=True)
class Query:
    """One PromQL query and how its series are named in the legend."""

    expr: str
    legend: str = "__auto"


def _targets(queries: tuple[Query, ...]) -> list[prometheus.Dataquery]:
    return [
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend)
        .ref_id(chr(ord("A") + index))
        .datasource(DATASOURCE)
        for index, query in enumerate(queries)
    ]


def timeseries_panel(
    title: str, description: str, unit: str, *queries: Query, position: tuple[int, int]
) -> timeseries.Panel:
    """A time series of one or more queries."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .grid_pos(GridPos(h=HEIGHT, w=WIDTH, x=position[0], y=position[1]))
    )
    for target in _targets(queries):
        panel = panel.with_target(target)
    return panel


def stat_panel(
    title: str, description: str, unit: str, query: Query, position: tuple[int, int]
) -> stat.Panel:
    """One current value."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .grid_pos(GridPos(h=HEIGHT // 2, w=WIDTH // 2, x=position[0], y=position[1]))
    )
    for target in _targets((query,)):
        panel = panel.with_target(target)
    return panel


def grid(index: int) -> tuple[int, int]:
    """Two panels per row, left to right, top to bottom."""
    return (index % 2) * WIDTH, (index // 2) * HEIGHT
