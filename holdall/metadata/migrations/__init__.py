"""The schema's Alembic revisions, shipped inside the core; applied by holdall.metadata.schema."""
