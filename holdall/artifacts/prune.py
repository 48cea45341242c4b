"""`holdall artifact prune`: delete the versions retention rules let go, keep the rest, and
say why each one stays.

A version goes only if every rule given lets it go: not among its artifact's newest
`keep_last`, older than `older_than`, holding no tag, and (unless `include_used`) never given
to a step as an input. The last two are checked again by the delete itself, in the same
statement that marks the version: one tagged or used after the plan was made stays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifacts.deletion import Deleted, delete_versions
from holdall.errors import ConfigError
from holdall.metadata.database import Database
from holdall.metadata.tables import (
    ArtifactRow,
    ArtifactVersionRow,
    PipelineRunRow,
    StepInputRow,
    StepRunRow,
    TagRow,
    VersionStatus,
    VersionTagRow,
)

MAX_DAYS = 100 * 365


@dataclass(frozen=True)
class Rules:
    keep_last: int | None = None
    older_than: timedelta | None = None
    include_used: bool = False
    artifacts: Sequence[str] = ()  # only these artifacts' versions; all when empty
    # Move what the rules let go to this class, instead of deleting it (as its cloud
    # spells it).
    storage_class: str | None = None

    def __post_init__(self) -> None:
        if self.keep_last is None and self.older_than is None:
            raise ConfigError(
                "say what to prune: --keep-last N (versions of each artifact to keep), "
                "--older-than DAYS, or both",
                fix="holdall artifact prune --keep-last 5 --dry-run",
            )
        if self.keep_last is not None and self.keep_last < 1:
            raise ConfigError(
                f"--keep-last {self.keep_last} would keep nothing: give 1 or more "
                "(to delete every version of an artifact: holdall artifact delete NAME)",
                fix="holdall artifact prune --keep-last 1 --dry-run",
            )
        days = self.older_than.total_seconds() / 86400 if self.older_than is not None else 0
        if self.older_than is not None and not 0 <= days <= MAX_DAYS:
            raise ConfigError(
                f"--older-than {days:g} is not an age: give days, from 0 to {MAX_DAYS}",
                fix="holdall artifact prune --older-than 90 --dry-run",
            )


@dataclass(frozen=True)
class Candidate:
    version_id: str
    label: str
    size: int
    created: datetime


@dataclass
class Plan:
    doomed: list[Candidate] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # label -> why it stays

    @property
    def size(self) -> int:
        return sum(c.size for c in self.doomed)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def plan(database: Database, rules: Rules) -> Plan:
    now = datetime.now(timezone.utc)
    with database.session(read_only=True) as session:
        # Columns, not whole records: a plan reads every committed version.
        query = (
            select(
                ArtifactVersionRow.id,
                ArtifactRow.name,
                ArtifactVersionRow.version,
                ArtifactVersionRow.size,
                ArtifactVersionRow.committed,
                ArtifactVersionRow.created,
                ArtifactVersionRow.storage_class,
            )
            .join(ArtifactRow)
            .where(ArtifactVersionRow.status == VersionStatus.COMMITTED)
            .order_by(ArtifactRow.name, ArtifactVersionRow.version.desc())
        )
        if rules.artifacts:
            query = query.where(ArtifactRow.name.in_(rules.artifacts))
        rows = session.execute(query).all()
        tags = _tags(session)
        users = _users(session, {row.id for row in rows})
    result = Plan()
    newest: dict[str, int] = defaultdict(int)
    for row in rows:
        label = f"{row.name}:{row.version}"
        created = _aware(row.committed or row.created)
        newest[row.name] += 1
        why = None
        if rules.keep_last is not None and newest[row.name] <= rules.keep_last:
            why = f"among the newest {rules.keep_last} of {row.name}"
        elif rules.older_than is not None and now - created < rules.older_than:
            why = f"newer than {rules.older_than.total_seconds() / 86400:g} days"
        elif row.id in tags:
            why = "tagged " + ", ".join(sorted(tags[row.id]))
        elif row.id in users and not rules.include_used:
            why = f"used by {users[row.id]} (--include-used lets it go)"
        elif rules.storage_class is not None and row.storage_class == rules.storage_class:
            why = f"in {rules.storage_class} already"
        if why is None:
            result.doomed.append(Candidate(row.id, label, row.size, created))
        else:
            result.kept[label] = why
    return result


def _tags(session: Session) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for version_id, name in session.execute(
        select(VersionTagRow.version_id, TagRow.name).join(TagRow)
    ):
        found[version_id].append(name)
    return found


def _users(session: Session, wanted: set[str]) -> dict[str, str]:
    """For each version a step was given as an input, one run and step that took it."""
    found: dict[str, str] = {}
    pairs = session.execute(
        select(StepInputRow.artifact_version_id, PipelineRunRow.name, StepRunRow.name)
        .join(StepRunRow, StepRunRow.id == StepInputRow.step_run_id)
        .join(PipelineRunRow, PipelineRunRow.id == StepRunRow.pipeline_run_id)
        .order_by(PipelineRunRow.start)
    )
    for version_id, run, step in pairs:
        if version_id in wanted and version_id not in found:
            found[version_id] = f"run {run} (step {step})"
    return found


def still_prunable(include_used: bool) -> list[ColumnElement[bool]]:
    """What the delete checks again as it marks each version (see the module's docstring)."""
    conditions: list[ColumnElement[bool]] = [
        ~exists().where(VersionTagRow.version_id == ArtifactVersionRow.id)
    ]
    if not include_used:
        conditions.append(
            ~exists().where(StepInputRow.artifact_version_id == ArtifactVersionRow.id)
        )
    return conditions


def prune(
    database: Database,
    the_plan: Plan,
    rules: Rules,
    store_for: Callable[[str], BaseArtifactStore],
) -> Deleted:
    ids = [c.version_id for c in the_plan.doomed]
    return delete_versions(database, ids, store_for, still_prunable(rules.include_used))
