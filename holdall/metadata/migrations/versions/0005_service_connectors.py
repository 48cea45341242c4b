"""Service connectors: their records, the link from a store to one, and an audit of every
hand-out of credentials.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_connectors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("auth_method", sa.String(64), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=True),
        sa.Column("resource_id", sa.Text(), nullable=True),
        sa.Column("expiration_seconds", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "service_connector_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("connector_id", sa.String(36), nullable=False),
        sa.Column("connector", sa.String(128), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("process", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_service_connector_audit_connector_id", "service_connector_audit", ["connector_id"]
    )
    # SQLite adds a column with a foreign key only by copying the table.
    with op.batch_alter_table("stack_components") as batch:
        batch.add_column(sa.Column("connector_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("connector_resource_id", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_stack_components_connector_id",
            "service_connectors",
            ["connector_id"],
            ["id"],
            ondelete="RESTRICT",
        )
