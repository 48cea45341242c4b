"""A deleted version keeps its record as a tombstone: when it was deleted and by whom, and
its place in lineage. A tombstone outlives its store (its store id is then empty).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artifact_versions") as batch:
        batch.add_column(sa.Column("deleted", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("deleted_by", sa.String(255), nullable=False, server_default=""))
        batch.alter_column("artifact_store_id", existing_type=sa.String(36), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("artifact_versions") as batch:
        batch.alter_column("artifact_store_id", existing_type=sa.String(36), nullable=False)
        batch.drop_column("deleted_by")
        batch.drop_column("deleted")
