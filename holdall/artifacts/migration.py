"""Moving committed versions from one artifact store to another, data and records together.

For each version: every file is copied, streamed, and checked against its recorded checksum
as it is read from the source; then read back from the destination and checked again. Only
then does the version's record move to the destination, in one transaction, so that a load
(by any process) reads one whole copy or the other, never a half-copied place. A source
copy is removed (`delete_source`) only after its record moved.

Killed at any point and run again, it goes on: moved versions are no longer in the source,
files already at the destination with the right checksum are kept, and a version whose
record moved but whose source copy was not yet removed is removed then.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifact_stores.locks import locked
from holdall.artifact_stores.ownership import claim
from holdall.artifacts.checksum import BLOCK, FileDigests, hasher_for
from holdall.artifacts.deletion import GONE, remove_data
from holdall.artifacts.integrity import decode_files, hash_file
from holdall.errors import ConfigError, HoldallError, NotFoundError, error_text
from holdall.metadata.database import Database
from holdall.metadata.tables import ArtifactRow, ArtifactVersionRow, ComponentRow, VersionStatus
from holdall.processes import spool_owner_alive


class MigrationError(HoldallError):
    pass


@dataclass(frozen=True)
class Move:
    """One version to move: where its data is, where it goes, and what it must be."""

    version_id: str
    label: str  # "name:version"
    source_uri: str
    target_uri: str
    files: FileDigests

    @property
    def size(self) -> int:
        return sum(size for size, _ in self.files.values())


@dataclass(frozen=True)
class Plan:
    moves: list[Move]
    # Versions whose record moved already but whose source copy is still there: removed
    # when the source is to be deleted.
    leftovers: list[Move]
    at_destination: int  # selected versions in the destination already

    @property
    def files(self) -> int:
        return sum(len(move.files) for move in self.moves)

    @property
    def size(self) -> int:
        return sum(move.size for move in self.moves)


@dataclass
class Summary:
    moved: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # label -> why
    removed_from_source: list[str] = field(default_factory=list)
    # Deleted while they were being copied: their copy in the destination removed too.
    deleted: list[str] = field(default_factory=list)
    # Moved, but their source copy could not be removed (a rerun removes it): label -> why
    not_removed: dict[str, str] = field(default_factory=dict)
    files_copied: int = 0
    files_kept: int = 0  # already at the destination, verified
    bytes_copied: int = 0


class Progress:
    """What a migration reports as it goes; the CLI draws it."""

    def started(self, plan: Plan) -> None: ...

    def file_done(self, move: Move, path: str, size: int, copied: bool) -> None: ...

    def version_done(self, move: Move, error: str | None) -> None: ...


def relocated(uri: str, source: BaseArtifactStore, target: BaseArtifactStore) -> str | None:
    """`uri` in `source` at the same place under `target`'s root (None: not in `source`)."""
    root = source.path.rstrip("/")
    if uri != root and not uri.startswith(root + "/"):
        return None
    return target.path.rstrip("/") + uri[len(root) :]


# -- planning -------------------------------------------------------------------------------


def _selector(text: str) -> tuple[str, int | None]:
    name, colon, number = text.partition(":")
    if not name or (colon and not number.isdigit()):
        raise ConfigError(
            f"--artifact {text}: a version is a number (NAME or NAME:VERSION, e.g. dataset:3)"
        )
    return name, int(number) if number else None


