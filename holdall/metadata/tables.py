"""The tables of the metadata database.

Every change here needs a revision in holdall/metadata/migrations/versions (see CONTRIBUTING):
a database made by an earlier release must upgrade in place.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from typing import TypeAlias, Unpack

    from sqlalchemy import Row

    # A row of a plain statement (no ORM), its columns read by name.
    PlainRow: TypeAlias = Row[Unpack[tuple[Any, ...]]]


def _uuid() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class DatabaseIdentityRow(Base):
    """The one row that names this metadata database; stores it writes to record its id."""

    __tablename__ = "metadata_database"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    created: Mapped[datetime] = mapped_column(default=_now)


class SchemaUpgradeRow(Base):
    """Which holdall brought the schema to each revision (read by older releases to say which
    release they must be upgraded to)."""

    __tablename__ = "schema_upgrades"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    revision: Mapped[str] = mapped_column(String(32))
    holdall_version: Mapped[str] = mapped_column(String(64))
    upgraded: Mapped[datetime] = mapped_column(default=_now)


class ServiceConnectorRow(Base):
    """A cloud's credentials, held once, handed to the stores linked to it."""

    __tablename__ = "service_connectors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    auth_method: Mapped[str] = mapped_column(String(64))
    config: Mapped[str] = mapped_column(Text)  # JSON of the auth method's model, secrets sealed
    resource_type: Mapped[str | None] = mapped_column(String(64), default=None)
    resource_id: Mapped[str | None] = mapped_column(Text, default=None)
    expiration_seconds: Mapped[int | None] = mapped_column(default=None)
    created: Mapped[datetime] = mapped_column(default=_now)
    updated: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class RegisteredFlavorRow(Base):
    """A flavor registered from code on the path (`holdall artifact-store flavor register
    module.Class`), not from an installed distribution."""

    __tablename__ = "registered_flavors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # as stack_components.flavor
    source: Mapped[str] = mapped_column(Text)  # "package.module.FlavorClass"
    created: Mapped[datetime] = mapped_column(default=_now)


class ConnectorAuditRow(Base):
    """One hand-out of credentials (or its refusal). Never anything secret."""

    __tablename__ = "service_connector_audit"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # No foreign key: the record outlives the connector it speaks of.
    connector_id: Mapped[str] = mapped_column(String(36), index=True)
    connector: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(String(64), default="")  # issued, renewed, verified
    at: Mapped[datetime] = mapped_column(default=_now)
    user: Mapped[str] = mapped_column(String(128), default="")
    host: Mapped[str] = mapped_column(String(255), default="")
    process: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # ok, failed
    detail: Mapped[str] = mapped_column(Text, default="")


class ComponentRow(Base):
    """A stack component (for now, artifact stores) with its validated flavor config."""

    __tablename__ = "stack_components"
    __table_args__ = (UniqueConstraint("type", "name", name="uq_component_type_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    flavor: Mapped[str] = mapped_column(String(64))
    config: Mapped[str] = mapped_column(Text)  # JSON of the flavor's config model
    # A connector that hands this component its credentials, and what it is to reach with them.
    connector_id: Mapped[str | None] = mapped_column(
        ForeignKey("service_connectors.id", ondelete="RESTRICT"), default=None
    )
    connector_resource_id: Mapped[str | None] = mapped_column(Text, default=None)
    created: Mapped[datetime] = mapped_column(default=_now)
    updated: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)

    connector: Mapped[ServiceConnectorRow | None] = relationship(lazy="joined")


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


class StoreLockRow(Base):
    """An artifact store held by one long operation (a migration, from or to it): a second
    one is refused while the holder's process lives."""

    __tablename__ = "store_locks"

    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(255))  # "migration from old_store to new_store"
    process: Mapped[str] = mapped_column(String(255))  # a process tag (holdall.processes)
    since: Mapped[datetime] = mapped_column(default=_now)
    # What the store is to the operation ("source", "target"): after a kill, gc clears what
    # was left half copied into the target. None in locks taken before revision 0008.
    role: Mapped[str | None] = mapped_column(String(16), default=None)


class ArtifactRow(Base):
    """An artifact name; its versions count 1, 2, 3 ... under it."""

    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created: Mapped[datetime] = mapped_column(default=_now)


class PipelineRunRow(Base):
    __tablename__ = "pipeline_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    pipeline: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # a RunStatus value
    stack_id: Mapped[str | None] = mapped_column(String(36))
    process: Mapped[str] = mapped_column(String(255), default="")  # host:pid, for gc
    start: Mapped[datetime] = mapped_column(default=_now)
    end: Mapped[datetime | None] = mapped_column(default=None)
    # A tombstone's: when the run was deleted, and by whom (user@host).
    deleted: Mapped[datetime | None] = mapped_column(default=None)
    deleted_by: Mapped[str] = mapped_column(String(255), default="", server_default="")


