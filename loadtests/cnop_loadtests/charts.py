"""The capacity report's charts, drawn by matplotlib as inline SVG.

Each chart has its axes labelled with units, ticks and gridlines; the steps
along the x-axis are labelled by their users and measured throughput; a line
marks the knee, and a dashed one the limit the chart is judged against (the
latency SLO, the saturation measure). A percentile that rests on too few
samples is drawn hollow and said in the legend.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Distinct colours (matplotlib's tab10), with a marker each, so
# that eleven processes stay apart even where the colours are near.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*", "h", "p")
WIDTH_INCHES, HEIGHT_INCHES = 8.0, 3.6


@dataclass(frozen=True, slots=True)
class Line:
    """A reference line across the chart: a limit, with what it is."""

    value: float
    label: str


def _figure() -> tuple[Figure, Axes]:
    # A bare Figure, not pyplot: no backend, no global figure registry to close.
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), layout="constrained")
    axes = figure.add_subplot()
    axes.grid(True, axis="y", color="#d0d4dc", linewidth=0.8)
    axes.grid(True, axis="x", color="#eceef2", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _svg(figure: Figure, title: str) -> str:
    buffer = io.StringIO()
    # Text stays text in the SVG (not outlines): searchable, selectable, a tenth the size.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Title": title, "Date": None})
    text = buffer.getvalue()
    # The XML prologue and DOCTYPE are for files; inline in HTML the <svg> element is enough.
    return text[text.index("<svg") :]


def _steps_axis(axes: Axes, labels: Sequence[str], knee: int | None) -> None:
    axes.set_xticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("users in the step, and the throughput measured (requests/s)")
    axes.set_xlim(-0.5, len(labels) - 0.5)
    if knee is not None:
        axes.axvline(knee, color="#c92a2a", linewidth=1.2, label="knee (last step within the SLOs)")


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    y_label: str,
    *,
    knee: int | None = None,
    limit: Line | None = None,
    thin: Mapping[str, Sequence[bool]] | None = None,
    top: float | None = None,
) -> str:
    """One line per series over the steps. `thin[name][i]`: that point rests on too few
    samples; `top`: a fixed top of the y-axis (100 for a share)."""
    figure, axes = _figure()
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    axes.set_ylabel(y_label)
    _steps_axis(axes, labels, knee)
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        marker = MARKERS[n % len(MARKERS)]
        axes.plot(range(len(values)), values, color=colour, marker=marker, markersize=5, label=name)
        flags = (thin or {}).get(name, ())
        hollow = [i for i, flag in enumerate(flags) if flag]
        if hollow:
            axes.plot(
                hollow,
                [values[i] for i in hollow],
                linestyle="none",
                marker=marker,
                markersize=9,
                markerfacecolor="white",
                markeredgecolor=colour,
                label=f"{name}: too few samples",
            )
    if limit is not None:
        axes.axhline(limit.value, color="#555", linestyle="--", linewidth=1, label=limit.label)
    if top is not None:  # a fixed top, unless a value is above it
        top = max([top, *(v * 1.05 for values in series.values() for v in values)])
    axes.set_ylim(bottom=0, top=top)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _svg(figure, title)


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    y_label: str,
    *,
    knee: int | None = None,
) -> str:
    """Grouped bars of counts per step; an all-zero chart says so in its title."""
    figure, axes = _figure()
    nothing = all(v == 0 for values in series.values() for v in values)
    shown = f"{title} — none in any step" if nothing else title
    axes.set_title(shown, loc="left", fontsize=11, fontweight="bold")
    axes.set_ylabel(y_label)
    _steps_axis(axes, labels, knee)
    width = 0.8 / max(len(series), 1)
    for n, (name, values) in enumerate(series.items()):
        offset = (n - (len(series) - 1) / 2) * width
        axes.bar(
            [i + offset for i in range(len(values))],
            values,
            width=width,
            color=PALETTE[n % len(PALETTE)],
            label=name,
        )
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes.set_ylim(bottom=0, top=None if not nothing else 1)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _svg(figure, shown)