def plan(
    database: Database,
    source: BaseArtifactStore,
    target: BaseArtifactStore,
    selectors: Sequence[str] = (),
) -> Plan:
    """The committed versions to move from `source` to `target`: all of them, or those that
    `selectors` name (NAME, every version; NAME:VERSION, one)."""
    check_apart(source, target)
    wanted = [_selector(text) for text in selectors]
    with database.session(read_only=True) as session:
        query = (
            select(ArtifactVersionRow, ArtifactRow.name)
            .join(ArtifactRow)
            .where(ArtifactVersionRow.status == VersionStatus.COMMITTED)
            .where(ArtifactVersionRow.artifact_store_id.in_([source.id, target.id]))
            .order_by(ArtifactRow.name, ArtifactVersionRow.version)
        )
        rows = [(row, name) for row, name in session.execute(query).all()]
        if wanted:
            _check_selectors(session, wanted, source, target)
            rows = [
                (row, name)
                for row, name in rows
                if any(name == n and number in (None, row.version) for n, number in wanted)
            ]
    moves, leftovers, already = [], [], 0
    for row, name in rows:
        label = f"{name}:{row.version}"
        files = decode_files(row.files)
        if row.artifact_store_id == source.id:
            target_uri = relocated(row.uri, source, target)
            if target_uri is None:
                raise MigrationError(
                    f"{label} is at {row.uri}, outside artifact store '{source.name}' "
                    f"({source.path}): it cannot be placed alike in '{target.name}'"
                )
            moves.append(Move(row.id, label, row.uri, target_uri, files))
        else:
            already += 1
            source_uri = relocated(row.uri, target, source)
            if source_uri is not None:
                leftovers.append(Move(row.id, label, source_uri, row.uri, files))
    return Plan(moves, leftovers, already)


def check_apart(source: BaseArtifactStore, target: BaseArtifactStore) -> None:
    """Refuse one store as both ends, or two whose roots hold one another."""
    if source.id == target.id:
        raise ConfigError(
            f"'{source.name}' is both the source and the destination",
            fix="name another destination: holdall artifact-store list",
        )
    one, other = source.path.rstrip("/") + "/", target.path.rstrip("/") + "/"
    if one.startswith(other) or other.startswith(one):
        raise ConfigError(
            f"artifact stores '{source.name}' ({source.path}) and '{target.name}' "
            f"({target.path}) overlap: one holds the other's data",
            fix="migrate to a store with a path of its own",
        )


def _check_selectors(
    session: Session,
    wanted: list[tuple[str, int | None]],
    source: BaseArtifactStore,
    target: BaseArtifactStore,
) -> None:
    for name, number in wanted:
        query = (
            select(ArtifactVersionRow.version, ArtifactVersionRow.artifact_store_id)
            .join(ArtifactRow)
            .where(ArtifactRow.name == name, ArtifactVersionRow.status == VersionStatus.COMMITTED)
        )
        found = [(version, store) for version, store in session.execute(query).all()]
        if not found:
            raise NotFoundError(f"no artifact called '{name}'", fix="holdall artifact list")
        if number is not None:
            found = [(version, store) for version, store in found if version == number]
            if not found:
                raise NotFoundError(
                    f"artifact '{name}' has no version {number}",
                    fix=f"holdall artifact versions {name}",
                )
        if not {store for _, store in found} & {source.id, target.id}:
            label = f"{name}:{number}" if number is not None else f"artifact '{name}'"
            raise NotFoundError(
                f"{label} is not in artifact store '{source.name}'",
                fix=f"see where it is: holdall artifact describe {name}",
            )


# -- copying ----------------------------------------------------------------------------------


class Mismatch(MigrationError):
    pass


def _verified(store: BaseArtifactStore, path: str, expected: tuple[int, str]) -> bool:
    try:
        return hash_file(store, path, hasher_for(expected[1])) == expected
    except (FileNotFoundError, IsADirectoryError):
        return False


def copy_file(
    source: BaseArtifactStore,
    target: BaseArtifactStore,
    move: Move,
    relative: str,
) -> bool:
    """Copy one file of `move` (False: it was at the destination already, verified)."""
    expected = move.files[relative]
    source_path, target_path = f"{move.source_uri}/{relative}", f"{move.target_uri}/{relative}"
    if target.exists(target_path) and _verified(target, target_path, expected):
        return False
    hasher = hasher_for(expected[1])
    with (
        _open_source(source, source_path, move) as reader,
        target.open(target_path, "wb") as writer,
    ):
        while chunk := reader.read(BLOCK):
            hasher.update(chunk, alongside=lambda: writer.write(chunk))
        if (hasher.size, hasher.checksum()) != expected:
            # Raised inside the write: the staged copy is discarded, nothing appears.
            raise Mismatch(
                f"{move.label}: {source_path} is not what was saved (size {hasher.size}, "
                f"expected {expected[0]}); this version stays in '{source.name}'",
                fix="the source data was changed or damaged; the version cannot be moved",
            )
    if not _verified(target, target_path, expected):
        raise Mismatch(
            f"{move.label}: {target_path} does not read back as written; this version "
            f"stays in '{source.name}'",
            fix=f"check artifact store '{target.name}', then run the migration again",
        )
    return True


