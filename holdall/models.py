"""What the client hands out: plain records of registered components and stacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore


@dataclass(frozen=True)
class ArtifactStoreModel:
    id: str
    name: str
    flavor: str
    config: dict[str, Any]
    created: datetime

    @property
    def path(self) -> str:
        return str(self.config["path"])


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
