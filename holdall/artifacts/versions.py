"""Saving and loading one artifact version, so that nothing half-done is ever visible.

save: reserve the next version number (a row readers do not see) -> write the data through
the materializer, hashing as it goes -> make it durable -> commit the row with its checksums.
A failure on the way abandons the version and removes its data; a killed process leaves a
reserved row that `holdall artifact gc` cleans up.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifact_stores.failures import Failure, StoreUnavailableError
from holdall.artifact_stores.ownership import claim
from holdall.artifacts.cache import Cache, cache_for
from holdall.artifacts.checksum import FileDigests, manifest_checksum
from holdall.artifacts.deletion import GONE, deleted_error
from holdall.artifacts.integrity import (
    CorruptArtifactError,
    DamagedCacheEntry,
    RecordingStore,
    VerifyingStore,
    decode_codecs,
    decode_files,
    encode_files,
)
from holdall.artifacts.tags import apply, check_tags, retried
from holdall.compression import Compression
from holdall.errors import AlreadyExistsError, HoldallError
from holdall.materializers.base import BaseMaterializer, UnresolvedType
from holdall.materializers.registry import by_name, checked, choose, dotted
from holdall.metadata.database import Database
from holdall.metadata.tables import ArtifactRow, ArtifactVersionRow, VersionStatus
from holdall.names import check_name
from holdall.processes import process_tag

if TYPE_CHECKING:
    from holdall.metadata.tables import PlainRow

RESERVE_TIMEOUT_S = 60


@dataclass(frozen=True)
class Producer:
    """Where a version comes from: a step of a pipeline run, or a direct save."""

    pipeline: str | None = None
    step: str | None = None
    pipeline_run_id: str | None = None
    step_run_id: str | None = None

    def directory(self, artifact: str, version: int) -> str:
        if self.pipeline and self.step:
            return f"{self.pipeline}/{self.step}/{artifact}/{version}"
        return f"_saved/{artifact}/{version}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


# A save's statements, made once: built anew at every save, they cost more than their SQL.
# FOR UPDATE: PostgreSQL then queues the processes reserving versions of one name, where they
# would otherwise all take the same next number (SQLite's write lock does it there).
_FIND_ARTIFACT = (
    select(ArtifactRow.id).where(ArtifactRow.name == bindparam("name")).with_for_update()
)
_NEW_ARTIFACT = insert(ArtifactRow)
_HIGHEST_VERSION = select(func.max(ArtifactVersionRow.version)).where(
    ArtifactVersionRow.artifact_id == bindparam("artifact_id")
)
_VERSION_TAKEN = select(ArtifactVersionRow.id).where(
    ArtifactVersionRow.artifact_id == bindparam("artifact_id"),
    ArtifactVersionRow.version == bindparam("number"),
)
_NEW_VERSION = insert(ArtifactVersionRow)
# Only if still reserved: gc may have judged the save dead and taken its data. What to set
# comes with each call; the row as committed comes back.
_COMMIT = (
    update(ArtifactVersionRow)
    .where(
        ArtifactVersionRow.id == bindparam("version_id"),
        ArtifactVersionRow.status == VersionStatus.RESERVED,
    )
    .returning(*ArtifactVersionRow.__table__.columns)
)


@dataclass(frozen=True)
class Reservation:
    """A version's number taken, its row not yet visible to readers."""

    id: str
    version: int
    uri: str


def _artifact_id(connection: Connection, name: str) -> str:
    found = connection.execute(_FIND_ARTIFACT, {"name": name}).scalar()
    if found is not None:
        return str(found)
    made = str(uuid.uuid4())
    connection.execute(_NEW_ARTIFACT, {"id": made, "name": name})
    return made


def _taken(connection: Connection, artifact_id: str, version: int) -> bool:
    found = connection.execute(_VERSION_TAKEN, {"artifact_id": artifact_id, "number": version})
    return found.first() is not None


def _next_number(connection: Connection, artifact_id: str) -> int:
    highest = connection.execute(_HIGHEST_VERSION, {"artifact_id": artifact_id}).scalar()
    return int(highest or 0) + 1


