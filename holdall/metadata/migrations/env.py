"""Alembic's entry: runs the revisions on the connection holdall already opened and locked."""

from alembic import context

from holdall.metadata.tables import Base

connection = context.config.attributes["connection"]
# render_as_batch: SQLite can change a column only by copying its table.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
