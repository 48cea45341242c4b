"""The tables of the metadata database."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def _uuid() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ComponentRow(Base):
    """A stack component (for now, artifact stores) with its validated flavor config."""

    __tablename__ = "stack_components"
    __table_args__ = (UniqueConstraint("type", "name", name="uq_component_type_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    flavor: Mapped[str] = mapped_column(String(64))
    config: Mapped[str] = mapped_column(Text)  # JSON of the flavor's config model
    created: Mapped[datetime] = mapped_column(default=_now)
    updated: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class StackRow(Base):
    __tablename__ = "stacks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    artifact_store_id: Mapped[str] = mapped_column(
        ForeignKey("stack_components.id", ondelete="RESTRICT")
    )
    created: Mapped[datetime] = mapped_column(default=_now)
    updated: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)

    artifact_store: Mapped[ComponentRow] = relationship(lazy="joined")
