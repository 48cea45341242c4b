"""Lineage drawn as SVG, with no drawing library: nodes in columns by how many steps lead to
them (left to right, as data flows), ordered in each column to keep edges short, edges as
curves. Every label is escaped; each node links to its page when the picture is shown by the
dashboard."""

from __future__ import annotations

from collections import defaultdict, deque
from xml.sax.saxutils import escape, quoteattr

from holdall.artifacts.lineage import Graph

ROW = 56  # a node's height with the gap below it
HEIGHT = 36
GAP = 90  # between columns, room for an edge's label
MARGIN = 16
CHARACTER = 7.2  # width of a character at the font size used
LONGEST = 40  # characters shown of a label; the whole label is the node's tooltip


def _layers(graph: Graph) -> dict[str, int]:
    """Each node's column: the longest path of edges that leads to it. Worked out in order
    from the sources, not by recursion: a lineage 200 steps deep is 400 nodes in a row."""
    outgoing: dict[str, list[str]] = defaultdict(list)
    waiting = dict.fromkeys(graph.nodes, 0)  # edges into each node not yet followed
    for source, target, _ in sorted(graph.edges):
        outgoing[source].append(target)
        waiting[target] += 1
    column = dict.fromkeys(graph.nodes, 0)
    ready = deque(sorted(node for node, count in waiting.items() if count == 0))
    while ready:
        node = ready.popleft()
        for target in outgoing[node]:
            column[target] = max(column[target], column[node] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return column  # a node on a cycle (lineage has none) stays where it got to


def _order(graph: Graph, column: dict[str, int]) -> list[list[str]]:
    """Nodes per column, each placed near the mean row of its neighbours (two sweeps)."""
    columns: list[list[str]] = [[] for _ in range(max(column.values(), default=-1) + 1)]
    for node in sorted(graph.nodes, key=lambda n: (graph.nodes[n].label, n)):
        columns[column[node]].append(node)
    neighbours: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in graph.edges:
        neighbours[source].append(target)
        neighbours[target].append(source)
    for sweep in (range(1, len(columns)), range(len(columns) - 2, -1, -1)):
        row = {node: index for nodes in columns for index, node in enumerate(nodes)}
        for index in sweep:
            nodes = columns[index]
            nodes.sort(key=lambda n: _mean([row[m] for m in neighbours[n]], row[n]))
            row.update({node: position for position, node in enumerate(nodes)})
    return columns


def _mean(values: list[int], otherwise: int) -> float:
    return sum(values) / len(values) if values else otherwise


def _shown(label: str) -> str:
    return label if len(label) <= LONGEST else label[: LONGEST - 1] + "…"


def render_svg(graph: Graph, highlight: str | None = None, links: bool = True) -> str:
    """`highlight`: the node the picture is about, drawn bold. `links`: each node a link to
    its page (the dashboard's addresses, relative)."""
    columns = _order(graph, _layers(graph))
    widths = [
        max((len(_shown(graph.nodes[n].label)) * CHARACTER + 28 for n in nodes), default=0)
        for nodes in columns
    ]
    tallest = max((len(nodes) for nodes in columns), default=0)
    place: dict[str, tuple[float, float, float]] = {}  # x, y, width
    x = float(MARGIN)
    for nodes, width in zip(columns, widths, strict=True):
        top = MARGIN + (tallest - len(nodes)) * ROW / 2
        for index, node in enumerate(nodes):
            place[node] = (x, top + index * ROW, width)
        x += width + GAP
    size = (x - GAP + MARGIN, MARGIN * 2 + tallest * ROW - (ROW - HEIGHT))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size[0]:.0f}" height="{size[1]:.0f}" '
        f'viewBox="0 0 {size[0]:.0f} {size[1]:.0f}" font-family="sans-serif" font-size="12">',
        '<g fill="none" stroke="#8c959f" stroke-width="1.2">',
    ]
    labels = []
    for source, target, label in sorted(graph.edges):
        x1, y1, w1 = place[source]
        x2, y2, _ = place[target]
        start, end = (x1 + w1, y1 + HEIGHT / 2), (x2, y2 + HEIGHT / 2)
        middle = (start[0] + end[0]) / 2
        parts.append(
            f'<path d="M{start[0]:.1f},{start[1]:.1f} C{middle:.1f},{start[1]:.1f} '
            f'{middle:.1f},{end[1]:.1f} {end[0]:.1f},{end[1]:.1f}"/>'
        )
        if label:
            labels.append(
                f'<text x="{middle:.1f}" y="{(start[1] + end[1]) / 2 - 4:.1f}" '
                f'text-anchor="middle" fill="#57606a">{escape(label)}</text>'
            )
    parts.append("</g>")
    parts += labels
    for node, (left, top, width) in sorted(place.items()):
        found = graph.nodes[node]
        fill, radius = ("#ddf4ff", 18) if found.step else ("#fff8c5", 4)
        stroke = 2.5 if node == highlight else 1
        shape = (
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{HEIGHT}" '
            f'rx="{radius}" fill="{fill}" stroke="#24292f" stroke-width="{stroke}"/>'
            f'<text x="{left + width / 2:.1f}" y="{top + HEIGHT / 2 + 4:.1f}" '
            f'text-anchor="middle" fill="#24292f">{escape(_shown(found.label))}</text>'
        )
        body = f"<title>{escape(found.label)}</title>{shape}"
        kind = "step" if found.step else "artifact"
        if links and found.page:
            parts.append(f'<a href={quoteattr(found.page)} class="{kind}" id="{node}">{body}</a>')
        else:
            parts.append(f'<g class="{kind}" id="{node}">{body}</g>')
    parts.append("</svg>")
    return "\n".join(parts)
