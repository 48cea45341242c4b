"""Storage classes (tiers) per version: moving a version's files to a cheaper class, and
making an archived version readable again.

A version's files move one by one, in place (the same bytes under the same names, so their
checksums still hold); the record names the class once every file is in it. Interrupted,
the files moved so far stay moved and the same command finishes the rest. The store's own
records (its ownership marker) are outside every version's folder: they never move.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifact_stores.object_store import ObjectArtifactStore
from holdall.artifacts.views import ArtifactVersion
from holdall.errors import ConfigError, HoldallError, StateError
from holdall.metadata.database import Database
from holdall.metadata.tables import ArtifactVersionRow, VersionStatus

# A file's state: archived (a restore is needed), being restored, restored (readable for a
# while), or readable as it is.
ARCHIVED, RESTORING, RESTORED, READABLE = "archived", "restoring", "restored", "readable"


def tiered(store: BaseArtifactStore, version: ArtifactVersion) -> ObjectArtifactStore:
    """The version's store, if its cloud has storage classes."""
    if not isinstance(store, ObjectArtifactStore) or not store.STORAGE_CLASSES:
        raise ConfigError(
            f"{version.label} is in artifact store '{store.name}', which has one storage "
            "class: only S3, GCS and Azure stores have tiers",
            fix=f"move it to a cloud store first: holdall artifact-store migrate {store.name} "
            f"OTHER --artifact {version.label}",
        )
    return store


def check_class(store: ObjectArtifactStore, storage_class: str) -> str:
    """The class as the service spells it (S3's STANDARD_IA, Azure's Cool), whatever the
    case it was given in."""
    spelled = {name.lower(): name for name in store.STORAGE_CLASSES}
    found = spelled.get(storage_class.strip().lower())
    if found is None:
        raise ConfigError(
            f"{store.SERVICE} has no storage class {storage_class[:40]!r}; its classes: "
            + ", ".join(store.STORAGE_CLASSES),
            fix=f"pick one of them: --storage-class {store.STORAGE_CLASSES[0]}",
        )
    return found


def _paths(version: ArtifactVersion) -> list[str]:
    return [f"{version.uri}/{relative}" for relative in sorted(version.files)]


def move(
    database: Database,
    version: ArtifactVersion,
    store: BaseArtifactStore,
    storage_class: str,
    moved: Callable[[str], None] = lambda path: None,
) -> str:
    """Every file of `version` moved to `storage_class`, then the record; the class, as the
    service spells it."""
    cloud = tiered(store, version)
    spelled = check_class(cloud, storage_class)
    for path in _paths(version):
        cloud.set_storage_class(path, spelled)
        moved(path)
    record(database, version, spelled)
    return spelled


def record(database: Database, version: ArtifactVersion, storage_class: str) -> None:
    with database.session() as session:
        session.execute(
            update(ArtifactVersionRow)
            .where(
                ArtifactVersionRow.id == version.id,
                ArtifactVersionRow.status == VersionStatus.COMMITTED,
            )
            .values(storage_class=storage_class)
        )


def record_after_restore(
    database: Database, store: BaseArtifactStore, version: ArtifactVersion
) -> None:
    """The class a restored version is in now: Azure's rehydration moves it out of Archive
    for good; S3's restore leaves it in its class (a copy is readable for a while)."""
    cloud = tiered(store, version)
    paths = _paths(version)
    if paths:
        record(database, version, cloud.storage_class_of(paths[0]))


@dataclass(frozen=True)
class RestoreState:
    files: int
    archived: int
    restoring: int
    restored: int = 0

    @property
    def readable(self) -> int:
        return self.files - self.archived - self.restoring


def _states(store: ObjectArtifactStore, version: ArtifactVersion) -> dict[str, str]:
    return {path: store.restore_state(path) for path in _paths(version)}


def _counted(states: dict[str, str]) -> RestoreState:
    found = list(states.values())
    counts = (found.count(ARCHIVED), found.count(RESTORING), found.count(RESTORED))
    return RestoreState(len(found), *counts)


def restore_state(store: ObjectArtifactStore, version: ArtifactVersion) -> RestoreState:
    return _counted(_states(store, version))


def restore(
    version: ArtifactVersion,
    store: BaseArtifactStore,
    days: int,
    speed: str,
) -> RestoreState:
    """Ask the cloud to make each archived file of `version` readable for `days`; what the
    files' states were before."""
    cloud = tiered(store, version)
    if not 1 <= days <= 365:
        raise ConfigError(f"--days {days}: give 1 to 365", fix="--days 7")
    states = _states(cloud, version)  # each file asked once
    before = _counted(states)
    if before.archived == before.restoring == before.restored == 0:
        where = version.storage_class or "its store's own class"
        raise StateError(
            f"{version.label} is not archived (it is in {where}): it loads as it is",
            fix=f"see where it is: holdall artifact describe {version.label}",
        )
    for path, state in states.items():
        if state == ARCHIVED:
            cloud.request_restore(path, days, speed)
    return before


def wait_until_readable(
    store: BaseArtifactStore,
    version: ArtifactVersion,
    timeout_s: float,
    report: Callable[[RestoreState, float], None] = lambda state, waited: None,
    sleep: Callable[[float], None] = time.sleep,
) -> RestoreState:
    """Poll, with growing pauses (1 s to 60 s), until every file is readable; a clear error
    once `timeout_s` has passed (a restore from S3 Glacier takes hours: waiting longer is
    asked for, never assumed)."""
    cloud = tiered(store, version)
    started = time.monotonic()
    pause = 1.0
    while True:
        state = restore_state(cloud, version)
        waited = time.monotonic() - started
        report(state, waited)
        if state.readable == state.files:
            return state
        if waited >= timeout_s:
            raise HoldallError(
                f"{version.label} is still being restored after {waited:.0f} s "
                f"({state.readable} of {state.files} files readable); the restore goes on",
                fix=f"wait longer: holdall artifact version restore {version.name} "
                f"{version.version} --wait --timeout {int(timeout_s * 2)}",
            )
        sleep(min(pause, max(timeout_s - waited, 0.1)))
        pause = min(pause * 2, 60.0)


def parse_transitions(store: ObjectArtifactStore, given: Sequence[str]) -> list[tuple[int, str]]:
    """ "30:STANDARD_IA" and the like: days (whole, rising) and a class the cloud has."""
    found: list[tuple[int, str]] = []
    for text in given:
        days, _, kind = text.partition(":")
        if not days.strip().isdigit() or not kind.strip():
            raise ConfigError(
                f"--transition {text[:60]!r} is not DAYS:CLASS",
                fix="--transition 30:STANDARD_IA --transition 180:GLACIER",
            )
        number = int(days)
        if found and number <= found[-1][0]:
            raise ConfigError(
                f"--transition {text}: the days must rise from one transition to the next",
                fix="--transition 30:STANDARD_IA --transition 180:GLACIER",
            )
        found.append((number, check_class(store, kind)))
    return found


def set_lifecycle(
    store: BaseArtifactStore, transitions: Sequence[str], dry_run: bool
) -> tuple[Any, Any]:
    if not isinstance(store, ObjectArtifactStore) or not store.STORAGE_CLASSES:
        raise ConfigError(
            f"artifact store '{store.name}' has one storage class: lifecycle rules are for "
            "S3, GCS and Azure stores",
            fix="holdall artifact-store list",
        )
    return store.lifecycle_rule(parse_transitions(store, transitions), dry_run)
