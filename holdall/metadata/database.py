"""Engine, sessions and schema of the metadata database, with its failures put in words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from holdall.errors import StateError
from holdall.metadata.models import Base
from holdall.settings import CONFIG_DIR_ENV, DATABASE_URL_ENV

# How long a writer waits for another process's transaction before giving up.
SQLITE_BUSY_TIMEOUT_S = 60
SCHEMA_ATTEMPTS = 5
SCHEMA_LOCK_KEY = 0x686F6C64  # "hold": the advisory lock taken while creating the schema


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


def _serialize_sqlite_writers(engine: Engine) -> None:
    # pysqlite opens transactions lazily and upgrades read locks to write locks, which fails
    # at once (no busy wait) when two processes do it together. BEGIN IMMEDIATE takes the
    # write lock up front, so concurrent writers queue on the busy timeout instead.
    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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
    """Connects on first use, never at construction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sessions: sessionmaker[Session] | None = None

    def _connect(self) -> sessionmaker[Session]:
        path = _sqlite_file(self.url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(
                    f"cannot create the config dir {path.parent}: {exc.strerror}",
                    fix=f"set {CONFIG_DIR_ENV} to a writable folder",
                ) from exc
            engine = create_engine(self.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
            _serialize_sqlite_writers(engine)
        else:
            engine = create_engine(self.url, pool_pre_ping=True)
        self._create_schema(engine)
        return sessionmaker(engine, expire_on_commit=False)

    def _create_schema(self, engine: Engine) -> None:
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                with engine.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        # Processes starting together would race to CREATE the same tables.
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
                        )
                    Base.metadata.create_all(connection)
                return
            except (IntegrityError, ProgrammingError):
                # Another process created a table between our check and our CREATE (where
                # the database offers no lock for this); the next pass finds it there.
                if attempt == SCHEMA_ATTEMPTS - 1:
                    raise
            except (SQLAlchemyError, ImportError) as exc:
                raise describe_database_error(self.url, exc) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any error."""
        if self._sessions is None:
            self._sessions = self._connect()
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise describe_database_error(self.url, exc) from exc
