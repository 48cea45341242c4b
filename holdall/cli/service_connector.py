"""`holdall service-connector ...`: a cloud's credentials, held once, lent to stores."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.options import EXTRA_OPTIONS, parse_config_options
from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows


def _client() -> Any:
    from holdall.client import Client

    return Client()


def _record(model: Any) -> dict[str, Any]:
    from holdall.secrets import masked

    return {
        "name": model.name,
        "type": model.type,
        "auth_method": model.auth_method,
        "resource_type": model.resource_type,
        "resource_id": model.resource_id,
        "expiration_seconds": model.expiration_seconds,
        "config": masked(model.config),
    }


def _say_reached(reached: list[str]) -> None:
    if reached:
        click.echo("It reaches: " + ", ".join(reached))


@click.group("service-connector")
def service_connector() -> None:
    """Service connectors: a cloud's credentials, held once, handed to the stores that use
    them (renewed as they expire), every use audited."""


@service_connector.command("list-types")
@OUTPUT_OPTION
def list_types(output: str) -> None:
    """List every connector type, installed or not."""
    from holdall.registry import get_registry, warn_problems

    registry = get_registry()
    warn_problems(registry)
    rows = [
        {
            "type": info.name,
            "integration": info.integration,
            "installed": info.installed,
            "auth_methods": list(info.auth_methods),
            "resource_types": list(info.resource_types),
            "error": info.error,
        }
        for info in registry.connector_types()
    ]
    print_rows(rows, ["type", "integration", "installed", "auth_methods", "resource_types"], output)


@service_connector.command("describe-type")
@click.argument("type_name", metavar="TYPE")
@OUTPUT_OPTION
def describe_type(type_name: str, output: str) -> None:
    """Show a type's auth methods (and the --KEY=VALUE fields each takes) and resource types."""
    from holdall.secrets import secret_fields

    kind = _client().registry.connector_type(type_name)
    methods = {}
    for method, model in kind.auth_methods.items():
        secret = set(secret_fields(model))
        fields = [
            f"--{key}"
            + (" (secret)" if key in secret else "")
            + ("" if field.is_required() else " (optional)")
            for key, field in model.model_fields.items()
        ]
        methods[method] = f"{model.DESCRIPTION}: {', '.join(fields) or 'no fields'}"
    record = {
        "type": kind.name,
        "description": kind.description,
        "auth methods": methods,
        "resource types": dict(kind.resource_types),
    }
    print_record(record, output)


@service_connector.command("register", context_settings=EXTRA_OPTIONS)
@click.argument("name")
@click.option("--type", "type_name", required=True, help="The connector type, e.g. aws.")
@click.option("--auth-method", help="How it authenticates (see describe-type).")
@click.option("--resource-type", help="What it is for (default: the type's first).")
@click.option("--resource-id", help="The one resource it is for, e.g. s3://my-bucket.")
@click.option("--expiration-seconds", type=int, help="Lifetime of the credentials it issues.")
@click.option("--auto-configure", is_flag=True, help="Take the credentials of this environment.")
@click.option("--no-verify", is_flag=True, help="Register without checking what it reaches.")
@click.pass_context
def register(
    ctx: click.Context,
    name: str,
    type_name: str,
    auth_method: str | None,
    resource_type: str | None,
    resource_id: str | None,
    expiration_seconds: int | None,
    auto_configure: bool,
    no_verify: bool,
) -> None:
    """Register a connector. Its fields go as --KEY=VALUE (--KEY=@file reads a file: keep
    secrets out of the shell's history)."""
    model, reached = _client().create_service_connector(
        name,
        type_name,
        auth_method=auth_method,
        configuration=parse_config_options(ctx.args),
        resource_type=resource_type,
        resource_id=resource_id,
        expiration_seconds=expiration_seconds,
        auto_configure=auto_configure,
        verify=not no_verify,
    )
    click.echo(f"Registered service connector '{model.name}' ({model.type}, {model.auth_method})")
    _say_reached(reached)


@service_connector.command("list")
@OUTPUT_OPTION
def list_connectors(output: str) -> None:
    """List the registered connectors."""
    rows = [_record(model) for model in _client().list_service_connectors()]
    print_rows(rows, ["name", "type", "auth_method", "resource_type", "resource_id"], output)


@service_connector.command("describe")
@click.argument("name")
@OUTPUT_OPTION
def describe(name: str, output: str) -> None:
    """Show one connector (secrets as [HIDDEN]) and the stores that use it."""
    client = _client()
    model = client.get_service_connector(name)
    record = {
        **_record(model),
        "id": model.id,
        "created": model.created.isoformat(timespec="seconds"),
        "stores": client.stores_using_connector(name),
    }
    print_record(record, output)


@service_connector.command("verify")
@click.argument("name")
@click.option("--resource-type", help="What to check (default: the connector's).")
@click.option("--resource-id", help="The resource to check, e.g. s3://my-bucket.")
def verify(name: str, resource_type: str | None, resource_id: str | None) -> None:
    """Check that the connector's credentials work, and say what they reach."""
    reached = _client().verify_service_connector(name, resource_type, resource_id)
    click.echo(f"Service connector '{name}' works.")
    _say_reached(reached)


@service_connector.command("list-resources")
@click.argument("name")
@OUTPUT_OPTION
def list_resources(name: str, output: str) -> None:
    """List what the connector reaches, by resource type."""
    found = _client().get_service_connector_resources(name)
    rows = [{"resource_type": kind, "resources": ids} for kind, ids in found.items()]
    print_rows(rows, ["resource_type", "resources"], output)


@service_connector.command("update", context_settings=EXTRA_OPTIONS)
@click.argument("name")
@click.option("--resource-type", help="What it is for.")
@click.option("--resource-id", help="The one resource it is for.")
@click.option("--expiration-seconds", type=int, help="Lifetime of the credentials it issues.")
@click.option("--no-verify", is_flag=True, help="Update without checking what it reaches.")
@click.pass_context
def update(
    ctx: click.Context,
    name: str,
    resource_type: str | None,
    resource_id: str | None,
    expiration_seconds: int | None,
    no_verify: bool,
) -> None:
    """Change a connector's fields (--KEY=VALUE) or what it is for."""
    values = parse_config_options(ctx.args)
    if not values and resource_type is None and resource_id is None and not expiration_seconds:
        raise click.UsageError(
            "nothing to update: give --KEY=VALUE fields, --resource-id or --expiration-seconds"
        )
    model, reached = _client().update_service_connector(
        name,
        configuration=values,
        resource_type=resource_type,
        resource_id=resource_id,
        expiration_seconds=expiration_seconds,
        verify=not no_verify,
    )
    click.echo(f"Updated service connector '{model.name}'")
    _say_reached(reached)


@service_connector.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Remove a connector (refused while a store uses it)."""
    _client().delete_service_connector(name)
    click.echo(f"Deleted service connector '{name}'")


@service_connector.command("audit")
@click.argument("name")
@OUTPUT_OPTION
def audit(name: str, output: str) -> None:
    """Every hand-out of the connector's credentials: when, to whom, for what, and how it
    went."""
    rows = [
        {
            "at": entry.at.isoformat(timespec="seconds"),
            "purpose": entry.purpose,
            "resource": entry.resource,
            "outcome": entry.outcome,
            "user": entry.user,
            "host": entry.host,
            "process": entry.process,
            "detail": entry.detail,
        }
        for entry in _client().get_service_connector_audit(name)
    ]
    columns = ["at", "purpose", "resource", "outcome", "user", "host", "process", "detail"]
    print_rows(rows, columns, output)