class StepRunRow(Base):
    __tablename__ = "step_runs"
    __table_args__ = (UniqueConstraint("pipeline_run_id", "name", name="uq_step_run_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    pipeline_run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # a RunStatus value
    parameters: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    error: Mapped[str | None] = mapped_column(Text, default=None)
    start: Mapped[datetime] = mapped_column(default=_now)
    end: Mapped[datetime | None] = mapped_column(default=None)


class _Status(str, Enum):
    """A status as SQL stores it and as it reads: its value (also in an f-string, which an
    Enum would otherwise spell `RunStatus.FAILED`)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class RunStatus(_Status):
    """Where a pipeline run or a step run is, stored as its value."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class VersionStatus(_Status):
    """Where a version is in its life, stored as its value (a str, as SQL compares it)."""

    RESERVED = "reserved"
    COMMITTED = "committed"
    ABANDONED = "abandoned"
    # Its folder held data this database did not write: that data is never touched.
    COLLIDED = "collided"
    # Being deleted: marked before its data goes (gc finishes a delete that was killed).
    DELETING = "deleting"
    # A tombstone: the data is gone, the record stays for lineage.
    DELETED = "deleted"


class ArtifactVersionRow(Base):
    """One stored value. Readers see only `committed` ones: a version is reserved first, its
    data written and checksummed, and only then committed."""

    __tablename__ = "artifact_versions"
    __table_args__ = (UniqueConstraint("artifact_id", "version", name="uq_artifact_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    artifact_id: Mapped[str] = mapped_column(ForeignKey("artifacts.id"), index=True)
    version: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), index=True)  # a VersionStatus value
    uri: Mapped[str] = mapped_column(Text)
    # None only for a tombstone whose store was deleted after it.
    artifact_store_id: Mapped[str | None] = mapped_column(ForeignKey("stack_components.id"))
    materializer: Mapped[str] = mapped_column(String(255), default="")
    data_type: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # "blake3:<hex>" over the files' paths, sizes and checksums (see artifacts/checksum.py)
    checksum: Mapped[str] = mapped_column(String(100), default="")
    files: Mapped[str] = mapped_column(Text, default="{}")  # JSON {path: [size, "blake3:<hex>"]}
    producer_step_run_id: Mapped[str | None] = mapped_column(ForeignKey("step_runs.id"))
    pipeline_run_id: Mapped[str | None] = mapped_column(ForeignKey("pipeline_runs.id"))
    reserved_by: Mapped[str] = mapped_column(String(255), default="")  # host:pid, for gc
    created: Mapped[datetime] = mapped_column(default=_now)
    committed: Mapped[datetime | None] = mapped_column(default=None)
    # The class (tier) its files were moved to, in its cloud's words; None: its store's own.
    storage_class: Mapped[str | None] = mapped_column(String(32), default=None)
    # A tombstone's: when it was deleted (or its delete began), and by whom (user@host).
    deleted: Mapped[datetime | None] = mapped_column(default=None)
    deleted_by: Mapped[str] = mapped_column(String(255), default="", server_default="")

    artifact: Mapped[ArtifactRow] = relationship(lazy="joined")
    # Its tags, read with it (one more query per batch of versions).
    tag_links: Mapped[list[VersionTagRow]] = relationship(lazy="selectin", viewonly=True)


class StepInputRow(Base):
    __tablename__ = "step_run_inputs"

    step_run_id: Mapped[str] = mapped_column(ForeignKey("step_runs.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    artifact_version_id: Mapped[str] = mapped_column(ForeignKey("artifact_versions.id"))


class TagRow(Base):
    """A tag for versions. An exclusive one is held by one version per artifact at most
    ("production"): giving it to another version moves it."""

    __tablename__ = "tags"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    exclusive: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(default=_now)


class VersionTagRow(Base):
    __tablename__ = "artifact_version_tags"
    # The database itself keeps an exclusive tag on one version per artifact: two processes
    # moving it at once cannot both win. Rows of other tags leave the artifact empty (NULLs
    # never collide).
    __table_args__ = (UniqueConstraint("tag_id", "exclusive_artifact_id", name="uq_exclusive_tag"),)

    version_id: Mapped[str] = mapped_column(
        ForeignKey("artifact_versions.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[str] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    exclusive_artifact_id: Mapped[str | None] = mapped_column(
        ForeignKey("artifacts.id"), default=None
    )
    created: Mapped[datetime] = mapped_column(default=_now)

    tag: Mapped[TagRow] = relationship(lazy="joined")
