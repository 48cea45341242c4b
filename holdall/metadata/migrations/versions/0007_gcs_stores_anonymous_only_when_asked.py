"""GCS stores are anonymous only when asked: `anonymous: true` in their config.

Before, a gcs store with an endpoint_url and neither a key nor a connector signed in to
nothing at all; now it would look for application default credentials. Such stores keep
what they did, said in their config (and shown by describe). Stores without an endpoint_url
used application default credentials, and still do (without gcsfs's fallback to anonymous
access when those fail).

Revision ID: 0007
Revises: 0006
"""

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


COMPONENTS = sa.table(
    "stack_components",
    sa.column("id"),
    sa.column("flavor"),
    sa.column("config"),
    sa.column("connector_id"),
)


def _rewrite(change: Callable[[dict[str, Any], bool], bool]) -> None:
    """Each gcs store's config, changed in place where `change(config, linked)` says so."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(COMPONENTS.c.id, COMPONENTS.c.config, COMPONENTS.c.connector_id).where(
            COMPONENTS.c.flavor == "gcs"
        )
    ).all()
    for component_id, text, connector_id in rows:
        config = json.loads(text)
        if change(config, connector_id is not None):
            connection.execute(
                COMPONENTS.update()
                .where(COMPONENTS.c.id == component_id)
                .values(config=json.dumps(config, sort_keys=True))
            )


def _mark_anonymous(config: dict[str, Any], linked: bool) -> bool:
    if linked or not config.get("endpoint_url") or config.get("token"):
        return False
    config["anonymous"] = True
    return True


def _unmark(config: dict[str, Any], linked: bool) -> bool:
    # 0006's config model forbids fields it does not know.
    return config.pop("anonymous", None) is not None


def upgrade() -> None:
    _rewrite(_mark_anonymous)


def downgrade() -> None:
    _rewrite(_unmark)