def reserve(
    database: Database,
    name: str,
    store: BaseArtifactStore,
    producer: Producer,
    version: int | None = None,
) -> Reservation:
    """A new version of `name` (the next number, or `version`), unique even among processes
    saving at once."""
    deadline = time.monotonic() + RESERVE_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            with database.transaction() as connection:
                artifact_id = _artifact_id(connection, name)
                if version is not None and _taken(connection, artifact_id, version):
                    raise AlreadyExistsError(
                        f"artifact '{name}' already has a version {version}",
                        fix=f"leave the version out to save the next one: holdall artifact "
                        f"versions {name}",
                    )
                number = version or _next_number(connection, artifact_id)
                reservation = Reservation(
                    str(uuid.uuid4()), number, f"{store.path}/{producer.directory(name, number)}"
                )
                connection.execute(
                    _NEW_VERSION,
                    {
                        "id": reservation.id,
                        "artifact_id": artifact_id,
                        "version": number,
                        "status": VersionStatus.RESERVED,
                        "uri": reservation.uri,
                        "artifact_store_id": store.id,
                        "producer_step_run_id": producer.step_run_id,
                        "pipeline_run_id": producer.pipeline_run_id,
                        "reserved_by": process_tag(),
                    },
                )
            return reservation
        except IntegrityError:
            # Another process created the artifact, or took the number, first: again, after a
            # pause that grows and differs between processes so that they stop colliding.
            if time.monotonic() > deadline:
                raise HoldallError(
                    f"could not reserve a version of '{name}': other processes kept taking "
                    f"the same numbers for {RESERVE_TIMEOUT_S} s",
                    fix="save again; if this repeats, the database is overloaded",
                ) from None
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.5)


def save_value(
    database: Database,
    store: BaseArtifactStore,
    value: Any,
    name: str,
    producer: Producer,
    *,
    version: int | None = None,
    materializer: type[BaseMaterializer] | None = None,
    tags: Sequence[str] = (),
    compression: str | None = None,
) -> PlainRow:
    """The version's row as committed. `compression`: this save's (none, zstd, auto),
    instead of the store's setting."""
    check_name("artifact", name)
    tags = check_tags(tags)
    materializer = checked(materializer) if materializer else choose(value)
    materializer.check_savable(value)  # before anything is written
    storing = store.config.storing
    if compression is not None:
        storing = Compression(compression, storing.level)
    claim(store, database.identity)  # reaches the store, and says why not, before reserving
    reserved = reserve(database, name, store, producer, version)
    if store.exists(reserved.uri):
        # Not ours: another metadata database using this store, or one that was reset.
        # Nothing there is overwritten, and nothing removed, by this save or by gc later.
        mark_abandoned(database, reserved.id, status=VersionStatus.COLLIDED)
        raise HoldallError(
            f"cannot save {name}:{reserved.version}: {reserved.uri} already holds data this "
            "database did not write (another metadata database uses this store, or this one was "
            "reset)",
            fix="share one database (HOLDALL_DATABASE_URL, PostgreSQL for teams), or point "
            "this stack at a store of its own: holdall artifact-store register ...",
        )
    try:
        recording = RecordingStore(store, reserved.uri, storing)
        materializer(reserved.uri, recording).save(value)
        # Committed means on disk, not in a cache a crash would lose; the last blocks may
        # still be hashing while the fsync runs.
        store.sync(reserved.uri)
        files = recording.digests()
        manifest = encode_files(files, recording.codecs)
        return _commit(database, reserved, materializer, type(value), files, manifest, name, tags)
    except BaseException as exc:
        # A failure anywhere (Ctrl-C, and the commit included: a full disk under the
        # database) leaves no version and, as far as it can, no data. If gc had already taken
        # the version, that is what made the save fail (its files vanished): say so.
        taken = not abandon(database, store, reserved.id)
        if taken and isinstance(exc, Exception) and not isinstance(exc, CollectedError):
            raise CollectedError(name, reserved.version) from None
        raise


