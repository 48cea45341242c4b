"""Lineage pictures at the size the dashboard promises to keep readable (50 nodes): no node
over another, every label there and escaped, every node a link."""

from __future__ import annotations

from xml.etree import ElementTree

from holdall.artifacts.drawing import render_svg
from holdall.artifacts.lineage import Graph, GraphNode

SVG = "{http://www.w3.org/2000/svg}"


def fifty_nodes() -> Graph:
    """Five sources feeding a chain of steps, each step making two versions: 50 nodes."""
    graph = Graph()
    for i in range(5):
        graph.nodes[f"a_src{i}"] = GraphNode(f"raw-<{i}>&:1", False, f"/artifacts/raw{i}/1")
    previous = [f"a_src{i}" for i in range(5)]
    for level in range(15):
        step = f"s_{level}"
        graph.nodes[step] = GraphNode(f"step_{level}", True, f"/runs/run{level}")
        for source in previous:
            graph.edges.add((source, step, "data"))
        made = [f"a_{level}_{k}" for k in range(2)]
        for k, node in enumerate(made):
            label = f"a_very_long_artifact_name_for_level_{level}_and_output_{k}:1"
            graph.nodes[node] = GraphNode(label, False, f"/artifacts/x{level}{k}/1")
            graph.edges.add((step, node, ""))
        previous = made
    assert len(graph.nodes) == 50
    return graph


def _boxes(svg: ElementTree.Element) -> list[tuple[float, float, float, float]]:
    return [
        (float(r.get("x", 0)), float(r.get("y", 0)), float(r.get("width", 0)), 36.0)
        for r in svg.iter(f"{SVG}rect")
    ]


def test_fifty_nodes_none_over_another_each_a_link_each_label_escaped() -> None:
    graph = fifty_nodes()
    svg = ElementTree.fromstring(render_svg(graph, highlight="s_7"))
    boxes = _boxes(svg)
    assert len(boxes) == 50
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1 :]:
            apart = x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
            assert apart, ((x1, y1, w1), (x2, y2, w2))
    width, height = float(svg.get("width", 0)), float(svg.get("height", 0))
    assert all(x + w <= width and y + h <= height for x, y, w, h in boxes)
    links = {a.get("href") for a in svg.iter(f"{SVG}a")}
    assert links == {node.page for node in graph.nodes.values()}
    titles = {t.text for t in svg.iter(f"{SVG}title")}
    assert "raw-<0>&:1" in titles  # the whole label, parsed back from its escaped form
    shown = [t.text or "" for t in svg.iter(f"{SVG}text")]
    assert all(len(text) <= 40 for text in shown)  # long labels shortened, whole in the title
    # Left to right as data flows: every edge goes to a column further right.
    x = {a.get("id"): float(next(a.iter(f"{SVG}rect")).get("x", 0)) for a in svg.iter(f"{SVG}a")}
    assert all(x[source] < x[target] for source, target, _ in graph.edges)


def test_an_empty_graph_is_an_empty_picture() -> None:
    svg = ElementTree.fromstring(render_svg(Graph()))
    assert not _boxes(svg)


def test_a_lineage_a_thousand_steps_deep_is_drawn_without_recursion() -> None:
    graph = Graph()
    previous = None
    for i in range(1000):
        node = f"n{1000 - i:04d}"  # the last first, in name order: the deepest walk first
        graph.nodes[node] = GraphNode(f"n{i}", i % 2 == 1, "")
        if previous is not None:
            graph.edges.add((previous, node, ""))
        previous = node
    svg = ElementTree.fromstring(render_svg(graph))
    x = [float(r.get("x", 0)) for r in svg.iter(f"{SVG}rect")]
    assert len(set(x)) == 1000  # one column each, in a row
