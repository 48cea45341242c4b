"""Registered artifact stores: their records, and the one place a record becomes a usable
store (its config validated, its secrets opened, its SDK imported)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from holdall.artifact_stores.locks import refuse_if_held
from holdall.errors import AlreadyExistsError, ConfigError, HoldallError, InUseError, NotFoundError
from holdall.metadata.database import Database
from holdall.metadata.tables import (
    ArtifactVersionRow,
    ComponentRow,
    ServiceConnectorRow,
    StackRow,
    VersionStatus,
)
from holdall.models import ArtifactStoreModel
from holdall.names import check_name
from holdall.secrets import sealed_json, secret_fields, unseal

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore
    from holdall.artifact_stores.config import ArtifactStoreConfig
    from holdall.artifact_stores.flavor import ArtifactStoreFlavor
    from holdall.connectors.registrations import ServiceConnectors
    from holdall.metadata.tables import PlainRow
    from holdall.registry import Registry

ARTIFACT_STORE = "artifact_store"


def store_model(row: ComponentRow) -> ArtifactStoreModel:
    return store_model_of(row, row.connector.name if row.connector else None)


def store_model_of(row: ComponentRow | PlainRow, connector: str | None) -> ArtifactStoreModel:
    """From a store's columns (its ORM row, or a plain row of its table) and its connector's
    name."""
    return ArtifactStoreModel(
        id=row.id,
        name=row.name,
        flavor=row.flavor,
        config=json.loads(row.config),
        created=row.created,
        connector=connector,
        connector_id=row.connector_id,
        connector_resource_id=row.connector_resource_id,
    )


# A store by id, as every load finds its own: made once, a plain statement.
_BY_ID = (
    select(*ComponentRow.__table__.columns, ServiceConnectorRow.name.label("connector_name"))
    .outerjoin_from(ComponentRow, ServiceConnectorRow)
    .where(ComponentRow.id == bindparam("store_id"))
)


@dataclass(frozen=True)
class Link:
    """A store's service connector, and what the store reaches with its credentials."""

    connector_id: str
    connector: str
    resource_id: str


def validate(flavor: type[ArtifactStoreFlavor], values: Mapping[str, Any]) -> ArtifactStoreConfig:
    from pydantic import ValidationError

    from holdall.artifact_stores.config import describe_validation_error

    try:
        return flavor.config_class.model_validate(dict(values))
    except ValidationError as exc:
        # Not chained: pydantic's error holds the values it was given, secrets among them.
        raise describe_validation_error(flavor.name, flavor.config_class, exc) from None


def config_json(config: ArtifactStoreConfig) -> str:
    """The config as stored: secrets encrypted, never in the clear."""
    return sealed_json(config)