class CollectedError(HoldallError):
    def __init__(self, name: str, version: int) -> None:
        super().__init__(
            f"the save of {name}:{version} was collected by `holdall artifact gc` while it "
            "was being written; nothing was saved",
            fix="save again; run gc with a larger --older-than where saves take long",
        )


def _commit(
    database: Database,
    reservation: Reservation,
    materializer: type[BaseMaterializer],
    data_type: type,
    files: FileDigests,
    manifest: str,
    name: str,
    tags: Sequence[str],
) -> PlainRow:
    values = {
        "version_id": reservation.id,
        "status": VersionStatus.COMMITTED,
        "materializer": dotted(materializer),
        "data_type": dotted(data_type),
        "files": manifest,
        "size": sum(size for size, _ in files.values()),
        "checksum": manifest_checksum(files),
        "committed": _now(),
    }

    def commit(connection: Connection) -> PlainRow:
        committed = connection.execute(_COMMIT, values).first()
        if committed is None:
            raise CollectedError(name, reservation.version)
        if tags:  # in the same transaction: never seen without them
            with Session(bind=connection) as session:
                apply(session, session.get_one(ArtifactVersionRow, reservation.id), tags)
        return committed

    # Tried again while another process moves one of its exclusive tags at the same moment.
    return retried(database.transaction, commit)


