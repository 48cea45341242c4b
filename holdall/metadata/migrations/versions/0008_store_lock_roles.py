"""Store locks say what the store is to the operation that holds it ("source", "target"), so
that gc can clear what a killed migration left in its target without a rerun.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("store_locks") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("store_locks") as batch:
        batch.drop_column("role")
