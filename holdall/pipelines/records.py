"""The rows a run writes as it goes: the run, its steps, what each step was given."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from holdall.metadata.database import Database
from holdall.metadata.tables import PipelineRunRow, RunStatus, StepInputRow, StepRunRow
from holdall.processes import process_tag


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json_or_repr(values: dict[str, Any]) -> str:
    def default(value: Any) -> str:
        return repr(value)

    return json.dumps(values, default=default, sort_keys=True)


def start_run(database: Database, pipeline: str, stack_id: str) -> PipelineRunRow:
    stamp = _now().strftime("%Y_%m_%d-%H_%M_%S_%f")
    row = PipelineRunRow(
        pipeline=pipeline,
        name=f"{pipeline}-{stamp}-{uuid.uuid4().hex[:6]}",
        status=RunStatus.RUNNING,
        stack_id=stack_id,
        process=process_tag(),
    )
    with database.session() as session:
        session.add(row)
    return row


def start_step(
    database: Database, run_id: str, name: str, parameters: dict[str, Any]
) -> StepRunRow:
    row = StepRunRow(
        pipeline_run_id=run_id,
        name=name,
        status=RunStatus.RUNNING,
        parameters=_json_or_repr(parameters),
    )
    with database.session() as session:
        session.add(row)
    return row


def record_input(database: Database, step_run_id: str, name: str, version_id: str) -> None:
    with database.session() as session:
        session.add(
            StepInputRow(step_run_id=step_run_id, name=name, artifact_version_id=version_id)
        )


def finish(
    database: Database,
    row_type: type[Any],
    row_id: str,
    status: RunStatus,
    error: str | None = None,
) -> None:
    with database.session() as session:
        row = session.get_one(row_type, row_id)
        row.status = status
        row.end = _now()
        if error is not None:
            row.error = error