def mark_abandoned(
    database: Database, version_id: str, status: VersionStatus = VersionStatus.ABANDONED
) -> bool:
    """Reserved -> abandoned (or collided), only if still reserved: whether this call did it."""
    with database.session() as session:
        done = session.execute(
            update(ArtifactVersionRow)
            .where(
                ArtifactVersionRow.id == version_id,
                ArtifactVersionRow.status == VersionStatus.RESERVED,
            )
            .values(status=status)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def abandon(database: Database, store: BaseArtifactStore | None, version_id: str) -> bool:
    """Mark a version abandoned and remove whatever data it left (best effort). Whether it
    was still reserved (False: gc, or a commit, got there first)."""
    try:
        marked = mark_abandoned(database, version_id)
    except HoldallError:
        # The database takes no writes now (its disk is full, say). The row stays reserved
        # by this process, for gc once it is gone; its data can go already: this process
        # alone could have committed it, and it failed to.
        marked = True
    try:
        with database.session(read_only=True) as session:
            row = session.get_one(ArtifactVersionRow, version_id)
            uri, status = row.uri, row.status
    except HoldallError:
        return marked  # whether it committed is unknown: its data stays, for gc to judge
    if (
        store is not None and status != VersionStatus.COMMITTED
    ):  # a committed version keeps its data
        try:
            if store.exists(uri):
                store.rmtree(uri)
        except (OSError, HoldallError):
            pass  # gc retries; the version is invisible either way
    return marked


def resolve_data_type(recorded: str) -> type:
    """The saved value's type, found among the modules already loaded: the database never
    makes holdall import a module. Otherwise a stand-in that carries the recorded name."""
    module_name, _, qualname = recorded.partition(":")
    found: Any = sys.modules.get(module_name)
    for part in qualname.split(".") if found is not None and qualname else ():
        found = getattr(found, part, None)
    if isinstance(found, type):
        return found
    return type("UnresolvedType", (UnresolvedType,), {"recorded": recorded})


def load_value(row: PlainRow, store: BaseArtifactStore, cache: bool = True) -> Any:
    """The version's value, its files read through this machine's cache unless `cache` is
    False (see holdall/artifacts/cache.py). A cache entry found damaged is dropped, and the
    load starts again, that file read from the store (and cached anew)."""
    chosen = cache_for(store) if cache else None
    for _ in range(2):
        try:
            return _load_value(row, store, chosen)
        except DamagedCacheEntry:
            continue
    return _load_value(row, store, None)  # damaged again: the store alone


def _load_value(row: PlainRow, store: BaseArtifactStore, cache: Cache | None) -> Any:
    """`row`: as _TO_LOAD reads it."""
    materializer = by_name(row.materializer)
    files, codecs = decode_files(row.files), decode_codecs(row.files)
    verifying = VerifyingStore(store, row.uri, files, codecs, cache)
    label = f"{row.artifact_name}:{row.version}"
    # Code that runs what it reads (pickle) gets only bytes already verified, from memory.
    source = verifying.verified_in_memory() if materializer.LOAD_RUNS_CODE else verifying
    try:
        value = materializer(row.uri, source).load(resolve_data_type(row.data_type))
        verifying.verify_rest()
    except StoreUnavailableError as exc:
        if exc.failure is Failure.ARCHIVED:  # named with holdall's own way back
            where = f" in {row.storage_class}" if row.storage_class else ""
            raise StoreUnavailableError(
                f"{label} is archived{where}: {exc.message}",
                fix=f"holdall artifact version restore {row.artifact_name} {row.version} "
                "--wait, then load it again",
                failure=Failure.ARCHIVED,
            ) from None
        raise  # a bucket that does not answer: nothing to check the data against
    except CorruptArtifactError:
        raise
    except Exception as exc:
        # A materializer that fails on damaged data must not hide the damage behind its own
        # error (a JSONDecodeError, a bad .npy header): what it read is checked first.
        try:
            verifying.verify_rest()
        except CorruptArtifactError as damage:
            raise damage from None  # the damage is the story, not what it broke
        if isinstance(exc, FileNotFoundError):
            raise CorruptArtifactError(
                f"the data of {label} is missing from {row.uri}",
                fix="the files were removed from the store; this version cannot be loaded",
            ) from None
        raise
    return value


# What a load needs of a version: its columns, and its artifact's name.
_LOADED = select(
    *ArtifactVersionRow.__table__.columns, ArtifactRow.name.label("artifact_name")
).join_from(ArtifactVersionRow, ArtifactRow)
_TO_LOAD = _LOADED.where(ArtifactVersionRow.id == bindparam("version_id"))
_COMMITTED = _LOADED.where(
    ArtifactRow.name == bindparam("name"), ArtifactVersionRow.status == VersionStatus.COMMITTED
)
_LATEST = _COMMITTED.order_by(ArtifactVersionRow.version.desc()).limit(1)
_NUMBERED = _COMMITTED.where(ArtifactVersionRow.version == bindparam("number"))


def _record(database: Database, version_id: str) -> PlainRow:
    with database.transaction(read_only=True) as connection:
        return connection.execute(_TO_LOAD, {"version_id": version_id}).one()


def committed_record(database: Database, name: str, number: int | None) -> PlainRow | None:
    """The committed version `number` of `name` (the latest if None) as a load reads it; None
    if there is none (why not is for the caller to say)."""
    with database.transaction(read_only=True) as connection:
        if number is None:
            return connection.execute(_LATEST, {"name": name}).first()
        return connection.execute(_NUMBERED, {"name": name, "number": number}).first()


def load_current(
    database: Database,
    version_id: str,
    store_for: Callable[[str], BaseArtifactStore],
    cache: bool = True,
) -> Any:
    return load_record(database, _record(database, version_id), store_for, cache)


def load_record(
    database: Database,
    row: PlainRow,
    store_for: Callable[[str], BaseArtifactStore],
    cache: bool = True,
) -> Any:
    """A version's value, read from where its record `row` says. If its data vanished
    because the version moved meanwhile (a migration removed the source copy), from where it
    is now; if because it was deleted meanwhile, DeletedError."""
    if row.status in GONE or row.artifact_store_id is None:
        raise deleted_error(row, row.artifact_name)
    try:
        return load_value(row, store_for(row.artifact_store_id), cache)
    except CorruptArtifactError:
        now = _record(database, row.id)
        if now.status in GONE or now.artifact_store_id is None:
            raise deleted_error(now, now.artifact_name) from None  # deleted while being read
        if (now.uri, now.artifact_store_id) == (row.uri, row.artifact_store_id):
            raise
        return load_value(now, store_for(now.artifact_store_id), cache)
