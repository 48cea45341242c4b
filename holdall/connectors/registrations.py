"""Registered service connectors: their records (secrets sealed), verification, the audit of
every hand-out, and the one place a store gets credentials from one (`credentials_for`)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from holdall.connectors.base import (
    AuthMethodConfig,
    ConnectorError,
    Handout,
    ServiceConnectorType,
)
from holdall.connectors.verification import reached
from holdall.errors import (
    AlreadyExistsError,
    ConfigError,
    HoldallError,
    InUseError,
    NotFoundError,
    StateError,
    first_line,
)
from holdall.metadata.database import Database
from holdall.metadata.tables import ComponentRow, ConnectorAuditRow, ServiceConnectorRow
from holdall.models import AuditEntry, ServiceConnectorModel
from holdall.names import check_name
from holdall.processes import process_tag, user_name
from holdall.secrets import sealed_json, secret_fields, unseal
from holdall.settings import renewal_margin

if TYPE_CHECKING:
    from holdall.registry import Registry


def connector_model(row: ServiceConnectorRow) -> ServiceConnectorModel:
    return ServiceConnectorModel(
        id=row.id,
        name=row.name,
        type=row.type,
        auth_method=row.auth_method,
        config=json.loads(row.config),
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        expiration_seconds=row.expiration_seconds,
        created=row.created,
        updated=row.updated,
    )


def validate_auth(
    connector_type: ServiceConnectorType, method: str, values: Mapping[str, Any]
) -> AuthMethodConfig:
    from pydantic import ValidationError

    from holdall.validation import describe_invalid

    methods = connector_type.auth_methods
    if method not in methods:
        raise ConfigError(
            f"connector type '{connector_type.name}' has no auth method '{method}'; "
            f"valid: {', '.join(methods)}",
            fix=f"holdall service-connector describe-type {connector_type.name}",
        )
    model = methods[method]
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        # Not chained: pydantic's error holds the values it was given, secrets among them.
        raise describe_invalid(
            f"auth method '{method}' of connector type '{connector_type.name}'",
            sorted(model.model_fields),
            f"holdall service-connector describe-type {connector_type.name}",
            exc,
        ) from None


class ServiceConnectors:
    def __init__(self, database: Callable[[], Database], registry: Callable[[], Registry]) -> None:
        self._database = database
        self._registry = registry

    def connector_type(self, name: str) -> ServiceConnectorType:
        return self._registry().connector_type(name)

    # -- records --------------------------------------------------------------------------

    @staticmethod
    def _taken(session: Session, name: str) -> bool:
        query = select(ServiceConnectorRow.id).where(ServiceConnectorRow.name == name)
        return session.scalar(query) is not None

    @staticmethod
    def row(session: Session, name: str) -> ServiceConnectorRow:
        row = session.scalar(select(ServiceConnectorRow).where(ServiceConnectorRow.name == name))
        if row is None:
            known = session.scalars(select(ServiceConnectorRow.name)).all()
            raise NotFoundError(
                f"no service connector called '{name}'; registered: "
                f"{', '.join(sorted(known)) or '(none)'}",
                fix=f"holdall service-connector register {name} --type TYPE ...",
            )
        return row

    def register(
        self,
        name: str,
        type_name: str,
        auth_method: str | None = None,
        values: Mapping[str, Any] | None = None,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        expiration_seconds: int | None = None,
        auto_configure: bool = False,
        verify: bool = True,
    ) -> tuple[ServiceConnectorModel, list[str]]:
        """The new connector, and what it reaches (empty when not verified)."""
        check_name("service connector", name)
        duplicate = AlreadyExistsError(
            f"a service connector called '{name}' already exists",
            fix=f"pick another name, or see it: holdall service-connector describe {name}",
        )
        # Before the cloud is reached: a name taken is said at once, not after the network.
        with self._database().session(read_only=True) as session:
            if self._taken(session, name):
                raise duplicate
        kind = self.connector_type(type_name)
        if auto_configure:
            found_method, found = kind.auto_configure()
            auth_method, values = auth_method or found_method, {**found, **(values or {})}
        if auth_method is None:
            raise ConfigError(
                f"say how connector '{name}' authenticates: --auth-method, one of "
                f"{', '.join(kind.auth_methods)} (or --auto-configure)",
                fix=f"holdall service-connector describe-type {type_name}",
            )
        auth = validate_auth(kind, auth_method, values or {})
        kind.check_expiration(auth_method, expiration_seconds)
        resource_type, resource_id = self._resource(kind, resource_type, resource_id)
        resource = (resource_type, resource_id)
        reached = (
            self._reached(kind, auth, resource, name, expiration_seconds, registering=True)
            if verify
            else []
        )
        row = ServiceConnectorRow(
            name=name,
            type=type_name,
            auth_method=auth_method,
            resource_type=resource_type,
            resource_id=resource_id,
            expiration_seconds=expiration_seconds,
        )
        try:
            with self._database().session() as session:
                if self._taken(session, name):
                    raise duplicate
                self._database().hold_secrets(session)  # sealed under the key that stays
                row.config = sealed_json(auth)
                session.add(row)
                session.flush()
                return connector_model(row), reached
        except IntegrityError:
            raise duplicate from None

    @staticmethod
    def _resource(
        kind: ServiceConnectorType, resource_type: str | None, resource_id: str | None
    ) -> tuple[str, str | None]:
        resource_type = resource_type or next(iter(kind.resource_types))
        if resource_type not in kind.resource_types:
            raise ConfigError(
                f"connector type '{kind.name}' has no resource type '{resource_type}'; valid: "
                f"{', '.join(kind.resource_types)}",
                fix=f"holdall service-connector describe-type {kind.name}",
            )
        if resource_id is not None:
            resource_id = kind.canonical_resource_id(resource_type, resource_id)
        return resource_type, resource_id

    def get(self, name: str) -> ServiceConnectorModel:
        with self._database().session(read_only=True) as session:
            return connector_model(self.row(session, name))

    def all(self) -> list[ServiceConnectorModel]:
        with self._database().session(read_only=True) as session:
            rows = session.scalars(select(ServiceConnectorRow).order_by(ServiceConnectorRow.name))
            return [connector_model(row) for row in rows]

    def stores_using(self, name: str) -> list[str]:
        with self._database().session(read_only=True) as session:
            row = self.row(session, name)
            names = session.scalars(
                select(ComponentRow.name).where(ComponentRow.connector_id == row.id)
            )
            return sorted(names)

    def update(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        expiration_seconds: int | None = None,
        verify: bool = True,
    ) -> tuple[ServiceConnectorModel, list[str]]:
        """The updated connector, and what it reaches (empty when not verified). The cloud is
        reached outside any write: a slow endpoint holds no lock on the database."""
        with self._database().session(read_only=True) as session:
            before = self.row(session, name)
        kind = self.connector_type(before.type)
        secrets = secret_fields(kind.auth_methods[before.auth_method])
        replaced = frozenset(values or {}) & frozenset(secrets)
        stored = unseal(json.loads(before.config), replaced=replaced)
        auth = validate_auth(kind, before.auth_method, {**stored, **(values or {})})
        lifetime = expiration_seconds or before.expiration_seconds
        kind.check_expiration(before.auth_method, lifetime)
        resource_type, resource_id = self._resource(
            kind, resource_type or before.resource_type, resource_id or before.resource_id
        )
        resource = (resource_type, resource_id)
        reached = self._reached(kind, auth, resource, name, lifetime) if verify else []
        with self._database().session() as session:
            row = self.row(session, name)
            if row.id != before.id or row.updated != before.updated:
                # What was merged and checked is no longer what is stored.
                raise StateError(
                    f"service connector '{name}' changed while this update checked it; "
                    "nothing was written",
                    fix=f"run the update again: holdall service-connector update {name} ...",
                )
            self._database().hold_secrets(session)  # sealed under the key that stays
            row.config = sealed_json(auth)
            row.resource_type, row.resource_id = resource_type, resource_id
            if expiration_seconds is not None:
                row.expiration_seconds = expiration_seconds
            session.flush()
            return connector_model(row), reached

    def delete(self, name: str) -> None:
        with self._database().session() as session:
            row = self.row(session, name)
            users = session.scalars(
                select(ComponentRow.name).where(ComponentRow.connector_id == row.id)
            ).all()
            if users:
                raise InUseError(
                    f"service connector '{name}' is used by artifact store(s): "
                    f"{', '.join(sorted(users))}",
                    fix=f"link {sorted(users)[0]} to another connector first: holdall "
                    f"artifact-store update {sorted(users)[0]} --connector OTHER",
                )
            session.delete(row)

    # -- what it reaches ------------------------------------------------------------------

    def _auth(self, row: ServiceConnectorRow) -> tuple[ServiceConnectorType, AuthMethodConfig]:
        kind = self.connector_type(row.type)
        return kind, validate_auth(kind, row.auth_method, unseal(json.loads(row.config)))

    def verify(
        self, name: str, resource_type: str | None = None, resource_id: str | None = None
    ) -> list[str]:
        with self._database().session(read_only=True) as session:
            row = self.row(session, name)
        kind, auth = self._auth(row)
        resource_type, resource_id = self._resource(
            kind, resource_type or row.resource_type, resource_id or row.resource_id
        )
        resource = (resource_type, resource_id)
        try:
            reached = self._reached(kind, auth, resource, name, row.expiration_seconds)
        except HoldallError as exc:
            self._record(row, resource_id or resource_type, "verified", "failed", exc.message)
            raise
        self._record(row, resource_id or resource_type, "verified", "ok", f"{len(reached)} found")
        return reached

    def list_resources(self, name: str) -> dict[str, list[str]]:
        """Every resource type of the connector, with what it reaches of each (or why not)."""
        with self._database().session(read_only=True) as session:
            row = self.row(session, name)
        kind, auth = self._auth(row)
        found: dict[str, list[str]] = {}
        for resource_type in kind.resource_types:
            # The one resource the connector is for, where it names one; else all it lists.
            resource_id = row.resource_id if row.resource_type == resource_type else None
            resource = (resource_type, resource_id)
            found[resource_type] = self._reached(kind, auth, resource, name, row.expiration_seconds)
        return found

    def _reached(
        self,
        kind: ServiceConnectorType,
        auth: AuthMethodConfig,
        resource: tuple[str, str | None],
        name: str,
        lifetime: int | None,
        registering: bool = False,
    ) -> list[str]:
        """What the credentials reach of `resource`, checked through a store of the
        connector's cloud (verification.py). Issued for the check, they are not audited: the
        check is, by its caller."""
        handout = Handout(
            resource_type=resource[0],
            resource_id=resource[1],
            expiration_seconds=lifetime,
            renewal_margin=renewal_margin(),
            record=lambda purpose, outcome, detail: None,
        )
        try:
            return reached(self._registry(), kind, auth, resource, handout, name, registering)
        except ConnectorError as exc:
            raise _named(exc, name, registering) from None

    # -- credentials for a store ----------------------------------------------------------

    def credentials_for(
        self, connector_id: str, resource_type: str, resource_id: str | None
    ) -> Any:
        """Credentials for a store linked to the connector, as its SDK's own (refreshable)
        object. Each issue and renewal is one audit row."""
        with self._database().session(read_only=True) as session:
            row = session.get_one(ServiceConnectorRow, connector_id)
        kind, auth = self._auth(row)
        resource = resource_id or row.resource_id or resource_type

        def record(purpose: str, outcome: str, detail: str) -> None:
            self._record(row, resource, purpose, outcome, detail)

        handout = Handout(
            resource_type=resource_type,
            resource_id=resource_id or row.resource_id,
            expiration_seconds=row.expiration_seconds,
            renewal_margin=renewal_margin(),
            record=record,
        )
        try:
            return kind.credentials(auth, handout)
        except ConnectorError as exc:
            record("issued", "failed", exc.message)
            raise _named(exc, row.name) from None
        except Exception as exc:  # the SDK's: the store that asked puts it in words
            record("issued", "failed", first_line(exc)[:200])
            raise

    # -- audit ----------------------------------------------------------------------------

    def _record(
        self, row: ServiceConnectorRow, resource: str, purpose: str, outcome: str, detail: str
    ) -> None:
        entry = ConnectorAuditRow(
            connector_id=row.id,
            connector=row.name,
            resource=resource,
            purpose=purpose,
            at=datetime.now(timezone.utc),
            user=user_name(),
            host=socket.gethostname(),
            process=process_tag(),
            outcome=outcome,
            detail=detail,
        )
        with self._database().session() as session:
            session.add(entry)

    def audit(self, name: str) -> list[AuditEntry]:
        with self._database().session(read_only=True) as session:
            row = self.row(session, name)
            entries = session.scalars(
                select(ConnectorAuditRow)
                .where(ConnectorAuditRow.connector_id == row.id)
                .order_by(ConnectorAuditRow.id)
            )
            return [
                AuditEntry(
                    at=e.at,
                    connector=e.connector,
                    resource=e.resource,
                    purpose=e.purpose,
                    user=e.user,
                    host=e.host,
                    process=e.process,
                    outcome=e.outcome,
                    detail=e.detail,
                )
                for e in entries
            ]


def _named(exc: ConnectorError, name: str, registering: bool = False) -> ConnectorError:
    """A connector type's error, its fix naming the connector (a type knows no names); one
    being registered is mended by registering it again, not by an update."""
    placeholder = "service-connector update NAME"
    if not exc.fix or placeholder not in exc.fix:
        return exc
    command = f"register {name} ..." if registering else f"update {name}"
    return ConnectorError(
        exc.message, fix=exc.fix.replace(placeholder, f"service-connector {command}")
    )