class ArtifactStores:
    """`database` hands out the metadata database (made ready on first use), `registry` the
    flavors; nothing is reached before a method is called."""

    def __init__(
        self,
        database: Callable[[], Database],
        registry: Callable[[], Registry],
        connectors: ServiceConnectors,
    ) -> None:
        self._database = database
        self._registry = registry
        self._connectors = connectors
        self._usable: dict[tuple[str, ...], BaseArtifactStore] = {}

    @staticmethod
    def find(session: Session, name: str) -> ComponentRow | None:
        return session.scalar(
            select(ComponentRow).where(
                ComponentRow.type == ARTIFACT_STORE, ComponentRow.name == name
            )
        )

    def row(self, session: Session, name: str) -> ComponentRow:
        row = self.find(session, name)
        if row is None:
            known = session.scalars(
                select(ComponentRow.name).where(ComponentRow.type == ARTIFACT_STORE)
            ).all()
            raise NotFoundError(
                f"no artifact store called '{name}'; registered: {', '.join(sorted(known))}",
                fix=f"holdall artifact-store register {name} --flavor=local --path=/some/folder",
            )
        return row

    def register(
        self,
        name: str,
        flavor: str,
        path: str | None = None,
        config: Mapping[str, Any] | None = None,
        connector: str | None = None,
        resource_id: str | None = None,
    ) -> ArtifactStoreModel:
        check_name("artifact store", name)
        duplicate = AlreadyExistsError(
            f"an artifact store called '{name}' already exists",
            fix=f"pick another name, or see it with: holdall artifact-store describe {name}",
        )
        # Before the store is reached: a name taken is said at once, not after the network.
        with self._database().session(read_only=True) as session:
            if self.find(session, name) is not None:
                raise duplicate
        flavor_class = self._registry().flavor(flavor)
        store_id = str(uuid.uuid4())
        path = path if path is not None else flavor_class.default_path(store_id)
        if path is None:
            raise ConfigError(
                f"flavor '{flavor}' needs --path",
                fix=f"holdall artifact-store register {name} --flavor={flavor} "
                f"--path={flavor_class.example_path()}",
            )
        validated = validate(flavor_class, {**(config or {}), "path": path})
        link = self._link(name, flavor_class, validated, connector, resource_id)
        elsewhere = f"holdall artifact-store register {name} --flavor={flavor} --path=..."
        self._check_owner(self._make(flavor, validated, name, store_id, link), elsewhere)
        row = ComponentRow(
            id=store_id,
            type=ARTIFACT_STORE,
            name=name,
            flavor=flavor,
            connector_id=link.connector_id if link else None,
            connector_resource_id=link.resource_id if link else None,
        )
        try:
            with self._database().session() as session:
                if self.find(session, name) is not None:
                    raise duplicate
                self._database().hold_secrets(session)  # sealed under the key that stays
                row.config = config_json(validated)
                session.add(row)
                session.flush()
                return store_model(row)
        except IntegrityError:
            raise duplicate from None  # registered by another process at the same moment

    def get_by_id(self, store_id: str) -> ArtifactStoreModel:
        with self._database().transaction(read_only=True) as connection:
            return self.model_in(connection, store_id)

    @staticmethod
    def model_in(connection: Connection, store_id: str) -> ArtifactStoreModel:
        """The store `store_id`, read in `connection`'s transaction."""
        row = connection.execute(_BY_ID, {"store_id": store_id}).one()
        return store_model_of(row, row.connector_name)

    def get(self, name: str) -> ArtifactStoreModel:
        with self._database().session(read_only=True) as session:
            row = self.row(session, name)
            return store_model(row)

    def all(self) -> list[ArtifactStoreModel]:
        with self._database().session(read_only=True) as session:
            rows = session.scalars(
                select(ComponentRow)
                .where(ComponentRow.type == ARTIFACT_STORE)
                .order_by(ComponentRow.name)
            )
            return [store_model(row) for row in rows]

    def update(
        self,
        name: str,
        path: str | None = None,
        config: Mapping[str, Any] | None = None,
        connector: str | None = None,
        resource_id: str | None = None,
    ) -> ArtifactStoreModel:
        with self._database().session() as session:
            row = self.row(session, name)
            refuse_if_held(session, row.id, name, "changing it")
            self._database().hold_secrets(session)  # sealed under the key that stays
            flavor_class = self._registry().flavor(row.flavor)
            given = dict(config or {})
            # Secrets given anew are not opened: one no key opens can still be replaced.
            replaced = frozenset(given) & frozenset(secret_fields(flavor_class.config_class))
            stored = unseal(json.loads(row.config), replaced=replaced)
            values = {**stored, **given}
            if path is not None:
                values["path"] = path
            # Where the store was: the new settings with the stored location (a credential
            # given anew, or no longer needed, has no say in where the data is).
            location = flavor_class.config_class.LOCATION_FIELDS
            kept = {k: v for k, v in values.items() if k not in location}
            before = validate(flavor_class, kept | {k: stored[k] for k in location if k in stored})
            after = validate(flavor_class, values)
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
            unlink = connector == ""  # --connector "": the store stops using one
            link = None
            if not unlink:
                link = self._link(
                    name,
                    flavor_class,
                    after,
                    connector or (row.connector.name if row.connector else None),
                    resource_id or (None if connector else row.connector_resource_id),
                )
            if after.path != before.path:
                elsewhere = f"holdall artifact-store update {name} --path=..."
                self._check_owner(self._make(row.flavor, after, name, row.id, link), elsewhere)
            row.config = config_json(after)
            if unlink:
                row.connector_id, row.connector_resource_id = None, None
            elif link is not None:
                row.connector_id, row.connector_resource_id = link.connector_id, link.resource_id
            session.flush()
            return store_model(row)

    def _link(
        self,
        name: str,
        flavor_class: type[ArtifactStoreFlavor],
        config: ArtifactStoreConfig,
        connector: str | None,
        resource_id: str | None,
    ) -> Link | None:
        """The store's link to `connector`, checked: the right type of connector, and no
        credentials of the store's own beside it."""
        if connector is None:
            return None

        wanted = flavor_class.connector_type
        if wanted is None:
            raise ConfigError(f"flavor '{flavor_class.name}' takes no service connector")
        with self._database().session(read_only=True) as session:
            row = self._connectors.row(session, connector)
            connector_id, connector_type = row.id, row.type
        if connector_type != wanted:
            raise ConfigError(
                f"flavor '{flavor_class.name}' takes a service connector of type '{wanted}'; "
                f"'{connector}' is of type '{connector_type}'",
                fix=f"holdall service-connector list (or register one: holdall "
                f"service-connector register NAME --type {wanted} ...)",
            )
        inline = [k for k in secret_fields(type(config)) if getattr(config, k) is not None]
        if inline:
            raise ConfigError(
                f"artifact store '{name}' gets its credentials from service connector "
                f"'{connector}', so it takes none of its own (--{', --'.join(inline)})",
                fix="leave the credentials out (the connector holds them), or leave out "
                "--connector",
            )
        kind = self._connectors.connector_type(connector_type)
        resource = resource_id or getattr(config, "container", None) or config.path
        canonical = kind.canonical_resource_id(flavor_class.connector_resource_type, resource)
        return Link(connector_id, connector, canonical)

    def _make(
        self,
        flavor: str,
        config: ArtifactStoreConfig,
        name: str,
        store_id: str,
        link: Link | None,
    ) -> BaseArtifactStore:
        credentials = None
        if link is not None:
            resource_type = self._registry().flavor(flavor).connector_resource_type
            connectors = self._connectors

            def credentials() -> Any:  # asked at the store's first use, never before
                return connectors.credentials_for(
                    link.connector_id, resource_type, link.resource_id
                )

        return self._registry().create_store(
            flavor,
            config,
            credentials=credentials,
            name=name,
            id=store_id,
            connector=link.connector if link else "",
        )

    def _check_owner(self, store: BaseArtifactStore, elsewhere: str) -> None:
        """Refuse a path another metadata database owns (`elsewhere`: the command that gives
        another). A cloud store that cannot be reached now (no network, a bucket still to be
        made) is registered all the same, and checked at its first write."""
        from holdall.artifact_stores.ownership import StoreOwnedError, check_owner

        try:
            check_owner(store, self._database().identity, elsewhere)
        except StoreOwnedError:
            raise
        except HoldallError as exc:
            if store.OFFLINE:
                raise
            print(
                f"warning: could not see who owns {store.path} ({exc.message}); its first "
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
                ArtifactVersionRow.status.in_(
                    [VersionStatus.COMMITTED, VersionStatus.RESERVED, VersionStatus.DELETING]
                ),
            )
            .group_by(ArtifactVersionRow.status)
        ).all()
        counts = {status: count for status, count in live}
        committed, reserved, deleting = (
            counts.get(VersionStatus.COMMITTED),
            counts.get(VersionStatus.RESERVED),
            counts.get(VersionStatus.DELETING),
        )
        if committed:
            raise InUseError(
                f"artifact store '{row.name}' holds {committed} artifact version(s); {why}",
                fix=fix,
            )
        if reserved:
            raise InUseError(
                f"artifact store '{row.name}' has {reserved} save(s) in progress; {why}",
                fix="wait for them to finish (or, if they were killed: holdall artifact gc)",
            )
        if deleting:
            raise InUseError(
                f"artifact store '{row.name}' has {deleting} delete(s) in progress; {why}",
                fix="wait for them to finish (or, if they were interrupted: holdall artifact gc)",
            )

    def delete(self, name: str) -> None:
        try:
            with self._database().session() as session:
                row = self.row(session, name)
                refuse_if_held(session, row.id, name, "deleting it")
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
                # Deleted versions keep their records, for lineage, without a store.
                session.execute(
                    update(ArtifactVersionRow)
                    .where(
                        ArtifactVersionRow.artifact_store_id == row.id,
                        ArtifactVersionRow.status == VersionStatus.DELETED,
                    )
                    .values(artifact_store_id=None)
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
        with self._database().session(read_only=True) as session:
            row = self.row(session, store_name)
            names = session.scalars(
                select(StackRow.name).where(StackRow.artifact_store_id == row.id)
            )
            return sorted(names)

    def usable(self, model: ArtifactStoreModel) -> BaseArtifactStore:
        """A usable store for a registered one; its SDK is imported here, not before.

        One instance per store and config for the client's life, so that its filesystem
        (and the first-use check of its bucket) is set up once, not on every load.
        """
        link = None
        if model.connector_id and model.connector:
            link = Link(model.connector_id, model.connector, model.connector_resource_id or "")
        key = (model.id, json.dumps(model.config, sort_keys=True), repr(link))
        if key not in self._usable:
            flavor_class = self._registry().flavor(model.flavor)
            config = validate(flavor_class, unseal(model.config))
            self._usable[key] = self._make(model.flavor, config, model.name, model.id, link)
        return self._usable[key]

    def by_id(self, store_id: str) -> BaseArtifactStore:
        return self.usable(self.get_by_id(store_id))
