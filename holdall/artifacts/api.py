"""The artifact and run half of the Client: save, load, look up, follow lineage."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from holdall.artifacts.around import around
from holdall.artifacts.deletion import (
    GONE,
    RECORDED,
    Deleted,
    DeletedError,
    RunDeleted,
    delete_run,
    delete_versions,
    deleted_error,
)
from holdall.artifacts.lineage import Graph
from holdall.artifacts.prune import Plan as PrunePlan
from holdall.artifacts.prune import Rules, prune
from holdall.artifacts.prune import plan as plan_prune
from holdall.artifacts.tags import (
    Tag,
    all_tags,
    apply,
    check_tags,
    create,
    delete_tag,
    holding,
    retried,
    tags_of,
)
from holdall.artifacts.tiers import (
    RestoreState,
    move,
    record_after_restore,
    restore,
    wait_until_readable,
)
from holdall.artifacts.versions import (
    Producer,
    committed_record,
    load_current,
    load_record,
    save_value,
)
from holdall.artifacts.views import ArtifactSummary, ArtifactVersion, PipelineRun, StepRun, Usage
from holdall.errors import ConfigError, HoldallError, NotFoundError, error_text
from holdall.metadata.tables import (
    ArtifactRow,
    ArtifactVersionRow,
    PipelineRunRow,
    StepInputRow,
    StepRunRow,
    VersionStatus,
)

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore
    from holdall.artifact_stores.registrations import ArtifactStores
    from holdall.materializers.base import BaseMaterializer
    from holdall.metadata.database import Database
    from holdall.stacks import Stacks


# Versions are stored as 32-bit integers.
MAX_VERSION = 2**31 - 1


def parse_version(version: int | str | None) -> int | None:
    if version is None:
        return None
    # ASCII digits only: str.isdigit() also takes '²', which int() refuses.
    text = str(version).strip()
    if isinstance(version, bool) or not re.fullmatch(r"[0-9]+", text, re.ASCII):
        raise ConfigError(
            f"invalid version {version!r}: versions are whole numbers 1, 2, 3 ...",
            fix="holdall artifact versions NAME",
        )
    number = int(text)
    if not 1 <= number <= MAX_VERSION:
        raise ConfigError(
            f"invalid version {text}: versions count from 1 to {MAX_VERSION}",
            fix="holdall artifact versions NAME",
        )
    return number


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _refuse_unkept(**given: Any) -> None:
    unkept = sorted(key for key, value in given.items() if value)
    if unkept:
        raise ConfigError(
            f"holdall does not keep {' or '.join(unkept)} for a version; nothing was saved",
            fix="leave " + " and ".join(unkept) + " out of save_artifact(...)",
        )


def _numbered(name: str, number: int) -> Any:
    return (
        select(ArtifactVersionRow)
        .join(ArtifactRow)
        .where(ArtifactRow.name == name, ArtifactVersionRow.version == number)
    )


def _committed(name: str) -> Any:
    return (
        select(ArtifactVersionRow)
        .join(ArtifactRow)
        .where(ArtifactRow.name == name, ArtifactVersionRow.status == VersionStatus.COMMITTED)
    )


class ArtifactsAPI:
    """Saves, loads and lookups; given the database (made ready on first use), the stores
    and the stacks, and nothing else of the Client's."""

    def __init__(
        self, database: Callable[[], Database], stores: ArtifactStores, stacks: Stacks
    ) -> None:
        self._database = database
        self._stores = stores
        self._stacks = stacks

    def _reading(self) -> Any:
        return self._database().session(read_only=True)

    # -- save and load --------------------------------------------------------------------

    def save_artifact(
        self,
        data: Any,
        name: str,
        version: int | str | None = None,
        *,
        materializer: type[BaseMaterializer] | None = None,
        artifact_type: Any = None,
        tags: list[str] | None = None,
        extract_metadata: bool = True,
        include_visualizations: bool = True,
        user_metadata: dict[str, Any] | None = None,
        uri: str | None = None,
        compression: str | None = None,
    ) -> ArtifactVersion:
        """Save `data` as a version of `name` (the next one, or `version`) in the active
        stack's artifact store, as zenml.save_artifact does.

        `tags` are given to the version as it is committed (an exclusive tag moves to it).
        `compression` (none, zstd, auto) is this save's instead of the store's setting.
        artifact_type, extract_metadata and include_visualizations are ZenML's and change
        nothing here; user_metadata and uri are refused rather than dropped.
        """
        _refuse_unkept(user_metadata=user_metadata, uri=uri)
        store = self._stacks.active.artifact_store
        row = save_value(
            self._database(),
            store,
            data,
            name,
            Producer(),
            version=parse_version(version),
            materializer=materializer,
            tags=tags or (),
            compression=compression,
        )
        return ArtifactVersion.of_columns(row, name, tuple(sorted(set(tags or ()))), self)

    def load_artifact(
        self,
        name_or_id: str,
        version: int | str | None = None,
        *,
        tag: str | None = None,
        cache: bool = True,
    ) -> Any:
        """The value of a version (the latest unless `version` or `tag` is given), as
        zenml.load_artifact: by artifact name, or by a version's id. `cache=False` reads a
        cloud store's files from the store, not through this machine's cache."""
        if tag is None:
            # The usual case, in one read: a committed version of that name.
            record = committed_record(self._database(), name_or_id, parse_version(version))
            if record is not None:
                return load_record(self._database(), record, self._stores.by_id, cache)
        try:
            found = self.get_artifact_version(name_or_id, version, tag=tag)
        except NotFoundError:
            if version is not None or not _is_uuid(name_or_id):
                raise
            found = self.get_artifact_version_by_id(name_or_id)
        return self.load_artifact_version(found, cache=cache)

    def get_artifact_version_by_id(self, version_id: str) -> ArtifactVersion:
        with self._reading() as session:
            row = session.get(ArtifactVersionRow, version_id)
            if row is not None and row.status in GONE:
                raise deleted_error(row, row.artifact.name)
            if row is None or row.status != VersionStatus.COMMITTED:
                raise NotFoundError(
                    f"no artifact version with id {version_id}", fix="holdall artifact list"
                )
            return ArtifactVersion.of(row, self)

    def load_artifact_version(self, artifact: ArtifactVersion, cache: bool = True) -> Any:
        return load_current(self._database(), artifact.id, self._stores.by_id, cache)

    # -- artifact versions ----------------------------------------------------------------

    def get_artifact_version(
        self,
        name: str,
        version: int | str | None = None,
        include_deleted: bool = False,
        *,
        tag: str | None = None,
    ) -> ArtifactVersion:
        """A committed version: the latest, or number `version`, or the one holding `tag`
        (an exclusive tag: "production"; of a tag many hold, the latest). With
        `include_deleted`, a deleted one's tombstone too (its lineage, who deleted it)."""
        number = parse_version(version)
        with self._reading() as session:
            if number is not None:
                query = _numbered(name, number)
            else:
                query = _committed(name).order_by(ArtifactVersionRow.version.desc()).limit(1)
            if tag is not None:
                query = query.where(holding(tag))
            row = session.scalar(query)
            if row is None and tag is not None:
                raise NotFoundError(
                    f"no version of artifact '{name}' holds tag '{tag}'"
                    + (f" (version {number} does not)" if number is not None else ""),
                    fix=f"holdall artifact versions {name}",
                )
            if row is not None and row.status in GONE:
                if include_deleted:
                    return ArtifactVersion.of(row, self)
                raise deleted_error(row, row.artifact.name)
            if row is None or row.status != VersionStatus.COMMITTED:
                raise self._missing_version(session, name, number)
            return ArtifactVersion.of(row, self)

    def _missing_version(self, session: Session, name: str, number: int | None) -> NotFoundError:
        versions = session.scalars(
            _committed(name).with_only_columns(ArtifactVersionRow.version)
        ).all()
        if not versions:
            gone = session.scalar(
                select(func.count(ArtifactVersionRow.id))
                .join(ArtifactRow)
                .where(ArtifactRow.name == name, ArtifactVersionRow.status.in_(GONE))
            )
            if gone:
                return DeletedError(
                    f"every version of artifact '{name}' was deleted ({gone} kept as "
                    "tombstones for lineage)",
                    fix=f"holdall artifact versions {name} --deleted",
                )
            return NotFoundError(f"no artifact called '{name}'", fix="holdall artifact list")
        return NotFoundError(
            f"artifact '{name}' has no version {number}; it has "
            + ", ".join(str(v) for v in sorted(versions)),
            fix=f"holdall artifact versions {name}",
        )

    def list_artifact_versions(
        self, name: str, include_deleted: bool = False, *, tag: str | None = None
    ) -> list[ArtifactVersion]:
        """The committed versions of `name` (those holding `tag`), oldest first; with
        `include_deleted`, the tombstones of deleted ones among them."""
        with self._reading() as session:
            rows = session.scalars(_committed(name).order_by(ArtifactVersionRow.version)).all()
            if not rows and not include_deleted:
                raise self._missing_version(session, name, None)
            if tag is not None:
                query = _committed(name).where(holding(tag))
                rows = session.scalars(query.order_by(ArtifactVersionRow.version)).all()
            elif include_deleted:
                rows = session.scalars(
                    select(ArtifactVersionRow)
                    .join(ArtifactRow)
                    .where(ArtifactRow.name == name, ArtifactVersionRow.status.in_(RECORDED))
                    .order_by(ArtifactVersionRow.version)
                ).all()
                if not rows:
                    raise self._missing_version(session, name, None)
            return [ArtifactVersion.of(row, self) for row in rows]

    def list_artifacts(self) -> list[tuple[str, int, int]]:
        """(name, latest version, number of versions) for every artifact with a version."""
        with self._reading() as session:
            rows = session.execute(
                select(
                    ArtifactRow.name,
                    func.max(ArtifactVersionRow.version),
                    func.count(ArtifactVersionRow.id),
                )
                .join(ArtifactVersionRow)
                .where(ArtifactVersionRow.status == VersionStatus.COMMITTED)
                .group_by(ArtifactRow.name)
                .order_by(ArtifactRow.name)
            ).all()
            return [(name, latest, count) for name, latest, count in rows]

    def artifact_summaries(self, search: str = "") -> list[ArtifactSummary]:
        """Each artifact with a committed version (whose name holds `search`), with its
        latest version's size, date and tags. Two queries however many artifacts; each
        latest version found through the (artifact, version) index, where grouping every
        version took ten times as long at 100,000 of them."""
        latest = (
            select(ArtifactVersionRow.id)
            .where(
                ArtifactVersionRow.artifact_id == ArtifactRow.id,
                ArtifactVersionRow.status == VersionStatus.COMMITTED,
            )
            .order_by(ArtifactVersionRow.version.desc())
            .limit(1)
            .correlate(ArtifactRow)
            .scalar_subquery()
        )
        # The latest id of each artifact first, then its row: as a join condition, PostgreSQL
        # ran the subquery for every version (4.5 s at 100,000 of them).
        named = select(ArtifactRow.name, latest.label("latest_id"))
        if search:
            named = named.where(ArtifactRow.name.contains(search, autoescape=True))
        each = named.subquery()
        query = (
            select(
                each.c.name,
                ArtifactVersionRow.id,
                ArtifactVersionRow.version,
                ArtifactVersionRow.size,
                ArtifactVersionRow.committed,
            )
            .join(ArtifactVersionRow, ArtifactVersionRow.id == each.c.latest_id)
            .order_by(each.c.name)
        )
        with self._reading() as session:
            rows = session.execute(query).all()
            tags = tags_of(session, [row.id for row in rows])
        return [
            ArtifactSummary(r.name, r.version, r.size, r.committed, tuple(tags.get(r.id, ())))
            for r in rows
        ]

    def page_artifact_versions(
        self,
        name: str,
        *,
        tag: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        newest_first: bool = True,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[ArtifactVersion], int]:
        """One page of the committed versions of `name` (holding `tag`, committed between
        `since` and `until`), and how many there are in all."""
        query = _committed(name)
        if tag is not None:
            query = query.where(holding(tag))
        if since is not None:
            query = query.where(ArtifactVersionRow.committed >= since)
        if until is not None:
            query = query.where(ArtifactVersionRow.committed < until)
        order = ArtifactVersionRow.version.desc() if newest_first else ArtifactVersionRow.version
        with self._reading() as session:
            total = session.scalar(query.with_only_columns(func.count(ArtifactVersionRow.id)))
            if not total and tag is None and since is None and until is None:
                raise self._missing_version(session, name, None)
            rows = session.scalars(query.order_by(order).offset(offset).limit(limit)).all()
            return [ArtifactVersion.of(row, self) for row in rows], int(total or 0)

    # -- tags -----------------------------------------------------------------------------

    def update_artifact_version(
        self,
        name_or_id: str,
        version: int | str | None = None,
        add_tags: list[str] | None = None,
        remove_tags: list[str] | None = None,
        *,
        exclusive: bool | None = None,
    ) -> ArtifactVersion:
        """Tag a version, or untag it, as ZenML's Client does. A tag made here is exclusive
        only if `exclusive`; an exclusive tag moves from the artifact's other version."""
        adding, removing = check_tags(add_tags or ()), check_tags(remove_tags or ())
        found = self._version_to_change(name_or_id, version)

        def change(session: Session) -> ArtifactVersion:
            row = session.get_one(ArtifactVersionRow, found.id)
            if row.status != VersionStatus.COMMITTED:
                raise deleted_error(row, row.artifact.name)
            apply(session, row, adding, removing, exclusive)
            session.flush()
            session.refresh(row)
            return ArtifactVersion.of(row, self)

        return retried(self._database().session, change)

    def create_tag(self, name: str, exclusive: bool = False) -> Tag:
        return create(self._database(), name, exclusive)

    def list_tags(self) -> list[Tag]:
        return all_tags(self._database())

    def delete_tag(self, name: str, force: bool = False) -> int:
        """Remove a tag (and, with `force`, from the versions that hold it); how many did."""
        return delete_tag(self._database(), name, force)

    def _version_to_change(self, name_or_id: str, version: int | str | None) -> ArtifactVersion:
        if version is None and _is_uuid(name_or_id):
            return self.get_artifact_version_by_id(name_or_id)
        return self.get_artifact_version(name_or_id, version)

    # -- usage ----------------------------------------------------------------------------

    def get_artifact_store_usage(self, store_name: str) -> list[Usage]:
        """Bytes per artifact in a store, from the database alone (no listing of the
        bucket): committed versions, and how many were deleted."""
        store_id = self._stores.get(store_name).id
        with self._reading() as session:
            rows = session.execute(
                select(
                    ArtifactRow.name,
                    ArtifactVersionRow.status,
                    ArtifactVersionRow.storage_class,
                    func.count(ArtifactVersionRow.id),
                    func.coalesce(func.sum(ArtifactVersionRow.size), 0),
                )
                .join(ArtifactRow)
                .where(
                    ArtifactVersionRow.artifact_store_id == store_id,
                    ArtifactVersionRow.status.in_(RECORDED),
                )
                .group_by(
                    ArtifactRow.name, ArtifactVersionRow.status, ArtifactVersionRow.storage_class
                )
                .order_by(ArtifactRow.name)
            ).all()
        found: dict[str, Usage] = {}
        for name, status, storage_class, count, size in rows:
            usage = found.setdefault(name, Usage(name, 0, 0, 0))
            if status == VersionStatus.COMMITTED:
                usage.versions += int(count)
                usage.size += int(size)
                usage.classes[storage_class or ""] = int(size)
            else:
                usage.deleted += int(count)
        return list(found.values())

    # -- storage classes (tiers) ------------------------------------------------------------

    def set_artifact_version_storage_class(
        self, name_or_id: str, version: int | str | None, storage_class: str
    ) -> ArtifactVersion:
        """Move a version's files to another storage class (S3's STANDARD_IA or GLACIER,
        GCS's NEARLINE, Azure's Cool or Archive), in place."""
        found = self._version_to_change(name_or_id, version)
        store = self._store_of(found)
        move(self._database(), found, store, storage_class)
        return self.get_artifact_version_by_id(found.id)

    def restore_artifact_version(
        self,
        name_or_id: str,
        version: int | str | None = None,
        days: int = 7,
        speed: str = "Standard",
    ) -> RestoreState:
        """Ask the cloud to make an archived version readable for `days` (see
        holdall.artifacts.tiers); its files' states before the request."""
        found = self._version_to_change(name_or_id, version)
        return restore(found, self._store_of(found), days, speed)

    def wait_for_restore(
        self,
        name_or_id: str,
        version: int | str | None = None,
        timeout_s: float = 12 * 3600,
        report: Callable[[RestoreState, float], None] | None = None,
    ) -> RestoreState:
        found = self._version_to_change(name_or_id, version)
        store = self._store_of(found)
        state = wait_until_readable(store, found, timeout_s, report or (lambda s, waited: None))
        record_after_restore(self._database(), store, found)
        return state

    def _store_of(self, version: ArtifactVersion) -> BaseArtifactStore:
        assert version.artifact_store_id is not None  # a committed version has its store
        return self._stores.by_id(version.artifact_store_id)

    # -- deleting -------------------------------------------------------------------------

    def _version_to_delete(self, name_or_id: str, version: int | str | None) -> ArtifactVersion:
        """As get_artifact_version finds it; or one whose delete was interrupted, to finish."""
        number = parse_version(version)
        with self._reading() as session:
            if number is not None:
                row = session.scalar(_numbered(name_or_id, number))
            elif _is_uuid(name_or_id):
                row = session.get(ArtifactVersionRow, name_or_id)
            else:
                row = None
            if row is not None and row.status == VersionStatus.DELETING:
                return ArtifactVersion.of(row, self)
        return self._version_to_change(name_or_id, number)

    def delete_artifact_version(self, name_or_id: str, version: int | str | None = None) -> Deleted:
        """Delete one version's data (the latest unless `version` is given, as ZenML's
        Client picks it), keeping its record as a tombstone for lineage."""
        found = self._version_to_delete(name_or_id, version)
        return delete_versions(self._database(), [found.id], self._stores.by_id, resume=True)

    def delete_artifact(self, name: str) -> Deleted:
        """Delete every committed version of `name` (a save still in progress keeps its
        version); their records stay as tombstones."""
        with self._reading() as session:
            ids = session.scalars(
                select(ArtifactVersionRow.id)
                .join(ArtifactRow)
                .where(
                    ArtifactRow.name == name,
                    ArtifactVersionRow.status.in_(
                        [VersionStatus.COMMITTED, VersionStatus.DELETING]
                    ),
                )
                .order_by(ArtifactVersionRow.version)
            ).all()
            if not ids:
                raise self._missing_version(session, name, None)
        return delete_versions(self._database(), ids, self._stores.by_id, resume=True)

    def plan_artifact_prune(
        self,
        keep_last: int | None = None,
        older_than: timedelta | None = None,
        *,
        include_used: bool = False,
        artifacts: Sequence[str] = (),
    ) -> PrunePlan:
        """What `prune_artifacts` with the same rules would delete now, and why each other
        version stays (a dry run)."""
        return plan_prune(self._database(), Rules(keep_last, older_than, include_used, artifacts))

    def prune_artifacts(
        self,
        keep_last: int | None = None,
        older_than: timedelta | None = None,
        *,
        include_used: bool = False,
        artifacts: Sequence[str] = (),
        within: Sequence[str] | None = None,
    ) -> Deleted:
        """Delete the committed versions the rules let go (see holdall.artifacts.prune);
        their records stay as tombstones. `within`: only these version ids (a plan agreed
        to), of those the rules still let go."""
        rules = Rules(keep_last, older_than, include_used, tuple(artifacts))
        return prune(self._database(), rules, self._stores.by_id, within)

    def move_artifacts_to_storage_class(
        self,
        storage_class: str,
        keep_last: int | None = None,
        older_than: timedelta | None = None,
        *,
        include_used: bool = False,
        artifacts: Sequence[str] = (),
        dry_run: bool = False,
    ) -> tuple[PrunePlan, dict[str, str | None]]:
        """`prune`'s rules, with what they let go moved to `storage_class` instead of
        deleted: the plan, and each version moved (None) or why it could not be."""
        rules = Rules(keep_last, older_than, include_used, tuple(artifacts), storage_class)
        the_plan = plan_prune(self._database(), rules)
        outcome: dict[str, str | None] = {}
        for candidate in [] if dry_run else the_plan.doomed:
            try:
                version = self.get_artifact_version_by_id(candidate.version_id)
                move(self._database(), version, self._store_of(version), storage_class)
                outcome[candidate.label] = None
            except (HoldallError, OSError) as exc:  # it stays where it is; the others go on
                outcome[candidate.label] = error_text(exc)
        return the_plan, outcome

    # -- runs -----------------------------------------------------------------------------

    def get_pipeline_run_by_id(self, run_id: str) -> PipelineRun:
        with self._reading() as session:
            return PipelineRun.of(session.get_one(PipelineRunRow, run_id), self)

    def get_pipeline_run(self, name_or_id: str | None, run_name: str | None = None) -> PipelineRun:
        """A run by ZenML's one argument (its name or its id), or by a pipeline's name (or
        None) and the run's name."""
        if run_name is not None:
            return self._run_named(name_or_id, run_name)
        if name_or_id is None:
            raise ConfigError("get_pipeline_run needs a run's name or id")
        if _is_uuid(name_or_id):
            with self._reading() as session:
                row = session.get(PipelineRunRow, name_or_id)
                if row is not None:
                    return PipelineRun.of(row, self)
        return self._run_named(None, name_or_id)

    def _run_named(self, pipeline_name: str | None, run_name: str) -> PipelineRun:
        with self._reading() as session:
            query = select(PipelineRunRow).where(PipelineRunRow.name == run_name)
            if pipeline_name is not None:
                query = query.where(PipelineRunRow.pipeline == pipeline_name)
            row = session.scalar(query)
            if row is None:
                where = f" of pipeline '{pipeline_name}'" if pipeline_name else ""
                raise NotFoundError(
                    f"no run called '{run_name}'{where}",
                    fix=f"holdall pipeline runs {pipeline_name or ''}".rstrip(),
                )
            return PipelineRun.of(row, self)

    def list_pipeline_runs(
        self, pipeline_name: str | None = None, include_deleted: bool = False
    ) -> list[PipelineRun]:
        with self._reading() as session:
            query = select(PipelineRunRow).order_by(PipelineRunRow.start)
            if not include_deleted:
                query = query.where(PipelineRunRow.deleted.is_(None))
            if pipeline_name is not None:
                query = query.where(PipelineRunRow.pipeline == pipeline_name)
            return [PipelineRun.of(row, self) for row in session.scalars(query)]

    def delete_pipeline_run(self, name_or_id: str, include_used: bool = False) -> RunDeleted:
        """Delete a run's outputs and keep its record as a tombstone, as ZenML's Client
        deletes a run. Outputs another run's steps took as inputs stay unless
        `include_used`; a run still running is refused."""
        run = self.get_pipeline_run(name_or_id)
        return delete_run(self._database(), run.id, self._stores.by_id, include_used)

    def get_step_run(self, step_run_id: str) -> StepRun:
        with self._reading() as session:
            return StepRun.of(session.get_one(StepRunRow, step_run_id), self)

    def run_steps(self, run_id: str) -> dict[str, StepRun]:
        with self._reading() as session:
            rows = session.scalars(
                select(StepRunRow)
                .where(StepRunRow.pipeline_run_id == run_id)
                .order_by(StepRunRow.start)
            )
            return {row.name: StepRun.of(row, self) for row in rows}

    def step_inputs(self, step_run_id: str) -> dict[str, ArtifactVersion]:
        with self._reading() as session:
            pairs = session.execute(
                select(StepInputRow.name, ArtifactVersionRow)
                .join(ArtifactVersionRow)
                .where(StepInputRow.step_run_id == step_run_id)
                .order_by(StepInputRow.name)
            ).all()
            return {name: ArtifactVersion.of(row, self) for name, row in pairs}

    def lineage_graph(self, version: ArtifactVersion) -> Graph:
        """What the version was made from and what was made from it, as nodes and edges
        (holdall.artifacts.drawing.render_svg draws it)."""
        return around(self._database(), version.id)

    def steps_using(self, version_id: str) -> list[tuple[str, StepRun]]:
        """The step runs that took a version as an input: (the parameter, the step run)."""
        with self._reading() as session:
            pairs = session.execute(
                select(StepInputRow.name, StepRunRow)
                .join(StepRunRow, StepRunRow.id == StepInputRow.step_run_id)
                .where(StepInputRow.artifact_version_id == version_id)
                .order_by(StepRunRow.start)
            ).all()
            return [(name, StepRun.of(row, self)) for name, row in pairs]

    def step_outputs(self, step_run_id: str) -> dict[str, ArtifactVersion]:
        with self._reading() as session:
            rows = session.scalars(
                select(ArtifactVersionRow).where(
                    ArtifactVersionRow.producer_step_run_id == step_run_id,
                    ArtifactVersionRow.status.in_(RECORDED),
                )
            )
            return {row.artifact.name: ArtifactVersion.of(row, self) for row in rows}
