"""Engine, sessions and schema of the metadata database, with its failures put in words."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from holdall.errors import StateError
from holdall.metadata.schema import HEAD, SchemaStatus, ensure_current, read_status, upgrade
from holdall.settings import CONFIG_DIR_ENV, DATABASE_URL_ENV, seconds

# How long a writer waits for another process's transaction before giving up.
SQLITE_BUSY_TIMEOUT_S = 60
BUSY_TIMEOUT_ENV = "HOLDALL_DB_BUSY_TIMEOUT"
# How long each of the short waits for the write lock lasts (see _take_write_lock).
BUSY_SLICE_MS = 100
READ_ONLY = "holdall_read_only"  # the execution option that marks a read-only transaction
# How long the process that made the schema keeps trying to switch it to WAL.
WAL_SWITCH_S = 5
# The advisory lock that sealing secrets (shared) and rotating their key (exclusive) take on
# PostgreSQL; on SQLite every writing transaction excludes the others already.
SECRETS_LOCK = 0x686F6C64  # "hold"
# PostgreSQL's error for a lock not granted within lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"
# Sessions of other holdall processes inside a transaction, oldest first: who may hold the
# lock a statement gave up on (PostgreSQL no longer says, once the wait is cancelled).
HOLDERS = text(
    "SELECT pid, application_name, EXTRACT(EPOCH FROM now() - xact_start) AS seconds, state "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND xact_start IS NOT NULL AND application_name LIKE 'holdall pid %' "
    "ORDER BY xact_start"
)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


def _configure_sqlite(engine: Engine, enforce_foreign_keys: bool) -> None:
    # pysqlite opens transactions lazily and upgrades read locks to write locks, which fails
    # at once (no busy wait) when two processes do it together. BEGIN IMMEDIATE takes the
    # write lock up front, so concurrent writers queue on the busy timeout instead.
    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # SQLite checks foreign keys only when asked, connection by connection.
        dbapi_connection.execute(f"PRAGMA foreign_keys = {'ON' if enforce_foreign_keys else 'OFF'}")
        # In WAL mode (set when the schema is made or upgraded), FULL keeps every commit
        # durable: the log is fsync'd at each commit.
        dbapi_connection.execute("PRAGMA synchronous = FULL")

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # A read-only transaction takes no lock up front: in WAL mode it reads a snapshot and
        # never waits for a writer.
        # Straight to the driver: a save opens two transactions, and SQLAlchemy's statement
        # machinery cost more than their SQL.
        driver = connection.connection.driver_connection
        if connection.get_execution_options().get(READ_ONLY, False):
            driver.execute("BEGIN")
        else:
            _take_write_lock(driver, busy_timeout())


def _configure_postgresql(engine: Engine) -> None:
    # A row another process holds (a saver stopped with Ctrl-Z mid-reservation) is waited
    # for as long as a busy SQLite database is, then refused; without it, for ever.
    @event.listens_for(engine, "begin")
    def _lock_timeout(connection: Any) -> None:
        milliseconds = max(round(busy_timeout() * 1000), 1)
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")


def application_name() -> str:
    """How this process shows in pg_stat_activity, so that a busy error can name it."""
    return f"holdall pid {os.getpid()} on {socket.gethostname()}"[:63]  # NAMEDATALEN - 1


def _take_write_lock(driver: sqlite3.Connection, timeout: float) -> None:
    """BEGIN IMMEDIATE, waited for in short slices: SQLite's own busy wait sleeps in C, where
    Ctrl-C is not seen until it gives up (a minute later). Between slices Python is back, and
    an interrupt stops the wait at once."""
    deadline = time.monotonic() + timeout
    driver.execute(f"PRAGMA busy_timeout = {BUSY_SLICE_MS}")
    try:
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
    finally:
        # Statements inside the transaction (a WAL checkpoint, say) keep the whole wait.
        driver.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")


def use_write_ahead_log(path: Path) -> None:
    """WAL: a commit is one append and one fsync of the log (a save commits twice), and
    readers never wait for a writer. Set once, by whoever made or upgraded the schema (never
    on a database this holdall refused); it stays with the file.

    The switch needs the database to itself for a moment, which SQLite does not wait for:
    tried again between other processes' transactions, and left for a later upgrade if they
    never pause (the rollback journal it keeps meanwhile is as safe, only slower)."""
    deadline = time.monotonic() + WAL_SWITCH_S
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as connection:
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    return
                time.sleep(0.01)


def busy_timeout() -> float:
    """How long a write waits for another process's transaction (HOLDALL_DB_BUSY_TIMEOUT)."""
    return seconds(BUSY_TIMEOUT_ENV, SQLITE_BUSY_TIMEOUT_S)


