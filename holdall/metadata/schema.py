"""Which revision of the schema a database is at, and bringing it to the one this holdall needs.

Opening a database costs one look at its revision. Only when that differs does holdall load
Alembic, take the database's write lock (SQLite) or an advisory lock (PostgreSQL), look again,
and upgrade, so that processes opening an old database together upgrade it once.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, insert, inspect, select, text

from holdall import __version__
from holdall.errors import StateError
from holdall.metadata.tables import SchemaUpgradeRow
from holdall.settings import AUTO_UPGRADE_ENV, flag

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions (a test holds this to the scripts).
HEAD = "0013"
# The schema of holdall 0.1.0, which made its tables without recording a revision.
BASELINE = "0001"
BASELINE_TABLE = "stack_components"
VERSION_TABLE = "alembic_version"
SCRIPTS = "holdall.metadata:migrations"
LOCK_KEY = 0x686F6C64  # "hold": the PostgreSQL advisory lock held while upgrading


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: an empty database, or one made by holdall 0.1.0
    head: str
    empty: bool
    known: bool  # whether this holdall has the current revision's script
    upgraded_by: str | None  # the holdall release that last upgraded it

    @property
    def state(self) -> str:
        if self.empty:
            return "empty (created on first use)"
        if self.current == self.head:
            return "up to date"
        if not self.known:
            return f"newer than this holdall ({__version__})"
        return "needs upgrade: holdall db upgrade"


def _recorded_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    revision = connection.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return None if revision is None else str(revision)


def _upgraded_by(connection: Connection) -> str | None:
    if not inspect(connection).has_table(SchemaUpgradeRow.__tablename__):
        return None
    return connection.scalar(
        select(SchemaUpgradeRow.holdall_version).order_by(SchemaUpgradeRow.id.desc()).limit(1)
    )


def _config(connection: Connection | None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPTS)
    config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config(None))
    return {script.revision for script in scripts.walk_revisions()}


def read_status(connection: Connection) -> SchemaStatus:
    current = _recorded_revision(connection)
    empty = current is None and not inspect(connection).has_table(BASELINE_TABLE)
    return SchemaStatus(
        current=current,
        head=HEAD,
        empty=empty,
        known=current is None or current == HEAD or current in known_revisions(),
        upgraded_by=_upgraded_by(connection),
    )


def _refuse_newer(status: SchemaStatus, where: str) -> StateError:
    by = f"holdall {status.upgraded_by}" if status.upgraded_by else "a newer holdall"
    return StateError(
        f"the metadata database {where} was upgraded by {by} (schema revision "
        f"{status.current}); this holdall ({__version__}) knows revisions up to {HEAD} and "
        "leaves it untouched",
        fix="upgrade holdall: pip install --upgrade holdall",
    )


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic's step-by-step log at INFO, kept out of a program whose root logger shows INFO
    (ZenML's does): the upgrade says what it did in `holdall db status`, and HOLDALL_DEBUG=1
    shows the steps."""
    logger = logging.getLogger("alembic")
    level = logger.level
    if not os.environ.get("HOLDALL_DEBUG"):
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _refuse_old(status: SchemaStatus, where: str) -> StateError:
    return StateError(
        f"the metadata database {where} is at schema revision {status.current or BASELINE} "
        f"and this holdall needs {HEAD}; {AUTO_UPGRADE_ENV}=0 turns the automatic upgrade off",
        fix="holdall db upgrade",
    )


def _apply(connection: Connection, status: SchemaStatus) -> None:
    from alembic import command

    config = _config(connection)
    with _quiet_alembic():
        if status.current is None and not status.empty:
            command.stamp(config, BASELINE)
        command.upgrade(config, HEAD)
    connection.execute(
        insert(SchemaUpgradeRow).values(
            revision=HEAD,
            holdall_version=__version__,
            upgraded=datetime.now(timezone.utc).replace(tzinfo=None),
        )
    )


def upgrade(
    connect: Callable[[], AbstractContextManager[Connection]], where: str, *, explicit: bool
) -> tuple[SchemaStatus, bool]:
    """Bring the database to HEAD under its lock: (status before, whether anything changed).

    `connect` opens a connection whose transaction holds the database's write lock.
    """
    with connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        status = read_status(connection)
        if status.current == HEAD:
            return status, False  # up to date, or another process upgraded it while we waited
        if not status.known:
            raise _refuse_newer(status, where)
        if not (status.empty or explicit or flag(AUTO_UPGRADE_ENV, default=True)):
            raise _refuse_old(status, where)
        _apply(connection, status)
        connection.commit()
    if not status.empty and not explicit:
        print(
            f"holdall: upgraded the metadata database {where} from schema revision "
            f"{status.current or BASELINE} to {HEAD}",
            file=sys.stderr,
        )
    return status, True


def ensure_current(
    engine: Engine, connect: Callable[[], AbstractContextManager[Connection]], where: str
) -> bool:
    """The one look every process takes; an upgrade only when the revision is not HEAD.
    Whether this process made or upgraded the schema."""
    with engine.connect() as connection:
        if _recorded_revision(connection) == HEAD:
            return False
    return upgrade(connect, where, explicit=False)[1]