def _open_source(source: BaseArtifactStore, path: str, move: Move) -> IO[bytes]:
    """A file of the version in the source store; one that is gone, or a folder now, is
    damage to the version, named as such."""
    try:
        return source.open(path, "rb")
    except FileNotFoundError:
        what = "is missing"
    except (IsADirectoryError, NotADirectoryError):
        what = "is a folder where the version recorded a file"
    raise Mismatch(
        f"{move.label}: {path} {what}: the version's data in '{source.name}' is damaged, and "
        "it stays there",
        fix=f"the store's files were changed outside holdall; see the version with: holdall "
        f"artifact describe {move.label}",
    )


def _move_record(
    database: Database, move: Move, source: BaseArtifactStore, target: BaseArtifactStore
) -> bool:
    """The version's record, moved to `target` if it is still where the plan found it, and
    both stores' records are still as the migration found them."""
    with database.session() as session:
        for store in (source, target):
            _check_unchanged(session, store)
        done = session.execute(
            update(ArtifactVersionRow)
            .where(
                ArtifactVersionRow.id == move.version_id,
                ArtifactVersionRow.artifact_store_id == source.id,
                ArtifactVersionRow.uri == move.source_uri,
                ArtifactVersionRow.status == VersionStatus.COMMITTED,
            )
            .values(uri=move.target_uri, artifact_store_id=target.id)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def _deleted(database: Database, version_id: str) -> bool:
    with database.session(read_only=True) as session:
        row = session.get_one(ArtifactVersionRow, version_id)
        return row.status in GONE


class StoreChangedError(MigrationError):
    """A store's record changed under a running migration: nothing more can move."""


def _check_unchanged(session: Session, store: BaseArtifactStore) -> None:
    """The lock keeps update and delete out while a migration runs, but one that began
    before the lock was taken may still commit: a record is read again before each move."""
    row = session.get(ComponentRow, store.id)
    if row is None:
        raise StoreChangedError(
            f"artifact store '{store.name}' was deleted during the migration; no more versions "
            "move",
            fix="register the store again, then run the migration again",
        )
    stored = json.loads(row.config)
    found = store.config.model_dump(mode="json")
    changed = sorted(k for k in store.config.LOCATION_FIELDS if stored.get(k) != found.get(k))
    if changed:
        raise StoreChangedError(
            f"artifact store '{store.name}' had its {', '.join('--' + k for k in changed)} "
            "changed during the migration; no more versions move",
            fix=f"check it (holdall artifact-store describe {store.name}), then run the "
            "migration again",
        )


@dataclass
class _Pending:
    """A version whose files are being copied."""

    move: Move
    left: int
    error: str | None = None


def migrate(
    database: Database,
    source: BaseArtifactStore,
    target: BaseArtifactStore,
    the_plan: Plan,
    *,
    jobs: int = 4,
    delete_source: bool = False,
    progress: Progress | None = None,
    after_a_kill: bool = False,
) -> Summary:
    """Carry out `the_plan` (see the module's docstring); a version that fails stays where it
    was, named in the summary with why, and the others go on. `after_a_kill`: a migration
    between these stores was killed, and what it left half done is cleared first."""
    progress = progress or Progress()
    summary = Summary()
    claim(target, database.identity)  # the destination is ours to write, and reachable
    progress.started(the_plan)
    lock = threading.Lock()

    def finish(pending: _Pending) -> None:
        move = pending.move
        if pending.error is None:
            try:
                if not _move_record(database, move, source, target):
                    if _deleted(database, move.version_id):
                        remove_data(target, move.target_uri)  # no record reaches it
                        summary.deleted.append(move.label)
                        progress.version_done(move, None)
                        return
                    raise MigrationError(f"{move.label} changed during the migration")
            except StoreChangedError:
                raise  # the whole migration stops: what moved stays moved
            except HoldallError as exc:
                pending.error = exc.message
        if pending.error is not None:
            summary.failed[move.label] = pending.error
        else:
            summary.moved.append(move.label)
            if delete_source:
                _remove(source, move, summary)
        progress.version_done(move, pending.error)

    def copy_one(pending: _Pending, relative: str) -> None:
        move = pending.move
        try:
            copied = copy_file(source, target, move, relative)
        except Exception as exc:  # this version stays; the others go on
            with lock:
                pending.error = pending.error or error_text(exc)
            return
        size = move.files[relative][0]
        with lock:
            if copied:
                summary.files_copied += 1
                summary.bytes_copied += size
            else:
                summary.files_kept += 1
        progress.file_done(move, relative, size, copied)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="holdall-migrate")
    try:
        running: dict[Future[None], _Pending] = {}
        for move in the_plan.moves:
            if after_a_kill:
                _clear_leftovers(target, move)
            pending = _Pending(move, len(move.files))
            if not move.files:
                finish(pending)
            for relative in sorted(move.files):
                running[pool.submit(copy_one, pending, relative)] = pending
        # Records move here, in this thread, as each version's last file is done.
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                pending = running.pop(future)
                future.result()
                pending.left -= 1
                if pending.left == 0:
                    finish(pending)
    finally:
        # Interrupted (Ctrl-C): no new copies start; what was copied is kept for next time.
        pool.shutdown(wait=True, cancel_futures=True)
    if delete_source:
        for move in the_plan.leftovers:
            _remove(source, move, summary)
    return summary


