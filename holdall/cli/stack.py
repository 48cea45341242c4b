"""`holdall stack ...`: named sets of components, one of them active."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows

STORE_OPTION = click.option(
    "--artifact-store", "-a", "store", required=True, help="Name of a registered artifact store."
)


def _client() -> Any:
    from holdall.client import Client

    return Client()


@click.group()
def stack() -> None:
    """Stacks: which artifact store the pipelines write to."""


@stack.command("register")
@click.argument("name")
@STORE_OPTION
@click.option("--set", "activate", is_flag=True, help="Make it the active stack too.")
def register(name: str, store: str, activate: bool) -> None:
    """Register a stack."""
    client = _client()
    client.register_stack(name, store)
    click.echo(f"Registered stack '{name}' with artifact store '{store}'")
    if activate:
        client.activate_stack(name)
        click.echo(f"Active stack: '{name}'")


@stack.command("list")
@OUTPUT_OPTION
def list_stacks(output: str) -> None:
    """List the stacks; the active one is marked."""
    client = _client()
    active = client.active_stack_model.name
    rows = [
        {"name": s.name, "artifact_store": s.artifact_store.name, "active": s.name == active}
        for s in client.list_stacks()
    ]
    print_rows(rows, ["active", "name", "artifact_store"], output)


@stack.command("describe")
@click.argument("name", required=False)
@OUTPUT_OPTION
def describe(name: str | None, output: str) -> None:
    """Show a stack (the active one if no name is given)."""
    client = _client()
    active = client.active_stack_model
    model = client.get_stack(name) if name else active
    record = {
        "name": model.name,
        "active": model.name == active.name,
        "id": model.id,
        "artifact_store": model.artifact_store.name,
        "artifact_store_flavor": model.artifact_store.flavor,
        "artifact_store_path": model.artifact_store.path,
    }
    print_record(record, output)


@stack.command("set")
@click.argument("name")
def set_stack(name: str) -> None:
    """Make a stack the active one (kept across processes)."""
    _client().activate_stack(name)
    click.echo(f"Active stack: '{name}'")


@stack.command("copy")
@click.argument("source")
@click.argument("target")
def copy(source: str, target: str) -> None:
    """Register TARGET with the same components as SOURCE."""
    _client().copy_stack(source, target)
    click.echo(f"Copied stack '{source}' to '{target}'")


@stack.command("update")
@click.argument("name")
@STORE_OPTION
def update(name: str, store: str) -> None:
    """Point a stack at another artifact store."""
    _client().update_stack(name, store)
    click.echo(f"Stack '{name}' now uses artifact store '{store}'")


@stack.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Remove a stack (not the active one, nor `default`)."""
    _client().delete_stack(name)
    click.echo(f"Deleted stack '{name}'")
