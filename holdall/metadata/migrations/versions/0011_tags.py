"""Tags on versions, many per version; an exclusive tag is held by one version per artifact,
which a unique constraint over (tag, artifact) keeps so.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "artifact_version_tags",
        sa.Column(
            "version_id",
            sa.String(36),
            sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "tag_id", sa.String(36), sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "exclusive_artifact_id", sa.String(36), sa.ForeignKey("artifacts.id"), nullable=True
        ),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("tag_id", "exclusive_artifact_id", name="uq_exclusive_tag"),
    )
    op.create_index("ix_artifact_version_tags_tag_id", "artifact_version_tags", ["tag_id"])


def downgrade() -> None:
    op.drop_index("ix_artifact_version_tags_tag_id", "artifact_version_tags")
    op.drop_table("artifact_version_tags")
    op.drop_table("tags")