def _clear_leftovers(target: BaseArtifactStore, move: Move) -> int:
    """What a killed migration left in a version's destination folder: files it staged
    (whose process is gone) and uploads it never finished; how many. No one else writes
    there: the version's folder is its own, and the store is held."""
    cleared = 0
    if target.exists(move.target_uri):
        for directory, _dirs, names in target.walk(move.target_uri):
            for name in names:
                if spool_owner_alive(name) is False:
                    target.remove(f"{directory}/{name}")
                    cleared += 1
    return cleared + target.discard_incomplete_uploads(move.target_uri)


def clear_killed(
    database: Database, source: BaseArtifactStore, target: BaseArtifactStore
) -> list[str]:
    """What a killed migration from `source` to `target` left half copied in `target`,
    cleared without going on with it (for gc: a rerun clears it too); the versions that had
    some. Both stores are held meanwhile, so that no migration copies there as it runs."""
    purpose = f"gc's clean-up after the migration from '{source.name}' to '{target.name}'"
    with locked(database, {"source": source, "target": target}, purpose):
        moves = plan(database, source, target).moves
        return [move.label for move in moves if _clear_leftovers(target, move)]


def _remove(source: BaseArtifactStore, move: Move, summary: Summary) -> None:
    try:
        if source.exists(move.source_uri):
            source.rmtree(move.source_uri)
            summary.removed_from_source.append(move.label)
    except Exception as exc:  # the version moved all the same; a rerun removes the copy
        summary.not_removed[move.label] = error_text(exc)


def run(
    database: Database,
    source: BaseArtifactStore,
    target: BaseArtifactStore,
    selectors: Sequence[str] = (),
    *,
    jobs: int = 4,
    delete_source: bool = False,
    progress: Progress | None = None,
) -> tuple[Plan, Summary]:
    """Plan and migrate, holding both stores: a second migration of either is refused."""
    check_apart(source, target)
    purpose = f"the migration from '{source.name}' to '{target.name}'"
    with locked(database, {"source": source, "target": target}, purpose) as took_over:
        the_plan = plan(database, source, target, selectors)
        summary = migrate(
            database,
            source,
            target,
            the_plan,
            jobs=jobs,
            delete_source=delete_source,
            progress=progress,
            after_a_kill=took_over,
        )
    return the_plan, summary
