"""`holdall artifact-store ...`: register and manage where artifacts are kept."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.options import EXTRA_OPTIONS, option_value, parse_config_options
from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows


def _client() -> Any:
    from holdall.client import Client

    return Client()


def _store_record(model: Any) -> dict[str, Any]:
    return {"name": model.name, "flavor": model.flavor, "path": model.path}


@click.group("artifact-store")
def artifact_store() -> None:
    """Artifact stores: a local folder, or a bucket in a cloud."""


CONNECTOR_OPTION = click.option(
    "--connector", "-c", help="A service connector that hands the store its credentials."
)
RESOURCE_ID_OPTION = click.option(
    "--resource-id", help="What the store is to its connector (default: its bucket)."
)


@artifact_store.command("register", context_settings=EXTRA_OPTIONS)
@click.argument("name")
@click.option("--flavor", "-f", required=True, help="The flavor, e.g. local or s3.")
@click.option("--path", help="Root of the store, e.g. s3://bucket/prefix.")
@CONNECTOR_OPTION
@RESOURCE_ID_OPTION
@click.pass_context
def register(
    ctx: click.Context,
    name: str,
    flavor: str,
    path: str | None,
    connector: str | None,
    resource_id: str | None,
) -> None:
    """Register a store. Flavor settings go as --KEY=VALUE (--KEY=@file reads a file)."""
    model = _client().register_artifact_store(
        name,
        flavor,
        path=option_value("path", path),
        config=parse_config_options(ctx.args),
        connector=connector,
        resource_id=resource_id,
    )
    via = f", credentials from connector '{model.connector}'" if model.connector else ""
    click.echo(f"Registered artifact store '{model.name}' ({model.flavor}) at {model.path}{via}")


@artifact_store.command("list")
@OUTPUT_OPTION
def list_stores(output: str) -> None:
    """List the registered stores."""
    rows = [_store_record(m) for m in _client().list_artifact_stores()]
    print_rows(rows, ["name", "flavor", "path"], output)


@artifact_store.command("describe")
@click.argument("name")
@OUTPUT_OPTION
def describe(name: str, output: str) -> None:
    """Show one store's settings (secrets masked) and the stacks that use it."""
    from holdall.secrets import masked

    client = _client()
    model = client.get_artifact_store(name)
    record = {
        **_store_record(model),
        "id": model.id,
        "created": model.created.isoformat(timespec="seconds"),
        "stacks": client.stacks_using(name),
        "connector": model.connector,
        "connector_resource_id": model.connector_resource_id,
        "config": {k: v for k, v in masked(model.config).items() if k != "path"},
    }
    print_record(record, output)


@artifact_store.command("update", context_settings=EXTRA_OPTIONS)
@click.argument("name")
@click.option("--path", help="New root of the store.")
@CONNECTOR_OPTION
@RESOURCE_ID_OPTION
@click.pass_context
def update(
    ctx: click.Context,
    name: str,
    path: str | None,
    connector: str | None,
    resource_id: str | None,
) -> None:
    """Change a store's settings (--KEY=VALUE, as for register), or its connector."""
    config = parse_config_options(ctx.args)
    if path is None and not config and connector is None and resource_id is None:
        raise click.UsageError(
            "nothing to update: give --path, --connector or --KEY=VALUE settings"
        )
    model = _client().update_artifact_store(
        name,
        path=option_value("path", path),
        config=config,
        connector=connector,
        resource_id=resource_id,
    )
    click.echo(f"Updated artifact store '{model.name}' ({model.flavor}) at {model.path}")


@artifact_store.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Remove a store's registration (its files stay where they are)."""
    _client().delete_artifact_store(name)
    click.echo(f"Deleted artifact store '{name}'")


@artifact_store.group("flavor")
def flavor() -> None:
    """Artifact-store flavors: what kinds of storage holdall can use."""


@flavor.command("list")
@OUTPUT_OPTION
def list_flavors(output: str) -> None:
    """List every flavor, installed or not."""
    from holdall.registry import get_registry, warn_problems

    registry = get_registry()
    warn_problems(registry)
    rows = [
        {
            "name": info.name,
            "integration": info.integration,
            "installed": info.installed,
            "schemes": list(info.schemes),
            "error": info.error,
        }
        for info in registry.flavors()
    ]
    print_rows(rows, ["name", "integration", "installed", "schemes"], output)


def setting_type(annotation: Any) -> str:
    """How a setting's type reads: `int | None`, `"Hot" | "Cool" | None`, `secret | None`."""
    import types
    import typing

    from pydantic import SecretStr

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(f'"{arg}"' for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(setting_type(arg) for arg in args)
    if annotation is SecretStr:
        return "secret"
    if annotation is type(None):
        return "None"
    return str(getattr(annotation, "__name__", annotation)).replace("typing.", "")


@flavor.command("describe")
@click.argument("name")
@OUTPUT_OPTION
def describe_flavor(name: str, output: str) -> None:
    """Show a flavor's settings: the --KEY=VALUE options register takes."""
    from holdall.registry import get_registry

    flavor_class = get_registry().flavor(name)
    settings = {
        key: setting_type(field.annotation)
        + (
            ""
            if field.is_required()
            else f" (default: {field.get_default(call_default_factory=True)!r})"
        )
        for key, field in flavor_class.config_class.model_fields.items()
    }
    default = flavor_class.default_path("<store id>")
    record = {
        "name": flavor_class.name,
        "schemes": sorted(flavor_class.schemes()),
        "default path": default or "(none: --path is required)",
        "settings": settings,
    }
    print_record(record, output)
