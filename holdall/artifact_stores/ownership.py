"""Which metadata database owns a store: one marker file at the store's root.

Two databases writing to one folder or bucket would number their versions alike and
overwrite each other (two teammates with their own config dirs, a database that was reset).
The first database to write to a store leaves its id there; any other is refused.
"""

from __future__ import annotations

import json
import weakref

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import HoldallError

MARKER = ".holdall-store.json"
# Stores already checked by this process, and for which database.
_checked: weakref.WeakKeyDictionary[BaseArtifactStore, str] = weakref.WeakKeyDictionary()


class StoreOwnedError(HoldallError):
    pass


def _owner(store: BaseArtifactStore) -> str | None:
    try:
        with store.open(MARKER, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        return None
    owner = _database_of(content)
    if owner is None:
        raise StoreOwnedError(
            f"the marker {store.path}/{MARKER} of artifact store '{store.name}' is damaged, "
            "so it cannot tell which metadata database owns the store",
            fix=f"if this database owns it, remove the marker and it is written again: "
            f"rm {store.path}/{MARKER}",
        )
    return owner


def _database_of(marker: bytes) -> str | None:
    try:
        return str(json.loads(marker)["database"])
    except (ValueError, KeyError, TypeError):
        return None


def _elsewhere(store: BaseArtifactStore) -> str:
    return f"holdall artifact-store update {store.name or 'NAME'} --path=..."


def _check_enclosing(store: BaseArtifactStore, database: str, elsewhere: str) -> None:
    """Refuse a store inside another database's store (in one of its versions, say): its
    writes would land among that store's files. A damaged marker above says nothing."""
    for folder, marker in store.read_above(MARKER):
        owner = _database_of(marker)
        if owner is not None and owner != database:
            raise StoreOwnedError(
                f"artifact store '{store.name}' at {store.path} is inside {folder}, a store "
                f"of another metadata database ({owner}; this one is {database}): writing "
                "there could overwrite its versions",
                fix=f"give this store a path outside it: {elsewhere}",
            )


def _refuse(store: BaseArtifactStore, owner: str, database: str, elsewhere: str) -> StoreOwnedError:
    return StoreOwnedError(
        f"artifact store '{store.name}' at {store.path} belongs to another metadata database "
        f"({owner}; this one is {database}): writing here could overwrite its versions",
        fix="share one database (HOLDALL_DATABASE_URL, PostgreSQL for teams), or give this "
        f"store a path of its own: {elsewhere}",
    )


def check_owner(store: BaseArtifactStore, database: str, elsewhere: str | None = None) -> None:
    """Refuse a store that another database owns, or one inside such a store; a store with
    no marker and none above passes. `elsewhere`: the command that puts it at another path."""
    elsewhere = elsewhere or _elsewhere(store)
    owner = _owner(store)
    if owner is not None and owner != database:
        raise _refuse(store, owner, database, elsewhere)
    if owner is None:
        _check_enclosing(store, database, elsewhere)


def claim(store: BaseArtifactStore, database: str) -> None:
    """Before this database first writes to `store`: its marker, read, or written now."""
    if _checked.get(store) == database:
        return
    owner = _owner(store)
    if owner is None:
        _check_enclosing(store, database, _elsewhere(store))
        # The same bytes from every process of this database: on a bucket, where creating
        # is not exclusive, two first writes in a race leave one and the same object.
        marker = {"database": database}
        try:
            with store.open(MARKER, "xb") as handle:
                handle.write(json.dumps(marker).encode())
            owner = database
        except FileExistsError:  # another process wrote one first: whose?
            owner = _owner(store)
    if owner != database:
        raise _refuse(store, owner or "unknown", database, _elsewhere(store))
    _checked[store] = database
