"""Where an artifact version came from: the steps that made it and what they were given."""

from __future__ import annotations

from dataclasses import dataclass, field

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


def _label(artifact: ArtifactVersion) -> str:
    return f"{artifact.label} (deleted)" if artifact.is_deleted else artifact.label


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


def _edges(root: LineageNode) -> tuple[dict[str, str], dict[str, str], set[tuple[str, str, str]]]:
    """Artifact nodes, step nodes and labelled edges, each once however often it is reached."""
    artifacts: dict[str, str] = {}
    steps: dict[str, str] = {}
    edges: set[tuple[str, str, str]] = set()

    def visit(node: LineageNode) -> None:
        artifact_id = f"a_{node.artifact.id.replace('-', '')[:12]}"
        artifacts[artifact_id] = _label(node.artifact)
        if node.step is None or node.artifact.producer_step_run_id is None:
            return
        step_id = f"s_{node.artifact.producer_step_run_id.replace('-', '')[:12]}"
        steps[step_id] = node.step
        edges.add((step_id, artifact_id, ""))
        for parameter, child in node.inputs.items():
            visit(child)
            edges.add((f"a_{child.artifact.id.replace('-', '')[:12]}", step_id, parameter))

    visit(root)
    return artifacts, steps, edges


def render_mermaid(root: LineageNode) -> str:
    artifacts, steps, edges = _edges(root)
    lines = ["graph LR"]
    lines += [f'    {node}["{label}"]' for node, label in sorted(artifacts.items())]
    lines += [f'    {node}(["{label}"])' for node, label in sorted(steps.items())]
    for source, target, label in sorted(edges):
        arrow = f"-- {label} -->" if label else "-->"
        lines.append(f"    {source} {arrow} {target}")
    return "\n".join(lines)


def render_dot(root: LineageNode) -> str:
    artifacts, steps, edges = _edges(root)
    lines = ["digraph lineage {", "    rankdir=LR;"]
    lines += [
        f'    {node} [label="{label}", shape=box];' for node, label in sorted(artifacts.items())
    ]
    lines += [
        f'    {node} [label="{label}", shape=ellipse];' for node, label in sorted(steps.items())
    ]
    for source, target, label in sorted(edges):
        suffix = f' [label="{label}"]' if label else ""
        lines.append(f"    {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines)
