"""The Python API: artifact stores and stacks, as ZenML's Client names them."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from holdall.artifacts.api import ArtifactsAPI
from holdall.artifacts.versions import COMMITTED, RESERVED
from holdall.client_config import read_client_config, write_client_config
from holdall.errors import (
    AlreadyExistsError,
    ConfigError,
    HoldallError,
    InUseError,
    NotFoundError,
)
from holdall.metadata.database import Database
from holdall.metadata.models import ArtifactVersionRow, ComponentRow, StackRow
from holdall.models import ArtifactStoreModel, Stack, StackModel
from holdall.names import check_name
from holdall.registry import Registry, get_registry
from holdall.secrets import seal, unseal
from holdall.settings import database_url

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore
    from holdall.artifact_stores.config import ArtifactStoreConfig
    from holdall.artifact_stores.flavor import ArtifactStoreFlavor

ARTIFACT_STORE = "artifact_store"
DEFAULT = "default"


def _store_model(row: ComponentRow) -> ArtifactStoreModel:
    return ArtifactStoreModel(
        id=row.id,
        name=row.name,
        flavor=row.flavor,
        config=json.loads(row.config),
        created=row.created,
    )


def _stack_model(row: StackRow) -> StackModel:
    return StackModel(
        id=row.id,
        name=row.name,
        artifact_store=_store_model(row.artifact_store),
        created=row.created,
    )


def _validate(flavor: type[ArtifactStoreFlavor], values: Mapping[str, Any]) -> ArtifactStoreConfig:
    from pydantic import ValidationError

    from holdall.artifact_stores.config import describe_validation_error

    try:
        return flavor.config_class.model_validate(dict(values))
    except ValidationError as exc:
        # Not chained: pydantic's error holds the values it was given, secrets among them.
        raise describe_validation_error(flavor.name, flavor.config_class, exc) from None


def _config_json(config: ArtifactStoreConfig) -> str:
    """The config as stored: secrets encrypted, never in the clear."""
    from pydantic import SecretStr

    secrets = {k: v.get_secret_value() for k, v in config if isinstance(v, SecretStr)}
    plain = {**config.model_dump(mode="json"), **secrets}
    return json.dumps(seal(plain, set(secrets)), sort_keys=True)


class Client(ArtifactsAPI):
    """Nothing connects at construction; the database is opened on the first call.

    As in ZenML, `Client()` is one client per process and metadata database: making it again
    costs a lookup, and its connections, default stack check and stores are kept. A client
    given its own registry is a new one each time.
    """

    _shared: ClassVar[dict[tuple[int, str], Client]] = {}

    def __new__(cls, database: str | None = None, registry: Registry | None = None) -> Client:
        if registry is not None:
            return super().__new__(cls)
        # Keyed by process too: a forked child must not share its parent's connections.
        key = (os.getpid(), database or database_url())
        client = cls._shared.get(key)
        if client is None:
            client = cls._shared[key] = super().__new__(cls)
        return client

    @classmethod
    def close_shared(cls) -> None:
        """Close the shared clients' connections; the next `Client()` starts afresh."""
        for client in cls._shared.values():
            client._database.close()
        cls._shared.clear()

    def __init__(self, database: str | None = None, registry: Registry | None = None) -> None:
        if hasattr(self, "_database"):
            return  # the shared client, already set up
        self._database = Database(database or database_url())
        self._registry = registry
        self._ready = False
        self._stores: dict[tuple[str, str], BaseArtifactStore] = {}

    @property
    def registry(self) -> Registry:
        return self._registry or get_registry()

    def _db(self) -> Database:
        """The database, with the default stack in it."""
        if not self._ready:
            self._ensure_defaults()
            self._ready = True
        return self._database

    def _session(self) -> Any:
        return self._db().session()

    def _reading(self) -> Any:
        """A transaction that only reads: it never waits for a writer (SQLite in WAL mode)."""
        return self._db().session(read_only=True)

    def _ensure_defaults(self) -> None:
        """On first use, the `default` stack with a local store under the config dir."""
        from holdall.local.flavor import LocalConfig, LocalFlavor

        try:
            with self._database.session(read_only=True) as session:
                if session.scalar(select(StackRow.id).where(StackRow.name == DEFAULT)):
                    return  # the usual case, which then waits for no writer
            with self._database.session() as session:
                if session.scalar(select(StackRow).where(StackRow.name == DEFAULT)):
                    return
                store = self._find_store(session, DEFAULT)
                if store is None:
                    store_id = str(uuid.uuid4())
                    config = LocalConfig(path=LocalFlavor.default_path(store_id))
                    store = ComponentRow(
                        id=store_id,
                        type=ARTIFACT_STORE,
                        name=DEFAULT,
                        flavor=LocalFlavor.name,
                        config=_config_json(config),
                    )
                    session.add(store)
                session.add(StackRow(name=DEFAULT, artifact_store=store))
        except IntegrityError:
            pass  # another process created them first; theirs serve us as well

    # -- artifact stores ------------------------------------------------------------------

    @staticmethod
    def _find_store(session: Session, name: str) -> ComponentRow | None:
        return session.scalar(
            select(ComponentRow).where(
                ComponentRow.type == ARTIFACT_STORE, ComponentRow.name == name
            )
        )

    def _store_row(self, session: Session, name: str) -> ComponentRow:
        row = self._find_store(session, name)
        if row is None:
            known = session.scalars(
                select(ComponentRow.name).where(ComponentRow.type == ARTIFACT_STORE)
            ).all()
            raise NotFoundError(
                f"no artifact store called '{name}'; registered: {', '.join(sorted(known))}",
                fix=f"holdall artifact-store register {name} --flavor=local --path=/some/folder",
            )
        return row

    def register_artifact_store(
        self,
        name: str,
        flavor: str,
        path: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> ArtifactStoreModel:
        check_name("artifact store", name)
        flavor_class = self.registry.flavor(flavor)
        store_id = str(uuid.uuid4())
        path = path if path is not None else flavor_class.default_path(store_id)
        if path is None:
            raise ConfigError(
                f"flavor '{flavor}' needs --path",
                fix=f"holdall artifact-store register {name} --flavor={flavor} "
                f"--path={flavor_class.example_path()}",
            )
        validated = _validate(flavor_class, {**(config or {}), "path": path})
        self._check_owner(flavor, validated, name)
        row = ComponentRow(
            id=store_id,
            type=ARTIFACT_STORE,
            name=name,
            flavor=flavor,
            config=_config_json(validated),
        )
        duplicate = AlreadyExistsError(
            f"an artifact store called '{name}' already exists",
            fix=f"pick another name, or see it with: holdall artifact-store describe {name}",
        )
        try:
            with self._session() as session:
                if self._find_store(session, name) is not None:
                    raise duplicate
                session.add(row)
        except IntegrityError:
            raise duplicate from None  # registered by another process at the same moment
        return _store_model(row)

    def get_artifact_store_by_id(self, store_id: str) -> ArtifactStoreModel:
        with self._reading() as session:
            return _store_model(session.get_one(ComponentRow, store_id))

    def get_artifact_store(self, name: str) -> ArtifactStoreModel:
        with self._reading() as session:
            row = self._store_row(session, name)
            return _store_model(row)

    def list_artifact_stores(self) -> list[ArtifactStoreModel]:
        with self._reading() as session:
            rows = session.scalars(
                select(ComponentRow)
                .where(ComponentRow.type == ARTIFACT_STORE)
                .order_by(ComponentRow.name)
            )
            return [_store_model(row) for row in rows]

    def update_artifact_store(
        self, name: str, path: str | None = None, config: Mapping[str, Any] | None = None
    ) -> ArtifactStoreModel:
        with self._session() as session:
            row = self._store_row(session, name)
            flavor_class = self.registry.flavor(row.flavor)
            stored = unseal(json.loads(row.config))
            values = {**stored, **(config or {})}
            if path is not None:
                values["path"] = path
            before, after = _validate(flavor_class, stored), _validate(flavor_class, values)
            moved = sorted(
                key for key in before.LOCATION_FIELDS if getattr(before, key) != getattr(after, key)
            )
            if moved:
                self._refuse_with_versions(
                    session,
                    row,
                    f"changing {', '.join('--' + key for key in moved)} would leave them "
                    "unreachable",
                    fix="register a new store for the new location: holdall artifact-store "
                    f"register NAME --flavor={row.flavor} --path=...",
                )
            if after.path != before.path:
                self._check_owner(row.flavor, after, name)
            row.config = _config_json(after)
            return _store_model(row)

    def _check_owner(self, flavor: str, config: ArtifactStoreConfig, name: str) -> None:
        """Refuse a path another metadata database owns. A cloud store that cannot be reached
        now (no network, a bucket still to be made) is registered all the same, and checked
        at its first write."""
        from holdall.artifact_stores.ownership import StoreOwnedError, check_owner

        store = self.registry.create_store(flavor, config, name=name)
        try:
            check_owner(store, self._db().identity)
        except StoreOwnedError:
            raise
        except HoldallError as exc:
            if store.OFFLINE:
                raise
            print(
                f"warning: could not see who owns {config.path} ({exc.message}); its first "
                "write will check",
                file=sys.stderr,
            )

    @staticmethod
    def _refuse_with_versions(session: Session, row: ComponentRow, why: str, fix: str) -> None:
        """Refuse a change that would cut a store off from the versions that live in it."""
        live = session.execute(
            select(ArtifactVersionRow.status, func.count(ArtifactVersionRow.id))
            .where(
                ArtifactVersionRow.artifact_store_id == row.id,
                ArtifactVersionRow.status.in_([COMMITTED, RESERVED]),
            )
            .group_by(ArtifactVersionRow.status)
        ).all()
        counts = {status: count for status, count in live}
        if counts.get(COMMITTED):
            raise InUseError(
                f"artifact store '{row.name}' holds {counts[COMMITTED]} artifact version(s); {why}",
                fix=fix,
            )
        if counts.get(RESERVED):
            raise InUseError(
                f"artifact store '{row.name}' has {counts[RESERVED]} save(s) in progress; {why}",
                fix="wait for them to finish (or, if they were killed: holdall artifact gc)",
            )

    def delete_artifact_store(self, name: str) -> None:
        try:
            with self._session() as session:
                row = self._store_row(session, name)
                users = session.scalars(
                    select(StackRow.name).where(StackRow.artifact_store_id == row.id)
                ).all()
                if users:
                    raise InUseError(
                        f"artifact store '{name}' is used by stack(s): {', '.join(sorted(users))}",
                        fix=f"holdall stack update {sorted(users)[0]} -a <another store>, "
                        f"or holdall stack delete {sorted(users)[0]}",
                    )
                self._refuse_with_versions(
                    session,
                    row,
                    "deleting it would leave them unreachable",
                    fix=f"keep '{name}' registered (an unused store costs nothing); new saves "
                    "go where the active stack points: holdall stack update STACK -a OTHER",
                )
                # Abandoned saves left no version to reach; their records go with the store.
                session.execute(
                    delete(ArtifactVersionRow).where(ArtifactVersionRow.artifact_store_id == row.id)
                )
                session.delete(row)
        except IntegrityError:
            # PostgreSQL: a save reserved a version in this store while we were deleting it.
            raise InUseError(
                f"artifact store '{name}' was given a new version while it was being deleted",
                fix=f"holdall artifact-store describe {name}",
            ) from None

    def stacks_using(self, store_name: str) -> list[str]:
        with self._reading() as session:
            row = self._store_row(session, store_name)
            names = session.scalars(
                select(StackRow.name).where(StackRow.artifact_store_id == row.id)
            )
            return sorted(names)

    def artifact_store(self, model: ArtifactStoreModel) -> BaseArtifactStore:
        """A usable store for a registered one; its SDK is imported here, not before.

        One instance per store and config for the client's life, so that its filesystem
        (and the first-use check of its bucket) is set up once, not on every load.
        """
        key = (model.id, json.dumps(model.config, sort_keys=True))
        if key not in self._stores:
            flavor_class = self.registry.flavor(model.flavor)
            config = _validate(flavor_class, unseal(model.config))
            self._stores[key] = self.registry.create_store(
                model.flavor, config, name=model.name, id=model.id
            )
        return self._stores[key]

    # -- stacks ---------------------------------------------------------------------------

    @staticmethod
    def _stack_row(session: Session, name: str) -> StackRow:
        row = session.scalar(select(StackRow).where(StackRow.name == name))
        if row is None:
            known = session.scalars(select(StackRow.name)).all()
            raise NotFoundError(
                f"no stack called '{name}'; registered: {', '.join(sorted(known))}",
                fix="holdall stack list",
            )
        return row

    def _create_stack(self, name: str, store_name: str) -> StackModel:
        check_name("stack", name)
        duplicate = AlreadyExistsError(
            f"a stack called '{name}' already exists",
            fix=f"pick another name, or change it: holdall stack update {name} -a {store_name}",
        )
        try:
            with self._session() as session:
                if session.scalar(select(StackRow).where(StackRow.name == name)) is not None:
                    raise duplicate
                row = StackRow(name=name, artifact_store=self._store_row(session, store_name))
                session.add(row)
                session.flush()
                return _stack_model(row)
        except IntegrityError:
            raise duplicate from None  # registered by another process at the same moment

    def register_stack(self, name: str, artifact_store: str) -> StackModel:
        return self._create_stack(name, artifact_store)

    def copy_stack(self, source: str, target: str) -> StackModel:
        return self._create_stack(target, self.get_stack(source).artifact_store.name)

    def get_stack(self, name: str) -> StackModel:
        with self._reading() as session:
            return _stack_model(self._stack_row(session, name))

    def list_stacks(self) -> list[StackModel]:
        with self._reading() as session:
            return [
                _stack_model(r) for r in session.scalars(select(StackRow).order_by(StackRow.name))
            ]

    def update_stack(self, name: str, artifact_store: str) -> StackModel:
        with self._session() as session:
            row = self._stack_row(session, name)
            row.artifact_store = self._store_row(session, artifact_store)
            session.flush()
            return _stack_model(row)

    def delete_stack(self, name: str) -> None:
        if name == DEFAULT:
            raise InUseError("the default stack cannot be deleted")
        if name == self.active_stack_model.name:
            raise InUseError(f"stack '{name}' is the active stack", fix="holdall stack set default")
        with self._session() as session:
            session.delete(self._stack_row(session, name))

    def activate_stack(self, name: str) -> StackModel:
        stack = self.get_stack(name)
        write_client_config({**read_client_config(), "active_stack_id": stack.id})
        return stack

    @property
    def active_stack_model(self) -> StackModel:
        active_id = read_client_config().get("active_stack_id")
        with self._reading() as session:
            row = session.get(StackRow, active_id) if active_id else None
            if row is None:
                if active_id:
                    print(
                        "warning: the active stack no longer exists; using 'default'",
                        file=sys.stderr,
                    )
                row = self._stack_row(session, DEFAULT)
            return _stack_model(row)

    @property
    def active_stack(self) -> Stack:
        model = self.active_stack_model
        return Stack(model=model, artifact_store=self.artifact_store(model.artifact_store))
