"""Checksums name their algorithm: `checksum` ("blake3:<hex>") replaces `sha256`.

What holdall 0.1.0 recorded keeps verifying under the names of what it was: each file's
"<hex>" becomes "sha256-tree:<hex>" (SHA-256 over the SHA-256 of 8 MiB blocks), and a
version's digest of its manifest becomes "sha256:<hex>".

Revision ID: 0003
Revises: 0002
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 500


def _name_file_checksums(connection: sa.Connection) -> None:
    versions = sa.table("artifact_versions", sa.column("id"), sa.column("files"))
    last = ""
    while True:
        rows = connection.execute(
            sa.select(versions.c.id, versions.c.files)
            .where(versions.c.id > last)
            .order_by(versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for version_id, files in rows:
            named = {
                path: [size, digest if ":" in digest else f"sha256-tree:{digest}"]
                for path, (size, digest) in json.loads(files or "{}").items()
            }
            connection.execute(
                versions.update()
                .where(versions.c.id == version_id)
                .values(files=json.dumps(named, sort_keys=True))
            )
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("artifact_versions") as batch:
        batch.alter_column(
            "sha256",
            new_column_name="checksum",
            type_=sa.String(100),
            existing_type=sa.String(64),
            existing_nullable=False,
        )
    op.execute("UPDATE artifact_versions SET checksum = 'sha256:' || checksum WHERE checksum <> ''")
    _name_file_checksums(op.get_bind())