# Less room than this beside an SQLite database: the "disk I/O error" is the disk being full
# (WAL mode needs room for its -shm and -wal files even to read).
FULL_DISK_BYTES = 256 * 1024


def _no_room(path: Path | None, reason: str) -> bool:
    """An SQLite I/O error on a disk with next to no room left: a full disk."""
    if path is None or "disk i/o error" not in reason:
        return False
    try:
        return shutil.disk_usage(path.parent).free < FULL_DISK_BYTES
    except OSError:
        return False


def describe_database_error(url: str, exc: BaseException) -> StateError:
    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    path = _sqlite_file(url)
    lowered = reason.lower()
    if path and ("readonly" in lowered or "unable to open" in lowered):
        return StateError(
            f"cannot write the metadata database {path}: {reason}",
            fix=f"make {path.parent} writable (chmod u+w {path.parent}), "
            f"or set {CONFIG_DIR_ENV} to a writable folder",
        )
    if path and ("locked" in lowered or "busy" in lowered):
        return StateError(
            f"the metadata database {path} is busy: another process held it locked for "
            f"{busy_timeout():g} s",
            fix=f"let that process finish (a long save or gc?) and run this again, or wait "
            f"longer: {BUSY_TIMEOUT_ENV}=300",
        )
    if "disk is full" in lowered or "no space left" in lowered or _no_room(path, lowered):
        where = path.parent if path else "the database server"
        return StateError(
            f"the disk under the metadata database is full ({where}): {reason}",
            fix=f"free space on {where}, then run this again",
        )
    if path and ("not a database" in lowered or "malformed" in lowered):
        return StateError(
            f"the metadata database {path} is damaged: {reason}",
            fix=f"mv {path} {path}.damaged   # holdall then starts a new, empty one",
        )
    return StateError(
        f"metadata database {shown} failed: {reason}",
        fix=f"check that the database is reachable and {DATABASE_URL_ENV} is right",
    )


