"""`holdall tag ...`: the tags versions can hold ("production", exclusive ones included)."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_rows


def _client() -> Any:
    from holdall.client import Client

    return Client()


@click.group()
def tag() -> None:
    """Tags on artifact versions. Tag a version with: holdall artifact version update NAME
    VERSION -t TAG."""


@tag.command("list")
@OUTPUT_OPTION
def list_tags(output: str) -> None:
    """List every tag, whether it is exclusive, and how many versions hold it."""
    rows = [
        {"name": t.name, "exclusive": t.exclusive, "versions": t.versions}
        for t in _client().list_tags()
    ]
    print_rows(rows, ["name", "exclusive", "versions"], output)


@tag.command("register")
@click.argument("name")
@click.option("--exclusive", is_flag=True, help="One version per artifact holds it.")
def register(name: str, exclusive: bool) -> None:
    """Make a tag before any version holds it (an exclusive one, say)."""
    made = _client().create_tag(name, exclusive)
    click.echo(f"Registered tag '{made.name}'{' (exclusive)' if made.exclusive else ''}")


@tag.command("delete")
@click.argument("name")
@click.option("--force", is_flag=True, help="Take it off the versions that hold it too.")
def delete(name: str, force: bool) -> None:
    """Delete a tag (refused while versions hold it, unless --force)."""
    held = _client().delete_tag(name, force)
    click.echo(f"Deleted tag '{name}'" + (f", taken off {held} version(s)" if held else ""))
