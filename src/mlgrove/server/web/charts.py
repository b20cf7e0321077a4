"""Small charts drawn on the server as SVG shapes.

No chart script runs in the browser, so the strict Content-Security-Policy holds and the
charts show even with JavaScript off. Each function returns plain geometry that the
``_charts.html`` macros write out as ``<svg>``; sizes are viewBox units and the SVG
scales to its container. Every bar carries a tooltip with its exact figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlgrove.server.web.formatting import number, percent


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # the tooltip: exact figures
    label: str = ""  # text beside the bar (horizontal bars)
    value: str = ""  # the figure written after the bar (horizontal bars)
    tone: int = 0  # colour: one per split or series


@dataclass(frozen=True)
class Chart:
    kind: str  # "columns" (vertical, e.g. a histogram) or "bars" (horizontal)
    width: float
    height: float
    description: str  # the chart's accessible name: what it shows
    bars: list[Bar]
    axis_left: str = ""  # columns: the value at the left and right ends of the x axis
    axis_right: str = ""
    label_width: float = 0  # bars: room for the labels on the left
    plot_height: float = 0


COLUMNS_WIDTH = 240
COLUMNS_PLOT = 64
AXIS = 16
BARS_WIDTH = 320
BAR_ROW = 18
BAR_LABEL = 120
BAR_VALUE = 72
LABEL_CHARS = 18


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def columns(
    values: Sequence[tuple[float, str]],
    *,
    description: str,
    axis_left: str = "",
    axis_right: str = "",
) -> Chart:
    """Vertical bars of equal width, left to right: ``(value, tooltip)`` pairs."""
    n = max(len(values), 1)
    top = max((v for v, _ in values), default=0) or 1
    slot = COLUMNS_WIDTH / n
    gap = 1 if slot > 3 else 0
    bars = []
    for i, (value, title) in enumerate(values):
        h = COLUMNS_PLOT * value / top
        if value > 0:
            h = max(h, 1)  # a small count stays visible
        bars.append(Bar(i * slot, COLUMNS_PLOT - h, max(slot - gap, 0.5), h, title))
    return Chart(
        "columns",
        COLUMNS_WIDTH,
        COLUMNS_PLOT + AXIS,
        description,
        bars,
        axis_left=axis_left,
        axis_right=axis_right,
        plot_height=COLUMNS_PLOT,
    )


def histogram(counts: Sequence[int], edges: Sequence[float], *, column: str) -> Chart:
    """A numeric column's distribution from the stats' ``histogram`` (bins and counts)."""
    values = [
        (
            float(c),
            f"{number(edges[i])} to {number(edges[i + 1])}: {number(c)} {'row' if c == 1 else 'rows'}",
        )
        for i, c in enumerate(counts)
    ]
    lo, hi = (number(edges[0]), number(edges[-1])) if edges else ("", "")
    return columns(
        values,
        description=f"Histogram of {column}: {len(counts)} bins from {lo} to {hi}",
        axis_left=lo,
        axis_right=hi,
    )


def bars(
    items: Sequence[tuple[str, int]],
    *,
    description: str,
    total: int | None = None,
    tones: bool = False,
) -> Chart:
    """Horizontal bars, one per ``(label, count)``, longest scaled to the full width.

    With ``total`` each bar also shows its share of it; with ``tones`` each bar gets its
    own colour (for splits)."""
    top = max((c for _, c in items), default=0) or 1
    room = BARS_WIDTH - BAR_LABEL - BAR_VALUE
    out = []
    for i, (label, count) in enumerate(items):
        share = percent(count, total) if total else ""
        value = number(count) + (f" ({share})" if share else "")
        width = room * count / top
        if count > 0:
            width = max(width, 1)
        out.append(
            Bar(
                BAR_LABEL,
                i * BAR_ROW + 2,
                width,
                BAR_ROW - 5,
                f"{label}: {value}",
                label=_cut(label, LABEL_CHARS),
                value=value,
                tone=i if tones else 0,
            )
        )
    return Chart(
        "bars",
        BARS_WIDTH,
        max(len(items), 1) * BAR_ROW + 2,
        description,
        out,
        label_width=BAR_LABEL,
    )


# -- the lineage graph ---------------------------------------------------------------------


@dataclass(frozen=True)
class GraphNode:
    key: str  # "kind:id"
    label: str
    sublabel: str = ""
    href: str | None = None
    title: str = ""
    current: bool = False


@dataclass(frozen=True)
class PlacedNode:
    node: GraphNode
    x: float
    y: float
    label: str
    sublabel: str


@dataclass(frozen=True)
class PlacedEdge:
    path: str
    label: str
    label_x: float
    label_y: float
    title: str


@dataclass(frozen=True)
class Graph:
    width: float
    height: float
    description: str
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    node_width: float = 170
    node_height: float = 38


NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 170, 38, 80, 14, 4
MAX_GRAPH_NODES = 40


def lineage_graph(
    nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str, str]], *, description: str
) -> Graph | None:
    """Nodes in columns by their distance from the sources, edges drawn left to right.

    ``edges`` are ``(from key, relation, to key)``. Returns None when the graph is too
    big to read as a picture (the page lists the edges anyway).
    """
    if not nodes or len(nodes) > MAX_GRAPH_NODES:
        return None
    keys = [n.key for n in nodes]
    layer = dict.fromkeys(keys, 0)
    # Longest path from a source; bounded passes, so a cycle cannot loop forever.
    for _ in range(len(keys)):
        moved = False
        for a, _rel, b in edges:
            if a in layer and b in layer and a != b and layer[b] < layer[a] + 1 < len(keys):
                layer[b] = layer[a] + 1
                moved = True
        if not moved:
            break
    columns_used = sorted(set(layer.values()))
    column_of = {value: i for i, value in enumerate(columns_used)}
    rows: dict[int, int] = {}
    where: dict[str, tuple[float, float]] = {}
    placed = []
    for n in nodes:
        col = column_of[layer[n.key]]
        row = rows.get(col, 0)
        rows[col] = row + 1
        x, y = PAD + col * (NODE_W + GAP_X), PAD + row * (NODE_H + GAP_Y)
        where[n.key] = (x, y)
        placed.append(PlacedNode(n, x, y, _cut(n.label, 22), _cut(n.sublabel, 26)))
    lines = []
    for a, rel, b in edges:
        if a not in where or b not in where:
            continue
        (ax, ay), (bx, by) = where[a], where[b]
        x1, y1, x2, y2 = ax + NODE_W, ay + NODE_H / 2, bx, by + NODE_H / 2
        bend = max(abs(x2 - x1) / 2, 30)
        path = f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        lines.append(PlacedEdge(path, rel, (x1 + x2) / 2, (y1 + y2) / 2 - 4, f"{a} {rel} {b}"))
    width = PAD * 2 + len(columns_used) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max(rows.values()) * (NODE_H + GAP_Y) - GAP_Y
    return Graph(width, height, description, placed, lines, NODE_W, NODE_H)


__all__ = [
    "Bar",
    "Chart",
    "Graph",
    "GraphNode",
    "PlacedEdge",
    "PlacedNode",
    "bars",
    "columns",
    "histogram",
    "lineage_graph",
]


def shares(items: Sequence[tuple[str, float, int]], *, description: str, suffix: str = "") -> Chart:
    """Horizontal bars for shares in [0, 1] (accuracy, accept rates), on one fixed scale
    so that bars of different series compare by eye; ``(label, share, tone)`` each."""
    room = BARS_WIDTH - BAR_LABEL - BAR_VALUE
    out = []
    for i, (label, share, tone) in enumerate(items):
        value = f"{share:.1%}{suffix}"
        out.append(
            Bar(
                BAR_LABEL,
                i * BAR_ROW + 2,
                max(room * min(max(share, 0.0), 1.0), 1),
                BAR_ROW - 5,
                f"{label}: {value}",
                label=_cut(label, LABEL_CHARS),
                value=value,
                tone=tone,
            )
        )
    return Chart(
        "bars",
        BARS_WIDTH,
        max(len(items), 1) * BAR_ROW + 2,
        description,
        out,
        label_width=BAR_LABEL,
    )
