"""`holdall artifact gc`: clear away what interrupted saves left behind.

A save that was killed leaves its version reserved (never visible) and maybe some data; a run
that was killed still says `running`. Either is cleaned up when its process is gone (same
machine) or when it is older than the grace period (work on another machine might still be
going on).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from holdall.artifact_stores.locks import dead_holds
from holdall.artifacts.deletion import interrupted, remove_marked
from holdall.artifacts.versions import mark_abandoned
from holdall.errors import HoldallError, error_text
from holdall.metadata.tables import (
    ArtifactVersionRow,
    PipelineRunRow,
    RunStatus,
    StepRunRow,
    VersionStatus,
)
from holdall.processes import (
    SPOOL_PREFIX,
    process_alive,
    spool_owner_alive,
    spool_store,
    spooled_for,
)

if TYPE_CHECKING:
    from holdall.artifact_stores.registrations import ArtifactStores
    from holdall.metadata.database import Database


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
    if row.status == VersionStatus.ABANDONED:
        return "abandoned"
    return _why_stale(row.reserved_by, row.created, grace)


def fail_interrupted_runs(database: Database, grace: timedelta, dry_run: bool) -> list[Collected]:
    """Runs whose process ended mid-run still say `running`: say `failed` instead."""
    with database.session(read_only=True) as session:
        runs = session.scalars(
            select(PipelineRunRow).where(PipelineRunRow.status == RunStatus.RUNNING)
        ).all()
    found = []
    for run in runs:
        reason = _why_stale(run.process, run.start, grace)
        if reason is None:
            continue
        found.append(Collected(f"run {run.name}", "", reason, data_found=False))
        if not dry_run:
            _fail_run(database, run.id)
    return found


def _fail_run(database: Database, run_id: str) -> None:
    now = datetime.now(timezone.utc)
    with database.session() as session:
        run = session.get_one(PipelineRunRow, run_id)
        run.status, run.end = RunStatus.FAILED, now
        steps = session.scalars(
            select(StepRunRow).where(
                StepRunRow.pipeline_run_id == run_id, StepRunRow.status == RunStatus.RUNNING
            )
        )
        for step in steps:
            step.status, step.end = RunStatus.FAILED, now
            step.error = "the process running it ended before the step finished (found by gc)"


@dataclass(frozen=True)
class Problem:
    label: str
    reason: str


def collect(
    database: Database,
    stores: ArtifactStores,
    grace: timedelta,
    dry_run: bool,
    problems: list[Problem] | None = None,
) -> list[Collected]:
    return list(collecting(database, stores, grace, dry_run, problems))


def collecting(
    database: Database,
    stores: ArtifactStores,
    grace: timedelta,
    dry_run: bool,
    problems: list[Problem] | None = None,
) -> Iterator[Collected]:
    """Interrupted saves, cleared away one by one, each yielded once it is done (so that an
    interruption leaves each one either done or untouched, and says which). A row that cannot
    be handled (its bucket gone, its credentials rotated, a path that leads out of its store)
    is added to `problems` and skipped: the others are still collected."""
    with database.session(read_only=True) as session:
        rows = session.scalars(
            select(ArtifactVersionRow).where(
                ArtifactVersionRow.status.in_([VersionStatus.RESERVED, VersionStatus.ABANDONED])
            )
        ).all()
    for row in rows:
        label = f"{row.artifact.name}:{row.version}"
        try:
            found = _collect_one(database, stores, row, grace, dry_run)
        except (HoldallError, OSError) as exc:
            if problems is None:
                raise
            problems.append(Problem(label, error_text(exc)))
            continue
        if found is not None:
            yield found


def _collect_one(
    database: Database,
    stores: ArtifactStores,
    row: ArtifactVersionRow,
    grace: timedelta,
    dry_run: bool,
) -> Collected | None:
    reason = _why_collect(row, grace)
    if reason is None:
        return None
    label = f"{row.artifact.name}:{row.version}"
    if row.artifact_store_id is None:
        return None  # its store was deleted, and its records with it: nothing is left
    store = stores.by_id(row.artifact_store_id)
    data_found = store.exists(row.uri)
    if row.status == VersionStatus.ABANDONED and not data_found:
        return None  # nothing left to do
    if dry_run:
        return Collected(label, row.uri, reason, data_found)
    # Marked abandoned first, and only if still reserved: a save that commits meanwhile
    # keeps its data, and one that tries after this finds its version gone.
    if row.status == VersionStatus.RESERVED and not mark_abandoned(database, row.id):
        return None
    # An upload the killed process left half done is no data yet, but it is stored (and paid
    # for) until it is aborted.
    aborted = store.discard_incomplete_uploads(row.uri)
    if data_found:
        store.rmtree(row.uri)
    return Collected(label, row.uri, reason, data_found or bool(aborted))


@dataclass(frozen=True)
class KilledMigration:
    source: str
    target: str
    process: str
    cleared: list[str]  # versions whose destination held what it left


def clear_killed_migrations(
    database: Database, stores: ArtifactStores, dry_run: bool, problems: list[Problem]
) -> list[KilledMigration]:
    """Migrations killed and never run again: what they left half copied in their target
    (staged files, uploads never finished, which a bucket keeps and bills) cleared, and
    their locks released. A lock taken before holdall recorded roles is left to the rerun,
    which clears the same."""
    from holdall.artifacts.migration import clear_killed

    found = []
    for hold in dead_holds(database):
        if set(hold.stores) != {"source", "target"}:
            continue
        pid = hold.process.split(":")[1]
        try:
            source = stores.by_id(hold.stores["source"])
            target = stores.by_id(hold.stores["target"])
            cleared = [] if dry_run else clear_killed(database, source, target)
        except (HoldallError, OSError) as exc:
            problems.append(Problem(hold.purpose, error_text(exc)))
            continue
        found.append(KilledMigration(source.name, target.name, pid, cleared))
    return found


def spool_folders(stores: ArtifactStores) -> list[str]:
    """Where saves spool: the temp dir, and each store's own `spool_dir`."""
    folders = {tempfile.gettempdir()}
    for store in stores.all():
        if store.config.get("spool_dir"):
            folders.add(str(store.config["spool_dir"]))
    return sorted(folders)


