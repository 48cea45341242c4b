"""`holdall secrets ...`: the key that stored secrets are encrypted with."""

from __future__ import annotations

import click


@click.group("secrets")
def secrets() -> None:
    """The key that secret settings of stores and connectors are encrypted with."""


@secrets.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret under a new key. Safe to interrupt: run it again and it
    finishes; until it does, the old key still opens what was not yet re-encrypted."""
    import os

    from holdall.client import Client
    from holdall.secrets import KEY_ENV, key_file

    count = Client().rotate_secrets_key()
    if os.environ.get(KEY_ENV):
        click.echo(
            f"Re-encrypted {count} secret(s) under the first key of {KEY_ENV}; now set "
            f"{KEY_ENV} to that key alone, wherever holdall runs against this database."
        )
    else:
        click.echo(f"Re-encrypted {count} secret(s) under a new key in {key_file()}.")