class Database:
    """Connects on first use, never at construction; brings the schema up to date then."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    @property
    def shown_url(self) -> str:
        path = _sqlite_file(self.url)
        return str(path) if path else make_url(self.url).render_as_string(hide_password=True)

    @cached_property
    def _reader(self) -> Engine:
        return self.engine.execution_options(**{READ_ONLY: True})

    @property
    def engine(self) -> Engine:
        """The engine as it is, schema unchecked (for `holdall db status`)."""
        if self._engine is None:
            self._engine = self._create_engine(enforce_foreign_keys=True)
        return self._engine

    def _create_engine(self, *, enforce_foreign_keys: bool) -> Engine:
        path = _sqlite_file(self.url)
        if path is None:
            if make_url(self.url).get_backend_name() != "postgresql":
                return create_engine(self.url, pool_pre_ping=True)
            engine = create_engine(
                self.url,
                pool_pre_ping=True,
                connect_args={"application_name": application_name()},
            )
            _configure_postgresql(engine)
            return engine
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"cannot create the config dir {path.parent}: {exc.strerror}",
                fix=f"set {CONFIG_DIR_ENV} to a writable folder",
            ) from exc
        engine = create_engine(self.url, connect_args={"timeout": busy_timeout()})
        _configure_sqlite(engine, enforce_foreign_keys)
        return engine

    @contextmanager
    def _locked_connection(self) -> Iterator[Connection]:
        # SQLite copies a table to change a column, and its foreign keys must be off for that
        # (they can only be switched outside a transaction): a connection of its own.
        engine = self._create_engine(enforce_foreign_keys=False)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    @cached_property
    def identity(self) -> str:
        """This database's id (revision 0004 made it), which the stores it owns record."""
        from sqlalchemy import select

        from holdall.metadata.tables import DatabaseIdentityRow

        with self.session(read_only=True) as session:
            return str(session.scalars(select(DatabaseIdentityRow.id)).one())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine, self._sessions = None, None
        self.__dict__.pop("_reader", None)
        self.__dict__.pop("identity", None)

    def status(self) -> SchemaStatus:
        path = _sqlite_file(self.url)
        if path is not None and not path.exists():
            return SchemaStatus(current=None, head=HEAD, empty=True, known=True, upgraded_by=None)
        try:
            with self.engine.connect() as connection:
                return read_status(connection)
        except (SQLAlchemyError, ImportError) as exc:
            raise describe_database_error(self.url, exc) from exc

    def upgrade(self) -> tuple[SchemaStatus, bool]:
        """`holdall db upgrade`: (the status before, whether anything changed)."""
        try:
            before, changed = upgrade(self._locked_connection, self.shown_url, explicit=True)
            self._after_upgrade(changed)
        except (SQLAlchemyError, ImportError, sqlite3.Error) as exc:
            raise describe_database_error(self.url, exc) from exc
        return before, changed

    def _connect(self) -> sessionmaker[Session]:
        try:
            self._after_upgrade(
                ensure_current(self._reader, self._locked_connection, self.shown_url)
            )
        except (SQLAlchemyError, ImportError, sqlite3.Error) as exc:
            raise describe_database_error(self.url, exc) from exc
        return sessionmaker(self.engine, expire_on_commit=False)

    def _after_upgrade(self, changed: bool) -> None:
        path = _sqlite_file(self.url)
        if changed and path is not None:
            use_write_ahead_log(path)

    @contextmanager
    def session(self, read_only: bool = False) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any error.
        `read_only` ones must not write: they take no lock and wait for no writer."""
        sessions = self._ready()
        bind = self._reader if read_only else self.engine
        with self._described(), sessions(bind=bind) as session, session.begin():
            yield session

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[Connection]:
        """A transaction as `session` makes one, on a plain connection: for the statements
        of a save or a load, which need none of the ORM's bookkeeping and paid more for it
        than for their SQL."""
        self._ready()
        bind = self._reader if read_only else self.engine
        with self._described(), bind.begin() as connection:
            yield connection

    def _ready(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = self._connect()
        return self._sessions

    @contextmanager
    def _described(self) -> Iterator[None]:
        """Database failures as holdall's errors; a constraint's left to the caller, which
        knows what it means."""
        try:
            yield
        except IntegrityError:
            raise
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise self._busy() from exc
            raise describe_database_error(self.url, exc) from exc

    def hold_secrets(self, session: Session, exclusive: bool = False) -> None:
        """Within `session`'s transaction, exclude a secrets-key rotation (or, `exclusive`,
        be one): a secret sealed under a key the rotation is about to drop would be lost."""
        if make_url(self.url).get_backend_name() == "postgresql":
            function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            session.execute(text(f"SELECT {function}({SECRETS_LOCK})"))

    def _busy(self) -> StateError:
        """PostgreSQL gave up waiting for a lock: who may hold it, and how to free it."""
        holders: list[str] = []
        with contextlib.suppress(SQLAlchemyError), self.engine.connect() as connection:
            for pid, name, held, state in connection.execute(HOLDERS):
                process = str(name).partition(" pid ")[2].partition(" on ")[0]
                holders.append(
                    f"{name}, {state} for {float(held):.0f} s (stopped with Ctrl-Z? "
                    f"kill -CONT {process} resumes it; backend {pid})"
                )
        held_by = f": held by {'; '.join(holders)}" if holders else ""
        return StateError(
            f"the metadata database {self.shown_url} is busy: another process held a lock "
            f"this needs for {busy_timeout():g} s{held_by}",
            fix=f"let that process finish, then run this again, or wait longer: "
            f"{BUSY_TIMEOUT_ENV}=300",
        )
