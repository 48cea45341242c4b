"""Where an artifact version came from: the steps that made it and what they were given."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from holdall.artifacts.views import ArtifactVersion


@dataclass
class LineageNode:
    artifact: ArtifactVersion
    step: str | None = None  # the producing step, None for a direct save
    run: str | None = None
    inputs: dict[str, LineageNode] = field(default_factory=dict)  # parameter -> upstream


def lineage(artifact: ArtifactVersion, depth: int = 50) -> LineageNode:
    node = LineageNode(artifact)
    producer = artifact.producer_step
    if producer is None:
        return node
    node.step, node.run = producer.name, producer.run.name
    if depth > 0:
        node.inputs = {
            name: lineage(upstream, depth - 1) for name, upstream in producer.inputs.items()
        }
    return node


def version_label(name: str, number: int, deleted: bool) -> str:
    return f"{name}:{number}" + (" (deleted)" if deleted else "")


def _label(artifact: ArtifactVersion) -> str:
    return version_label(artifact.name, artifact.version, artifact.is_deleted)


def _describe(node: LineageNode) -> str:
    made = f"  <- {node.step} (run {node.run})" if node.step else "  (saved directly)"
    return f"{_label(node.artifact)}{made}"


def render_tree(root: LineageNode) -> str:
    lines = [_describe(root)]

    def walk(node: LineageNode, prefix: str) -> None:
        items = list(node.inputs.items())
        for index, (parameter, child) in enumerate(items):
            last = index == len(items) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{parameter}: {_describe(child)}")
            walk(child, prefix + ("    " if last else "│   "))

    walk(root, "")
    return "\n".join(lines)


@dataclass(frozen=True)
class GraphNode:
    label: str
    step: bool  # a step run (else an artifact version)
    # Where the dashboard shows it: an artifact version's page, or its step's run.
    page: str


def version_node(version_id: str) -> str:
    return f"a_{version_id.replace('-', '')[:12]}"


def step_node(step_run_id: str) -> str:
    return f"s_{step_run_id.replace('-', '')[:12]}"


@dataclass
class Graph:
    """Lineage as nodes (keyed by id) and labelled edges, each once however often reached."""

    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: set[tuple[str, str, str]] = field(default_factory=set)

    def add_version(self, version_id: str, name: str, number: int, deleted: bool) -> str:
        node = version_node(version_id)
        page = f"/artifacts/{quote(name, safe='')}/{number}"
        self.nodes[node] = GraphNode(version_label(name, number, deleted), False, page)
        return node

    def add_step(self, step_run_id: str, name: str, run_id: str | None) -> str:
        node = step_node(step_run_id)
        self.nodes[node] = GraphNode(name, True, f"/runs/{run_id}" if run_id else "")
        return node


def upstream(root: LineageNode) -> Graph:
    """The steps and versions `root` was made from."""
    graph = Graph()

    def visit(node: LineageNode) -> str:
        made = node.artifact
        artifact = graph.add_version(made.id, made.name, made.version, made.is_deleted)
        if node.step is None or made.producer_step_run_id is None:
            return artifact
        step = graph.add_step(made.producer_step_run_id, node.step, made.pipeline_run_id)
        graph.edges.add((step, artifact, ""))
        for parameter, child in node.inputs.items():
            graph.edges.add((visit(child), step, parameter))
        return artifact

    visit(root)
    return graph


def render_mermaid(root: LineageNode) -> str:
    graph = upstream(root)
    lines = ["graph LR"]
    for node, found in sorted(graph.nodes.items(), key=lambda item: (item[1].step, item[0])):
        lines.append(
            f'    {node}(["{found.label}"])' if found.step else f'    {node}["{found.label}"]'
        )
    for source, target, label in sorted(graph.edges):
        arrow = f"-- {label} -->" if label else "-->"
        lines.append(f"    {source} {arrow} {target}")
    return "\n".join(lines)


def render_dot(root: LineageNode) -> str:
    graph = upstream(root)
    lines = ["digraph lineage {", "    rankdir=LR;"]
    for node, found in sorted(graph.nodes.items(), key=lambda item: (item[1].step, item[0])):
        shape = "ellipse" if found.step else "box"
        lines.append(f'    {node} [label="{found.label}", shape={shape}];')
    for source, target, label in sorted(graph.edges):
        suffix = f' [label="{label}"]' if label else ""
        lines.append(f"    {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines)
