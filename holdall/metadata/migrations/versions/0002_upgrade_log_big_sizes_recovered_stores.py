"""A log of schema upgrades, 64-bit artifact sizes, and stores for orphaned versions.

- schema_upgrades: which holdall made each revision, so that an older holdall can say which
  release it must be upgraded to.
- artifact_versions.size: an INTEGER on PostgreSQL is 32 bits, too small past 2 GiB.
- holdall 0.1.0 on SQLite let a store be deleted while versions lived in it, leaving them
  pointing at nothing. Each such store is registered again as `recovered-<id>` with the path
  its versions show, so that they load again and foreign keys hold.

Revision ID: 0002
Revises: 0001
"""

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FLAVORS = {"s3://": "s3", "gs://": "gcs", "gcs://": "gcs", "az://": "azure", "abfs://": "azure"}


def _store_path(uri: str) -> str:
    # A version lives at <store>/_saved/<name>/<version> when saved outside a pipeline, else
    # at <store>/<pipeline>/<step>/<name>/<version> (no pipeline name starts with '_').
    head, marker, _name, _version = uri.rstrip("/").rsplit("/", 3)
    return head if marker == "_saved" else uri.rstrip("/").rsplit("/", 4)[0]


def _flavor(path: str) -> str:
    scheme, sep, _ = path.partition("://")
    return FLAVORS.get(f"{scheme.lower()}://", "local") if sep else "local"


def _recover_orphaned_stores() -> None:
    connection = op.get_bind()
    orphans = connection.execute(
        sa.text(
            "SELECT artifact_store_id, MIN(uri) FROM artifact_versions"
            " WHERE artifact_store_id NOT IN (SELECT id FROM stack_components)"
            " GROUP BY artifact_store_id"
        )
    ).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for store_id, uri in orphans:
        path = _store_path(uri)
        connection.execute(
            sa.text(
                "INSERT INTO stack_components (id, type, name, flavor, config, created, updated)"
                " VALUES (:id, 'artifact_store', :name, :flavor, :config, :now, :now)"
            ),
            {
                "id": store_id,
                "name": f"recovered-{store_id[:8]}",
                "flavor": _flavor(path),
                "config": json.dumps({"path": path}),
                "now": now,
            },
        )


def upgrade() -> None:
    op.create_table(
        "schema_upgrades",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("revision", sa.String(32), nullable=False),
        sa.Column("holdall_version", sa.String(64), nullable=False),
        sa.Column("upgraded", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("artifact_versions") as batch:
        batch.alter_column(
            "size", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False
        )
    _recover_orphaned_stores()
