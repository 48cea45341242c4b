"""Artifact stores held by one long operation (a migration, from or to them).

While a store is held, a second such operation and any change to its record (update,
delete) are refused, naming the process that holds it: a migration copies into the place
the record names, and a record changed under it would strand what it copied. A lock whose
process is gone (on this machine) is taken over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import InUseError
from holdall.metadata.database import Database
from holdall.metadata.tables import StoreLockRow
from holdall.processes import process_alive, process_tag


class StoreBusyError(InUseError):
    pass


@dataclass(frozen=True)
class DeadHold:
    """Stores that a process now gone held: what they were to it (role -> store id)."""

    process: str
    purpose: str
    stores: dict[str, str] = field(default_factory=dict)


@contextmanager
def locked(
    database: Database, stores: Mapping[str, BaseArtifactStore], purpose: str
) -> Iterator[bool]:
    """Hold `stores` (by what each is to the operation: "source", "target") for this process
    while the block runs. A lock whose process is gone (on this machine) is taken over; a
    live one, or one of another machine, refuses. The block is told whether a dead holder's
    lock was taken over (it may have left work half done)."""
    tag = process_tag()
    ids = [store.id for store in stores.values()]
    took_over = False
    for _ in range(2):
        try:
            with database.session() as session:
                for role, store in stores.items():
                    session.add(
                        StoreLockRow(store_id=store.id, purpose=purpose, process=tag, role=role)
                    )
            break
        except IntegrityError:
            _clear_dead_locks(database, ids, list(stores.values()))
            took_over = True
    else:  # pragma: no cover - a lock cleared and taken again in between
        raise StoreBusyError("could not lock the stores: another process keeps taking them")
    try:
        yield took_over
    finally:
        with database.session() as session:
            session.execute(
                delete(StoreLockRow).where(
                    StoreLockRow.store_id.in_(ids), StoreLockRow.process == tag
                )
            )


def dead_holds(database: Database) -> list[DeadHold]:
    """Locks whose process is gone (on this machine), one per process."""
    with database.session(read_only=True) as session:
        rows = session.scalars(select(StoreLockRow).order_by(StoreLockRow.since)).all()
    holds: dict[str, DeadHold] = {}
    for row in rows:
        if process_alive(row.process) is False:
            hold = holds.setdefault(row.process, DeadHold(row.process, row.purpose))
            hold.stores[row.role or ""] = row.store_id
    return list(holds.values())


def _clear_dead_locks(database: Database, ids: list[str], stores: list[BaseArtifactStore]) -> None:
    names = {store.id: store.name for store in stores}
    with database.session() as session:
        held = session.scalars(select(StoreLockRow).where(StoreLockRow.store_id.in_(ids)))
        for lock in sorted(held, key=lambda lock: ids.index(lock.store_id)):  # source first
            if process_alive(lock.process) is False:
                session.delete(lock)
                continue
            raise _busy(
                lock,
                names[lock.store_id],
                "",
                fix="wait for it to finish (run this again then: it goes on where the other "
                "stopped); a lock whose process is gone is taken over on its machine",
            )


def refuse_if_held(session: Session, store_id: str, name: str, change: str) -> None:
    """Refuse `change` ("deleting it") of a store that a live process holds."""
    lock = session.get(StoreLockRow, store_id)
    if lock is None or process_alive(lock.process) is False:
        return
    pid = lock.process.split(":")[1]
    raise _busy(
        lock,
        name,
        f"; {change} now would strand the versions it copies",
        fix=f"wait for it to finish, or stop it (Ctrl-C where it runs, or kill {pid}): run "
        "again, it goes on where it stopped",
    )


def _busy(lock: StoreLockRow, name: str, why: str, fix: str) -> StoreBusyError:
    host, pid = lock.process.split(":")[:2]
    return StoreBusyError(
        f"artifact store '{name}' is busy: {lock.purpose} runs in process {pid} on {host}, "
        f"since {lock.since:%Y-%m-%d %H:%M:%S} UTC{why}",
        fix=fix,
    )
