"""`holdall artifact prune`: delete the versions retention rules let go, keep the rest, and
say why each one stays.

A version goes only if every rule given lets it go: not among its artifact's newest
`keep_last`, older than `older_than`, holding no tag, and (unless `include_used`) never given
to a step as an input. The rules are conditions the database evaluates: a dry run reads which
one keeps each version; a prune is the one statement that marks what none keeps, so a
version tagged or used after a plan was made stays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Row, Subquery, and_, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifacts.deletion import Deleted, by_ids, mark, remove_marked
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


def _ranked(rules: Rules) -> Subquery:
    """The committed versions the rules look at, each with its place among its artifact's
    newest (1: the newest) and when it was made."""
    newest = func.row_number().over(
        partition_by=ArtifactVersionRow.artifact_id, order_by=ArtifactVersionRow.version.desc()
    )
    query = (
        select(
            ArtifactVersionRow.id,
            ArtifactRow.name,
            ArtifactVersionRow.version,
            ArtifactVersionRow.size,
            func.coalesce(ArtifactVersionRow.committed, ArtifactVersionRow.created).label("made"),
            ArtifactVersionRow.storage_class,
            newest.label("newest"),
        )
        .join(ArtifactRow)
        .where(ArtifactVersionRow.status == VersionStatus.COMMITTED)
    )
    if rules.artifacts:
        query = query.where(ArtifactRow.name.in_(rules.artifacts))
    return query.subquery("ranked")


def _keeps(rules: Rules, ranked: Subquery, now: datetime) -> dict[str, ColumnElement[bool]]:
    """Each reason a version stays, as a condition over `ranked`, in the order a dry run
    names the first that holds. A version meeting none goes: the delete asks this of the
    database as it marks, so a tag or a use added after a plan was made still counts."""
    keeps: dict[str, ColumnElement[bool]] = {}
    if rules.keep_last is not None:
        keeps["newest"] = ranked.c.newest <= rules.keep_last
    if rules.older_than is not None:
        # Stored without a zone, in UTC.
        cutoff = (now - rules.older_than).replace(tzinfo=None)
        keeps["recent"] = ranked.c.made >= cutoff
    keeps["tagged"] = exists().where(VersionTagRow.version_id == ranked.c.id)
    if not rules.include_used:
        keeps["used"] = exists().where(StepInputRow.artifact_version_id == ranked.c.id)
    if rules.storage_class is not None:
        # None is the store's own class: never the one asked for.
        keeps["there"] = func.coalesce(ranked.c.storage_class, "") == rules.storage_class
    return keeps


def plan(database: Database, rules: Rules) -> Plan:
    """Every version the rules look at: those that would go, and why each other one stays."""
    ranked = _ranked(rules)
    keeps = _keeps(rules, ranked, datetime.now(timezone.utc))
    with database.session(read_only=True) as session:
        rows = session.execute(
            select(ranked, *(keep.label(f"kept_{name}") for name, keep in keeps.items())).order_by(
                ranked.c.name, ranked.c.version.desc()
            )
        ).all()
        tags = _tags(session) if any(row.kept_tagged for row in rows) else {}
        users = _users(session) if any(getattr(row, "kept_used", False) for row in rows) else {}
    result = Plan()
    for row in rows:
        label = f"{row.name}:{row.version}"
        kept_by = next((name for name in keeps if getattr(row, f"kept_{name}")), None)
        if kept_by is None:
            result.doomed.append(Candidate(row.id, label, row.size, _aware(row.made)))
            continue
        result.kept[label] = _why(kept_by, row, rules, tags, users)
    return result


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _why(
    kept_by: str, row: Row[Any], rules: Rules, tags: dict[str, list[str]], users: dict[str, str]
) -> str:
    if kept_by == "newest":
        return f"among the newest {rules.keep_last} of {row.name}"
    if kept_by == "recent":
        assert rules.older_than is not None
        return f"newer than {rules.older_than.total_seconds() / 86400:g} days"
    if kept_by == "tagged":
        return "tagged " + ", ".join(sorted(tags[row.id]))
    if kept_by == "used":
        return f"used by {users[row.id]} (--include-used lets it go)"
    return f"in {rules.storage_class} already"


def _tags(session: Session) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for version_id, name in session.execute(
        select(VersionTagRow.version_id, TagRow.name).join(TagRow)
    ):
        found[version_id].append(name)
    return found


def _users(session: Session) -> dict[str, str]:
    """For each version a step was given as an input, one run and step that took it."""
    found: dict[str, str] = {}
    pairs = session.execute(
        select(StepInputRow.artifact_version_id, PipelineRunRow.name, StepRunRow.name)
        .join(StepRunRow, StepRunRow.id == StepInputRow.step_run_id)
        .join(PipelineRunRow, PipelineRunRow.id == StepRunRow.pipeline_run_id)
        .order_by(PipelineRunRow.start)
    )
    for version_id, run, step in pairs:
        found.setdefault(version_id, f"run {run} (step {step})")
    return found


def prune(
    database: Database,
    rules: Rules,
    store_for: Callable[[str], BaseArtifactStore],
    within: Sequence[str] | None = None,
) -> Deleted:
    """Delete what the rules let go, decided by the statement that marks it (one statement,
    however many versions). `within`: only these versions (a plan a user agreed to), of
    those the rules still let go."""
    ranked = _ranked(rules)
    keeps = _keeps(rules, ranked, datetime.now(timezone.utc))
    doomed = ArtifactVersionRow.id.in_(select(ranked.c.id).where(~or_(*keeps.values())))
    selections = [doomed] if within is None else [and_(doomed, ids) for ids in by_ids(within)]
    return remove_marked(database, mark(database, selections), store_for)
