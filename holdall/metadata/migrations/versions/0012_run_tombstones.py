"""A deleted pipeline run keeps its record as a tombstone (when, by whom), so that the
versions it made and used still name the run and step they came from.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.add_column(sa.Column("deleted", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("deleted_by", sa.String(255), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.drop_column("deleted_by")
        batch.drop_column("deleted")
