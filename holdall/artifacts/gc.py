"""`holdall artifact gc`: clear away what interrupted saves left behind.

A save that was killed leaves its version reserved (never visible) and maybe some data; a run
that was killed still says `running`. Either is cleaned up when its process is gone (same
machine) or when it is older than the grace period (work on another machine might still be
going on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select

from holdall.artifacts.versions import ABANDONED, RESERVED, mark_abandoned
from holdall.metadata.models import ArtifactVersionRow, PipelineRunRow, StepRunRow
from holdall.pipelines.records import FAILED, RUNNING
from holdall.processes import process_alive

if TYPE_CHECKING:
    from holdall.client import Client


@dataclass(frozen=True)
class Collected:
    label: str
    uri: str
    reason: str
    data_found: bool


def _age(created: datetime) -> timedelta:
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - created


def _why_stale(process: str, since: datetime, grace: timedelta) -> str | None:
    alive = process_alive(process)
    if alive is False:
        return f"its process ({process.split(':')[0]}:{process.split(':')[1]}) is gone"
    if alive is None and _age(since) > grace:
        # Only work this machine cannot judge goes by age; a live process is never collected.
        return f"started more than {grace} ago on another machine or container"
    return None


def _why_collect(row: ArtifactVersionRow, grace: timedelta) -> str | None:
    if row.status == ABANDONED:
        return "abandoned"
    return _why_stale(row.reserved_by, row.created, grace)


def fail_interrupted_runs(client: Client, grace: timedelta, dry_run: bool) -> list[Collected]:
    """Runs whose process ended mid-run still say `running`: say `failed` instead."""
    with client._session() as session:
        runs = session.scalars(select(PipelineRunRow).where(PipelineRunRow.status == RUNNING)).all()
    found = []
    for run in runs:
        reason = _why_stale(run.process, run.start, grace)
        if reason is None:
            continue
        found.append(Collected(f"run {run.name}", "", reason, data_found=False))
        if not dry_run:
            _fail_run(client, run.id)
    return found


def _fail_run(client: Client, run_id: str) -> None:
    now = datetime.now(timezone.utc)
    with client._session() as session:
        run = session.get_one(PipelineRunRow, run_id)
        run.status, run.end = FAILED, now
        steps = session.scalars(
            select(StepRunRow).where(
                StepRunRow.pipeline_run_id == run_id, StepRunRow.status == RUNNING
            )
        )
        for step in steps:
            step.status, step.end = FAILED, now
            step.error = "the process running it ended before the step finished (found by gc)"


def collect(client: Client, grace: timedelta, dry_run: bool) -> list[Collected]:
    with client._session() as session:
        rows = session.scalars(
            select(ArtifactVersionRow).where(ArtifactVersionRow.status.in_([RESERVED, ABANDONED]))
        ).all()
    collected = []
    for row in rows:
        reason = _why_collect(row, grace)
        if reason is None:
            continue
        store = client._store_by_id(row.artifact_store_id)
        data_found = store.exists(row.uri)
        if row.status == ABANDONED and not data_found:
            continue  # nothing left to do
        if dry_run:
            collected.append(
                Collected(f"{row.artifact.name}:{row.version}", row.uri, reason, data_found)
            )
            continue
        # Marked abandoned first, and only if still reserved: a save that commits meanwhile
        # keeps its data, and one that tries after this finds its version gone.
        if row.status == RESERVED and not mark_abandoned(client._db(), row.id):
            continue
        collected.append(
            Collected(f"{row.artifact.name}:{row.version}", row.uri, reason, data_found)
        )
        if data_found:
            store.rmtree(row.uri)
    return collected