def local_store_roots(stores: ArtifactStores) -> list[str]:
    """Where local stores stage: beside each file's target (publishing it is one rename),
    anywhere in the store, in folders holdall keeps no record of too (a ZenML step's)."""
    from holdall.local.flavor import LocalFlavor

    return sorted({m.path for m in stores.all() if m.flavor == LocalFlavor.name})


def remove_dead_spools(
    folders: list[str], stores: set[str], dry_run: bool, trees: list[str] | None = None
) -> list[str]:
    """What killed processes staged (a whole artifact's copy, spooled for an upload, or a
    file half written into a local store), removed: from `folders` (temp dirs other
    databases may share), the files for `stores` (ids), and from anywhere under `trees`
    (this database's local stores). Files of live processes, of processes this machine
    cannot judge, or of stores not named, stay."""
    found = []
    pattern = SPOOL_PREFIX + "*"
    ours = {spooled_for(store_id) for store_id in stores}
    candidates = [
        path
        for folder in folders
        for path in Path(folder).glob(pattern)
        if spool_store(path.name) in ours
    ]
    candidates += [path for tree in trees or [] for path in Path(tree).rglob(pattern)]
    for path in sorted(set(candidates)):
        if path.is_file() and spool_owner_alive(path.name) is False:
            found.append(str(path))
            if not dry_run:
                path.unlink(missing_ok=True)
    return found


def remove_stale_loaded_copies(grace: timedelta, dry_run: bool) -> list[str]:
    """Loaded copies of Path artifacts that a newer load moved aside more than `grace` ago,
    and half-done loads of processes that are gone."""
    from holdall.materializers.path import LOADED, LOADING, REPLACED
    from holdall.settings import config_dir

    folder = config_dir() / LOADED
    found = []
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        name = path.name
        if REPLACED in name:
            moved = datetime.fromtimestamp(path.stat().st_ctime, tz=timezone.utc)
            stale = datetime.now(timezone.utc) - moved > grace
        else:
            stale = LOADING in name and spool_owner_alive(name.partition(LOADING)[2]) is False
        if stale:
            found.append(str(path))
            if not dry_run:
                shutil.rmtree(path, ignore_errors=True)
    return found


class Sweep:
    """One pass of `artifact gc` over a database and its stores, phase by phase; each phase
    clears (unless a dry run) and returns or yields what it found, so that a caller can say
    so as it goes. What could not be cleared is in `problems`."""

    def __init__(
        self, database: Database, stores: ArtifactStores, grace: timedelta, dry_run: bool
    ) -> None:
        self.database = database
        self.stores = stores
        self.grace = grace
        self.dry_run = dry_run
        self.problems: list[Problem] = []

    def saves(self) -> Iterator[Collected]:
        return collecting(self.database, self.stores, self.grace, self.dry_run, self.problems)

    def deletes(self) -> list[Collected]:
        """Deletes that were interrupted (their versions already invisible), finished."""
        found = interrupted(self.database)
        if self.dry_run:
            return [Collected(d.label, d.uri, "a delete that did not finish", True) for d in found]
        done = remove_marked(self.database, found, self.stores.by_id)
        self.problems += [Problem(label, reason) for label, reason in done.failed.items()]
        return [Collected(d.label, d.uri, "a delete that did not finish", True) for d in done.done]

    def spools(self) -> list[str]:
        ids = {model.id for model in self.stores.all()}
        folders, trees = spool_folders(self.stores), local_store_roots(self.stores)
        return remove_dead_spools(folders, ids, self.dry_run, trees)

    def migrations(self) -> list[KilledMigration]:
        return clear_killed_migrations(self.database, self.stores, self.dry_run, self.problems)

    def loaded_copies(self) -> list[str]:
        return remove_stale_loaded_copies(self.grace, self.dry_run)

    def runs(self) -> list[Collected]:
        return fail_interrupted_runs(self.database, self.grace, self.dry_run)
