"""What the client hands out about artifacts and runs; related records load when asked for."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from holdall.artifacts.checksum import FileDigests
from holdall.artifacts.deletion import GONE
from holdall.artifacts.integrity import Packing, decode_codecs, decode_files
from holdall.metadata.tables import ArtifactVersionRow, PipelineRunRow, StepRunRow

if TYPE_CHECKING:
    from holdall.artifacts.api import ArtifactsAPI
    from holdall.metadata.tables import PlainRow


@dataclass(frozen=True)
class ArtifactVersion:
    id: str
    name: str
    version: int
    uri: str
    materializer: str
    data_type: str
    size: int
    # Over its files' list (see checksum.manifest_checksum): "blake3:<hex>" ("sha256:<hex>"
    # for versions of holdall 0.1.0).
    checksum: str
    created: datetime
    artifact_store_id: str | None  # None: a tombstone whose store was deleted after it
    producer_step_run_id: str | None
    pipeline_run_id: str | None
    client: ArtifactsAPI = field(repr=False, compare=False)
    # Each file under the version's uri: (size, "blake3:<hex>", the hex b3sum prints for it).
    files: FileDigests = field(default_factory=dict, repr=False, compare=False)
    # The files among them stored compressed: codec, and the size and checksum decompressed.
    codecs: dict[str, Packing] = field(default_factory=dict, repr=False, compare=False)
    # A tombstone's: when it was deleted (or its delete began), and by whom (user@host).
    deleted: datetime | None = None
    deleted_by: str = ""
    tags: tuple[str, ...] = ()
    # The class (tier) its files were moved to, in its cloud's words; None: its store's own.
    storage_class: str | None = None

    @classmethod
    def of(cls, row: ArtifactVersionRow, client: ArtifactsAPI) -> ArtifactVersion:
        tags = tuple(sorted(link.tag.name for link in row.tag_links))
        return cls.of_columns(row, row.artifact.name, tags, client)

    @classmethod
    def of_columns(
        cls,
        row: ArtifactVersionRow | PlainRow,
        name: str,
        tags: tuple[str, ...],
        client: ArtifactsAPI,
    ) -> ArtifactVersion:
        """From a version's columns (its ORM row, or a plain row of its table), its
        artifact's name and its tags."""
        return cls(
            id=row.id,
            name=name,
            version=row.version,
            uri=row.uri,
            materializer=row.materializer,
            data_type=row.data_type,
            size=row.size,
            checksum=row.checksum,
            created=row.committed or row.created,
            artifact_store_id=row.artifact_store_id,
            producer_step_run_id=row.producer_step_run_id,
            pipeline_run_id=row.pipeline_run_id,
            client=client,
            files=decode_files(row.files) if row.files else {},
            codecs=decode_codecs(row.files) if row.files else {},
            deleted=row.deleted if row.status in GONE else None,
            deleted_by=row.deleted_by if row.status in GONE else "",
            tags=tags,
            storage_class=row.storage_class,
        )

    @property
    def label(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted is not None

    def load(self) -> Any:
        """The stored value, after checking it against its checksums."""
        return self.client.load_artifact_version(self)

    @property
    def producer_step(self) -> StepRun | None:
        if self.producer_step_run_id is None:
            return None
        return self.client.get_step_run(self.producer_step_run_id)

    @property
    def run(self) -> PipelineRun | None:
        if self.pipeline_run_id is None:
            return None
        return self.client.get_pipeline_run_by_id(self.pipeline_run_id)

    @property
    def used_by(self) -> list[tuple[str, StepRun]]:
        """The step runs that took it as an input, each with the parameter it filled."""
        return self.client.steps_using(self.id)


@dataclass(frozen=True)
class StepRun:
    id: str
    name: str
    status: str
    start: datetime
    end: datetime | None
    parameters: dict[str, Any]
    error: str | None
    pipeline_run_id: str
    client: ArtifactsAPI = field(repr=False, compare=False)

    @classmethod
    def of(cls, row: StepRunRow, client: ArtifactsAPI) -> StepRun:
        return cls(
            id=row.id,
            name=row.name,
            status=row.status,
            start=row.start,
            end=row.end,
            parameters=json.loads(row.parameters),
            error=row.error,
            pipeline_run_id=row.pipeline_run_id,
            client=client,
        )

    @property
    def run(self) -> PipelineRun:
        return self.client.get_pipeline_run_by_id(self.pipeline_run_id)

    @property
    def inputs(self) -> dict[str, ArtifactVersion]:
        return self.client.step_inputs(self.id)

    @property
    def outputs(self) -> dict[str, ArtifactVersion]:
        return self.client.step_outputs(self.id)


@dataclass(frozen=True)
class PipelineRun:
    id: str
    pipeline: str
    name: str
    status: str
    start: datetime
    end: datetime | None
    client: ArtifactsAPI = field(repr=False, compare=False)
    # A tombstone's: when the run was deleted, and by whom (user@host).
    deleted: datetime | None = None
    deleted_by: str = ""

    @classmethod
    def of(cls, row: PipelineRunRow, client: ArtifactsAPI) -> PipelineRun:
        return cls(
            id=row.id,
            pipeline=row.pipeline,
            name=row.name,
            status=row.status,
            start=row.start,
            end=row.end,
            client=client,
            deleted=row.deleted,
            deleted_by=row.deleted_by,
        )

    @property
    def steps(self) -> dict[str, StepRun]:
        return self.client.run_steps(self.id)


@dataclass(frozen=True)
class ArtifactSummary:
    """An artifact as a list shows it: its latest committed version."""

    name: str
    latest: int
    size: int  # the latest version's
    committed: datetime | None
    tags: tuple[str, ...]


@dataclass
class Usage:
    """One artifact's share of a store: its committed versions and their bytes, and how many
    of its versions there were deleted."""

    artifact: str
    versions: int
    size: int
    deleted: int
    # Bytes of committed versions per storage class ("" for the store's own class).
    classes: dict[str, int] = field(default_factory=dict)
