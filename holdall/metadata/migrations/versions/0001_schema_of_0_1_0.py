"""The schema of holdall 0.1.0, which made its tables without revisions.

A database made by 0.1.0 is stamped with this revision before it is upgraded; an empty one
starts here. Written out in full, never imported from tables.py, which moves on.

Revision ID: 0001
Revises:
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _times(*names: str, nullable: bool = False) -> list[sa.Column[Any]]:
    return [sa.Column(name, sa.DateTime(), nullable=nullable) for name in names]


def upgrade() -> None:
    op.create_table(
        "stack_components",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("flavor", sa.String(64), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        *_times("created", "updated"),
        sa.UniqueConstraint("type", "name", name="uq_component_type_name"),
    )
    op.create_table(
        "stacks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column(
            "artifact_store_id",
            sa.String(36),
            sa.ForeignKey("stack_components.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        *_times("created", "updated"),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        *_times("created"),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("pipeline", sa.String(128), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stack_id", sa.String(36), nullable=True),
        sa.Column("process", sa.String(255), nullable=False),
        *_times("start"),
        *_times("end", nullable=True),
    )
    op.create_table(
        "step_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "pipeline_run_id",
            sa.String(36),
            sa.ForeignKey("pipeline_runs.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        *_times("start"),
        *_times("end", nullable=True),
        sa.UniqueConstraint("pipeline_run_id", "name", name="uq_step_run_name"),
    )
    op.create_table(
        "artifact_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "artifact_id", sa.String(36), sa.ForeignKey("artifacts.id"), nullable=False, index=True
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column(
            "artifact_store_id",
            sa.String(36),
            sa.ForeignKey("stack_components.id"),
            nullable=False,
        ),
        sa.Column("materializer", sa.String(255), nullable=False),
        sa.Column("data_type", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column(
            "producer_step_run_id", sa.String(36), sa.ForeignKey("step_runs.id"), nullable=True
        ),
        sa.Column(
            "pipeline_run_id", sa.String(36), sa.ForeignKey("pipeline_runs.id"), nullable=True
        ),
        sa.Column("reserved_by", sa.String(255), nullable=False),
        *_times("created"),
        *_times("committed", nullable=True),
        sa.UniqueConstraint("artifact_id", "version", name="uq_artifact_version"),
    )
    op.create_table(
        "step_run_inputs",
        sa.Column("step_run_id", sa.String(36), sa.ForeignKey("step_runs.id"), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column(
            "artifact_version_id",
            sa.String(36),
            sa.ForeignKey("artifact_versions.id"),
            nullable=False,
        ),
    )
