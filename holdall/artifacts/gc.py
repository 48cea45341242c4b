"""`holdall artifact gc`: clear away what interrupted saves left behind.

A save that was killed leaves its version reserved (never visible) and maybe some data. Such
a version is collected when its process is gone (same machine) or when it is older than the
grace period (a save on another machine might still be running).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select

from holdall.artifacts.versions import ABANDONED, RESERVED
from holdall.metadata.models import ArtifactVersionRow

if TYPE_CHECKING:
    from holdall.client import Client


@dataclass(frozen=True)
class Collected:
    label: str
    uri: str
    reason: str
    data_found: bool


def _process_alive(tag: str) -> bool | None:
    """True or False for a process on this machine; None when it ran elsewhere."""
    host, _, pid = tag.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _age(created: datetime) -> timedelta:
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - created


def _why_collect(row: ArtifactVersionRow, grace: timedelta) -> str | None:
    if row.status == ABANDONED:
        return "abandoned"
    alive = _process_alive(row.reserved_by)
    if alive is False:
        return f"its process ({row.reserved_by}) is gone"
    if _age(row.created) > grace:
        return f"reserved more than {grace} ago"
    return None


def collect(client: Client, grace: timedelta, dry_run: bool) -> list[Collected]:
    with client._session() as session:
        rows = session.scalars(
            select(ArtifactVersionRow).where(ArtifactVersionRow.status.in_([RESERVED, ABANDONED]))
        ).all()
    collected = []
    for row in rows:
        reason = _why_collect(row, grace)
        if reason is None:
            continue
        store = client._store_by_id(row.artifact_store_id)
        data_found = store.exists(row.uri)
        if row.status == ABANDONED and not data_found:
            continue  # nothing left to do
        collected.append(
            Collected(f"{row.artifact.name}:{row.version}", row.uri, reason, data_found)
        )
        if dry_run:
            continue
        if data_found:
            store.rmtree(row.uri)
        with client._session() as session:
            session.get_one(ArtifactVersionRow, row.id).status = ABANDONED
    return collected
