"""What the client hands out: plain records of registered components and stacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from holdall.secrets import masked

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore


@dataclass(frozen=True)
class ArtifactStoreModel:
    id: str
    name: str
    flavor: str
    config: dict[str, Any]
    created: datetime
    connector: str | None = None  # the service connector that hands it credentials
    connector_id: str | None = None
    connector_resource_id: str | None = None

    @property
    def path(self) -> str:
        return str(self.config["path"])

    @property
    def shown_settings(self) -> dict[str, Any]:
        """Its settings but the path, as `describe` and the dashboard show them: each secret
        one masked."""
        return {k: v for k, v in masked(self.config).items() if k != "path"}


@dataclass(frozen=True)
class StackModel:
    id: str
    name: str
    artifact_store: ArtifactStoreModel
    created: datetime


@dataclass(frozen=True)
class Stack:
    """The active stack, with its components ready to use."""

    model: StackModel
    artifact_store: BaseArtifactStore

    @property
    def name(self) -> str:
        return self.model.name


@dataclass(frozen=True)
class ServiceConnectorModel:
    id: str
    name: str
    type: str
    auth_method: str
    config: dict[str, Any]  # secrets sealed; `masked` shows them as [HIDDEN]
    resource_type: str | None
    resource_id: str | None
    expiration_seconds: int | None
    created: datetime
    updated: datetime


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    connector: str
    resource: str
    purpose: str
    user: str
    host: str
    process: str
    outcome: str
    detail: str
