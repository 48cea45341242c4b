"""Deleting versions: the data goes, the record stays as a tombstone (when, by whom, and its
place in lineage).

mark (committed -> deleting, who and when recorded, one guarded update) -> remove the data ->
deleted. A delete killed in between leaves `deleting`: the version is already invisible to
loads, and `holdall artifact gc` (or the same delete, run again) finishes it. A load racing a
delete hands out the whole value or `DeletedError`, never part of one: every byte is
verified before it is handed out, and a load that finds data missing reads the record again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import HoldallError, NotFoundError, StateError, error_text
from holdall.metadata.database import Database
from holdall.metadata.tables import (
    ArtifactRow,
    ArtifactVersionRow,
    PipelineRunRow,
    RunStatus,
    StepInputRow,
    StepRunRow,
    VersionStatus,
    VersionTagRow,
)
from holdall.processes import process_alive, who

if TYPE_CHECKING:
    from holdall.metadata.tables import PlainRow

GONE = (VersionStatus.DELETING, VersionStatus.DELETED)
# Versions with a record to show: committed ones, and the tombstones of deleted ones.
RECORDED = (VersionStatus.COMMITTED, *GONE)
# Ids per statement: well under every database's limit on bound parameters.
BATCH = 500


def batches(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    """`ids`, BATCH at a time."""
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


class DeletedError(NotFoundError):
    """The version asked for was deleted (or is being deleted): its record says when and by
    whom."""


def deleted_error(row: ArtifactVersionRow | PlainRow, name: str) -> DeletedError:
    """For a version of artifact `name` (its ORM row, or a plain row of its table)."""
    label = f"{name}:{row.version}"
    when = row.deleted.strftime("%Y-%m-%d %H:%M:%S UTC") if row.deleted else "an unknown time"
    by = f" by {row.deleted_by}" if row.deleted_by else ""
    if row.status == VersionStatus.DELETING:
        return DeletedError(
            f"{label} is being deleted (since {when}{by}); its data may be partly gone",
            fix="if that delete was interrupted, this finishes it: holdall artifact gc",
        )
    return DeletedError(
        f"{label} was deleted on {when}{by}; its record stays for lineage",
        fix=f"load another version: holdall artifact versions {name}",
    )


@dataclass(frozen=True)
class Doomed:
    """A version marked deleted, whose data is to go."""

    version_id: str
    label: str
    uri: str
    store_id: str | None
    size: int
    files: tuple[str, ...] = ()  # its manifest's paths, under `uri`


def by_ids(ids: Sequence[str]) -> list[ColumnElement[bool]]:
    """`ids` as conditions for `mark`, a batch (BATCH) each."""
    return [ArtifactVersionRow.id.in_(batch) for batch in batches(ids)]


def mark(
    database: Database, selections: Sequence[ColumnElement[bool]], resume: bool = False
) -> list[Doomed]:
    """The committed versions that meet any of `selections`, marked as being deleted, by this
    call alone: two deletes at once each mark a version once between them. With `resume`
    (selections by id), also those already marked (a delete that was interrupted, taken up
    again). A version that a save, a migration or another delete changed meanwhile is left
    as that made it.

    One transaction, one guarded update per selection: the update's own row locks (and
    SQLite's write lock) make a delete running beside this one wait, then find the versions
    marked and leave them. What this call marked is read back by its mark (when and by
    whom), without a read before the update."""
    now, by = datetime.now(timezone.utc), who()
    ours = (
        (ArtifactVersionRow.status == VersionStatus.DELETING)
        & (ArtifactVersionRow.deleted == now)
        & (ArtifactVersionRow.deleted_by == by)
    )
    with database.session() as session:
        for selection in selections:
            session.execute(
                update(ArtifactVersionRow)
                .where(ArtifactVersionRow.status == VersionStatus.COMMITTED, selection)
                .values(status=VersionStatus.DELETING, deleted=now, deleted_by=by)
                .execution_options(synchronize_session=False)
            )
        # A deleted version holds no tag: "production" never names a tombstone.
        session.execute(
            delete(VersionTagRow)
            .where(VersionTagRow.version_id.in_(select(ArtifactVersionRow.id).where(ours)))
            .execution_options(synchronize_session=False)
        )
        if not resume:
            return _doomed(session, ours)
        # Ours among them: a resumed selection names versions by id, which marking keeps.
        doomed: list[Doomed] = []
        for selection in selections:
            doomed += _doomed(
                session, (ArtifactVersionRow.status == VersionStatus.DELETING) & selection
            )
    return doomed


def _doomed(session: Session, which: ColumnElement[bool]) -> list[Doomed]:
    # Columns, not records: a prune reads a thousand of them at once.
    rows = session.execute(
        select(
            ArtifactVersionRow.id,
            ArtifactRow.name,
            ArtifactVersionRow.version,
            ArtifactVersionRow.uri,
            ArtifactVersionRow.artifact_store_id,
            ArtifactVersionRow.size,
            ArtifactVersionRow.files,
        )
        .join(ArtifactRow)
        .where(which)
        .order_by(ArtifactVersionRow.version)
    )
    return [
        Doomed(
            row.id,
            f"{row.name}:{row.version}",
            row.uri,
            row.artifact_store_id,
            row.size,
            tuple(sorted(json.loads(row.files or "{}"))),
        )
        for row in rows
    ]


def finish(database: Database, version_ids: Sequence[str]) -> None:
    """Being deleted -> deleted: their data is gone."""
    with database.session() as session:
        for batch in by_ids(version_ids):
            session.execute(
                update(ArtifactVersionRow)
                .where(batch, ArtifactVersionRow.status == VersionStatus.DELETING)
                .values(status=VersionStatus.DELETED)
                .execution_options(synchronize_session=False)
            )


def remove_data(store: BaseArtifactStore, uri: str) -> bool:
    """Whether there was data to remove. Another process finishing the same delete may
    remove it first: what is already gone is not an error."""
    try:
        store.rmtree(uri)
    except FileNotFoundError:
        return False
    return True


@dataclass
class Deleted:
    """What a delete did: the versions whose data went, and those it could not reach."""

    done: list[Doomed]
    failed: dict[str, str]  # label -> why

    @property
    def size(self) -> int:
        return sum(d.size for d in self.done)


def remove_marked(
    database: Database,
    doomed: Sequence[Doomed],
    store_for: Callable[[str], BaseArtifactStore],
) -> Deleted:
    """The data of versions already marked removed, then the versions marked deleted: per
    store, in as few calls as the store can make (see `remove_versions`). Versions whose
    data cannot be removed (a bucket that does not answer) stay marked, for gc."""
    result = Deleted([], {})
    by_store: dict[str | None, list[Doomed]] = {}
    for item in doomed:
        by_store.setdefault(item.store_id, []).append(item)
    for store_id, items in by_store.items():
        try:
            if store_id is not None:  # None: a tombstone whose store is gone, data with it
                store_for(store_id).remove_versions({item.uri: item.files for item in items})
            finish(database, [item.version_id for item in items])
        except (HoldallError, OSError) as exc:
            result.failed.update({item.label: error_text(exc) for item in items})
            continue
        result.done += items
    return result


def delete_versions(
    database: Database,
    version_ids: Sequence[str],
    store_for: Callable[[str], BaseArtifactStore],
    only_if: Sequence[ColumnElement[bool]] = (),
    resume: bool = False,
) -> Deleted:
    """Mark, then remove: see the module's docstring."""
    selections = [and_(batch, *only_if) for batch in by_ids(version_ids)]
    return remove_marked(database, mark(database, selections, resume), store_for)


