"""A version's whole lineage, both ways, in a handful of queries however deep it goes: its
ancestors and its descendants found by recursive queries (SQLite and PostgreSQL both have
them), then their records, their producing steps and those steps' inputs read in batches.
The picture is the lineage among those versions: each version, the step that made it, and
that step's inputs among them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, literal, select

from holdall.artifacts.deletion import GONE, RECORDED, batches
from holdall.artifacts.lineage import Graph, step_node, version_node
from holdall.metadata.database import Database
from holdall.metadata.tables import (
    ArtifactRow,
    ArtifactVersionRow,
    StepInputRow,
    StepRunRow,
)

DEPTH = 1000  # steps followed each way; lineage this deep is a loop somewhere else


def _ancestors(version_id: str, depth: int) -> Any:
    up = select(literal(version_id).label("id"), literal(0).label("depth")).cte(
        "up", recursive=True
    )
    step_of = ArtifactVersionRow.producer_step_run_id
    return up.union(
        select(StepInputRow.artifact_version_id, up.c.depth + 1)
        .join(ArtifactVersionRow, ArtifactVersionRow.id == up.c.id)
        .join(StepInputRow, StepInputRow.step_run_id == step_of)
        .where(up.c.depth < depth)
    )


def _descendants(version_id: str, depth: int) -> Any:
    down = select(literal(version_id).label("id"), literal(0).label("depth")).cte(
        "down", recursive=True
    )
    return down.union(
        select(ArtifactVersionRow.id, down.c.depth + 1)
        .join(StepInputRow, StepInputRow.artifact_version_id == down.c.id)
        .join(
            ArtifactVersionRow, ArtifactVersionRow.producer_step_run_id == StepInputRow.step_run_id
        )
        .where(down.c.depth < depth, ArtifactVersionRow.status.in_(RECORDED))
    )


def around(database: Database, version_id: str, depth: int = DEPTH) -> Graph:
    with database.transaction(read_only=True) as connection:
        found: set[str] = set()
        for walk in (_ancestors(version_id, depth), _descendants(version_id, depth)):
            found.update(str(row[0]) for row in connection.execute(select(walk.c.id)))
        return _graph(connection, sorted(found))


def _graph(connection: Connection, ids: list[str]) -> Graph:
    graph = Graph()
    made: dict[str, list[str]] = {}  # step run -> the version nodes it made
    runs: dict[str, str | None] = {}  # step run -> its pipeline run
    for batch in batches(ids):
        rows = connection.execute(
            select(
                ArtifactVersionRow.id,
                ArtifactRow.name,
                ArtifactVersionRow.version,
                ArtifactVersionRow.status,
                ArtifactVersionRow.producer_step_run_id,
                ArtifactVersionRow.pipeline_run_id,
            )
            .join(ArtifactRow)
            .where(ArtifactVersionRow.id.in_(batch))
        )
        for version, name, number, status, step, run in rows:
            node = graph.add_version(version, name, number, status in GONE)
            if step is not None:
                made.setdefault(step, []).append(node)
                runs.setdefault(step, run)
    for batch in batches(sorted(made)):
        for step, name in connection.execute(
            select(StepRunRow.id, StepRunRow.name).where(StepRunRow.id.in_(batch))
        ):
            node = graph.add_step(step, name, runs[step])
            graph.edges.update((node, output, "") for output in made[step])
        inputs = connection.execute(
            select(
                StepInputRow.step_run_id, StepInputRow.name, StepInputRow.artifact_version_id
            ).where(StepInputRow.step_run_id.in_(batch))
        )
        for step, parameter, used in inputs:
            if version_node(used) in graph.nodes and step_node(step) in graph.nodes:
                graph.edges.add((version_node(used), step_node(step), parameter))
    return graph
