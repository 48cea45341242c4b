"""Each metadata database gets an identity, which the stores it writes to record.

A store's root holds a marker naming the database that owns it, so that a second database
(a teammate's own config dir, a reset one) never writes into the same folder or bucket.

Revision ID: 0004
Revises: 0003
"""

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "metadata_database",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(table, [{"id": str(uuid.uuid4()), "created": now}])