def interrupted(database: Database) -> list[Doomed]:
    """Versions marked for deletion whose delete did not finish (or is running now: finishing
    it twice is harmless)."""
    with database.session(read_only=True) as session:
        return _doomed(session, ArtifactVersionRow.status == VersionStatus.DELETING)


@dataclass
class RunDeleted:
    """What deleting a run did: its outputs deleted, and those kept because other runs used
    them (label -> which)."""

    outputs: Deleted
    kept: dict[str, str]


def delete_run(
    database: Database,
    run_id: str,
    store_for: Callable[[str], BaseArtifactStore],
    include_used: bool = False,
) -> RunDeleted:
    """Delete a run's outputs (all but those another run's steps took as inputs, unless
    `include_used`), then mark the run deleted. Killed midway, the run is still listed and
    the same delete finishes it; its outputs already marked are gone from loads."""
    with database.session(read_only=True) as session:
        run = session.get_one(PipelineRunRow, run_id)
        if run.status == RunStatus.RUNNING and process_alive(run.process) is not False:
            raise StateError(
                f"run {run.name} is still running (process {run.process.split(':')[1]} on "
                f"{run.process.split(':')[0]})",
                fix="wait for it to end; if it was killed, this marks it failed: holdall "
                "artifact gc",
            )
        outputs = session.scalars(
            select(ArtifactVersionRow)
            .where(
                ArtifactVersionRow.pipeline_run_id == run_id,
                ArtifactVersionRow.status.in_([VersionStatus.COMMITTED, VersionStatus.DELETING]),
            )
            .order_by(ArtifactVersionRow.version)
        ).all()
        users = _other_runs_using(session, run_id, [row.id for row in outputs])
        kept = {
            f"{row.artifact.name}:{row.version}": users[row.id]
            for row in outputs
            if row.id in users and not include_used
        }
        doomed = [row.id for row in outputs if include_used or row.id not in users]
    not_used_elsewhere = []
    if not include_used:
        used = StepInputRow.artifact_version_id == ArtifactVersionRow.id
        other = StepRunRow.pipeline_run_id != run_id
        not_used_elsewhere = [
            ~exists().where(used, StepRunRow.id == StepInputRow.step_run_id, other)
        ]
    deleted = delete_versions(database, doomed, store_for, not_used_elsewhere, resume=True)
    if not deleted.failed:
        with database.session() as session:
            session.execute(
                update(PipelineRunRow)
                .where(PipelineRunRow.id == run_id, PipelineRunRow.deleted.is_(None))
                .values(deleted=datetime.now(timezone.utc), deleted_by=who())
            )
    return RunDeleted(deleted, kept)


def _other_runs_using(session: Session, run_id: str, version_ids: list[str]) -> dict[str, str]:
    """Of `version_ids`, those a step of another run took as input: one such run for each."""
    found: dict[str, str] = {}
    if not version_ids:
        return found
    pairs = session.execute(
        select(StepInputRow.artifact_version_id, PipelineRunRow.name)
        .join(StepRunRow, StepRunRow.id == StepInputRow.step_run_id)
        .join(PipelineRunRow, PipelineRunRow.id == StepRunRow.pipeline_run_id)
        .where(
            StepInputRow.artifact_version_id.in_(version_ids),
            StepRunRow.pipeline_run_id != run_id,
        )
        .order_by(PipelineRunRow.start)
    )
    for version_id, name in pairs:
        found.setdefault(version_id, f"used by run {name}")
    return found
