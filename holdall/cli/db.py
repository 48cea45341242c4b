"""`holdall db ...`: the metadata database's schema revision, and upgrading it on purpose."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_record


def _database() -> Any:
    from holdall.metadata.database import Database
    from holdall.settings import database_url

    return Database(database_url())


@click.group()
def db() -> None:
    """The metadata database: its schema revision and upgrades."""


@db.command("status")
@OUTPUT_OPTION
def status(output: str) -> None:
    """Show the database's schema revision and the one this holdall needs; changes nothing."""
    database = _database()
    found = database.status()
    record = {
        "database": database.shown_url,
        "current revision": found.current or ("(none)" if found.empty else "0001 (holdall 0.1.0)"),
        "latest revision": found.head,
        "state": found.state,
        "last upgraded by": f"holdall {found.upgraded_by}" if found.upgraded_by else None,
    }
    print_record(record, output)


@db.command("upgrade")
def upgrade() -> None:
    """Bring the database's schema to the latest revision (holdall otherwise does this on
    first use, unless HOLDALL_DB_AUTO_UPGRADE=0)."""
    database = _database()
    before, changed = database.upgrade()
    if not changed:
        click.echo(f"The metadata database {database.shown_url} is up to date ({before.head})")
        return
    start = "an empty database" if before.empty else f"revision {before.current or '0001'}"
    click.echo(f"Upgraded the metadata database {database.shown_url} from {start} to {before.head}")
