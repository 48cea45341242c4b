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
    "--connector",
    "-c",
    help='A service connector that hands the store its credentials ("" on update: none).',
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
    client = _client()
    model = client.get_artifact_store(name)
    record = {
        **_store_record(model),
        "id": model.id,
        "created": model.created.isoformat(timespec="seconds"),
        "stacks": client.stacks_using(name),
        "connector": model.connector,
        "connector_resource_id": model.connector_resource_id,
        "config": model.shown_settings,
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
    unlinked = "; it uses no service connector now" if connector == "" else ""
    click.echo(f"Updated artifact store '{model.name}' ({model.flavor}) at {model.path}{unlinked}")


@artifact_store.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Remove a store's registration (its files stay where they are)."""
    _client().delete_artifact_store(name)
    click.echo(f"Deleted artifact store '{name}'")


@artifact_store.command("migrate")
@click.argument("source")
@click.argument("destination")
@click.option(
    "--artifact",
    "artifacts",
    multiple=True,
    help="Move only this artifact (NAME) or version (NAME:VERSION); repeatable.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--dry-run", is_flag=True, help="Show what would move: versions, files, bytes.")
@click.option(
    "--delete-source",
    is_flag=True,
    help="Remove each version's source copy once its record has moved.",
)
@OUTPUT_OPTION
def migrate(
    source: str,
    destination: str,
    artifacts: tuple[str, ...],
    jobs: int,
    dry_run: bool,
    delete_source: bool,
    output: str,
) -> None:
    """Move committed versions, data and records, from SOURCE to DESTINATION.

    Each file is checked against its checksum as it is read, and again as the destination
    holds it, before the version's record moves. Run it again after an interruption: it
    goes on where it stopped.
    """
    import json
    import time

    from holdall.cli.progress import MigrationProgress, size_text
    from holdall.errors import HoldallError

    client = _client()
    if dry_run:
        plan = client.plan_migration(source, destination, artifacts)
        rows = [
            {"version": m.label, "files": len(m.files), "bytes": m.size, "to": m.target_uri}
            for m in plan.moves
        ]
        total = {"versions": len(plan.moves), "files": plan.files, "bytes": plan.size}
        if output == "json":
            record = {**total, "at_destination": plan.at_destination, "moves": rows}
            click.echo(json.dumps(record, indent=2))
            return
        print_rows(rows, ["version", "files", "bytes", "to"], output)
        click.echo(
            f"would move {len(plan.moves)} versions: {plan.files} files, "
            f"{size_text(plan.size)} ({plan.at_destination} already in '{destination}')"
        )
        return
    progress = MigrationProgress()
    started = time.monotonic()
    try:
        plan, summary = client.migrate_artifact_store(
            source,
            destination,
            artifacts,
            jobs=jobs,
            delete_source=delete_source,
            progress=progress,
        )
    finally:
        progress.finish()
    seconds = time.monotonic() - started
    record = {
        "moved": summary.moved,
        "failed": summary.failed,
        "removed_from_source": summary.removed_from_source,
        "deleted_meanwhile": summary.deleted,
        "not_removed": summary.not_removed,
        "files_copied": summary.files_copied,
        "files_kept": summary.files_kept,
        "bytes_copied": summary.bytes_copied,
        "seconds": round(seconds, 2),
    }
    if output == "json":
        click.echo(json.dumps(record, indent=2))
    else:
        rate = size_text(summary.bytes_copied / max(seconds, 1e-6))
        click.echo(
            f"Moved {len(summary.moved)} versions from '{source}' to '{destination}': "
            f"{summary.files_copied} files copied ({size_text(summary.bytes_copied)}, "
            f"{rate}/s), {summary.files_kept} already there"
            + (
                f"; removed {len(summary.removed_from_source)} from '{source}'"
                if delete_source
                else ""
            )
        )
    if summary.deleted and output != "json":
        click.echo(f"Not moved, deleted meanwhile: {', '.join(sorted(summary.deleted))}")
    for label, why in sorted(summary.not_removed.items()):
        click.echo(f"warning: {label} moved, but its copy in '{source}' stayed: {why}", err=True)
    if summary.failed:
        raise HoldallError(
            f"{len(summary.failed)} versions could not be moved and stay in '{source}': "
            + ", ".join(sorted(summary.failed)),
            fix=f"see why above; run holdall artifact-store migrate {source} {destination} "
            "again once fixed: it goes on where it stopped",
        )


@artifact_store.command("usage")
@click.argument("name")
@OUTPUT_OPTION
def usage(name: str, output: str) -> None:
    """Bytes per artifact in a store, from the metadata database (no listing of the
    bucket)."""
    from holdall.cli.progress import size_text

    found = _client().get_artifact_store_usage(name)
    rows = [
        {
            "artifact": u.artifact,
            "versions": u.versions,
            "bytes": u.size if output == "json" else size_text(u.size),
            "deleted_versions": u.deleted,
            "classes": {
                (kind or "own"): size if output == "json" else size_text(size)
                for kind, size in sorted(u.classes.items())
            },
        }
        for u in found
    ]
    print_rows(rows, ["artifact", "versions", "bytes", "classes", "deleted_versions"], output)
    if output != "json":
        total = sum(u.size for u in found)
        versions = sum(u.versions for u in found)
        click.echo(f"{versions} version(s), {size_text(total)} in '{name}'")


@artifact_store.command("lifecycle")
@click.argument("name")
@click.option(
    "--transition",
    "transitions",
    multiple=True,
    metavar="DAYS:CLASS",
    help="Move objects this many days old to this class (repeatable), e.g. 30:STANDARD_IA.",
)
@click.option("--remove", is_flag=True, help="Remove this store's rule (other rules stay).")
@click.option("--dry-run", is_flag=True, help="Show the rule and what would change.")
def lifecycle(name: str, transitions: tuple[str, ...], remove: bool, dry_run: bool) -> None:
    """Write (or show) the bucket's lifecycle rules for this store's folder, keeping every
    rule that is not this store's (S3 and GCS; Azure's are set in its management plane)."""
    import json

    if not transitions and not remove:
        raise click.UsageError("give --transition DAYS:CLASS (repeatable), or --remove")
    before, after = _client().set_artifact_store_lifecycle(name, list(transitions), dry_run)
    if before == after:
        click.echo(f"The lifecycle rules of '{name}' are as asked already: nothing to change")
        return
    what = "replace" if before and after else "add" if after else "remove"
    done = {"replace": "Replaced", "add": "Added", "remove": "Removed"}[what]
    subject = f"the lifecycle rules of '{name}'"
    click.echo(f"Would {what} {subject}" if dry_run else f"{done} {subject}")
    for label, rules in (("before", before), ("after", after)):
        if rules:
            click.echo(f"{label}:\n{json.dumps(rules, indent=2, sort_keys=True, default=str)}")
    click.echo("Rules for other folders or other tools are kept as they are.")


@artifact_store.group("flavor")
def flavor() -> None:
    """Artifact-store flavors: what kinds of storage holdall can use."""


def _registry() -> Any:
    """The installed flavors and those this database registered from code; the installed
    ones alone, with a warning, when the database cannot be read."""
    from holdall.errors import HoldallError
    from holdall.registry import get_registry

    try:
        return _client().registry
    except HoldallError as exc:
        click.echo(f"warning: flavors registered from code are not shown ({exc.message})", err=True)
        return get_registry()


@flavor.command("list")
@OUTPUT_OPTION
def list_flavors(output: str) -> None:
    """List every flavor: installed, registered from code, or not installed."""
    from holdall.registry import warn_problems

    registry = _registry()
    warn_problems(registry)
    integrations = {info.name: info for info in registry.integrations()}
    rows = [
        {
            "name": info.name,
            "integration": info.integration,
            "installed": info.installed,
            "schemes": list(info.schemes),
            "registered from": _registered_from(integrations[info.integration]),
            "error": info.error,
        }
        for info in registry.flavors()
    ]
    print_rows(rows, ["name", "integration", "installed", "schemes"], output)


def _registered_from(integration: Any) -> str | None:
    return str(integration.source) if integration.registered else None


@flavor.command("register")
@click.argument("source", metavar="PACKAGE.MODULE.FLAVOR_CLASS")
def register_flavor(source: str) -> None:
    """Register a flavor from code on the path (no packaged integration), as ZenML's
    `zenml artifact-store flavor register` does; the class is imported and checked now."""
    name = _client().register_flavor(source)
    click.echo(f"Registered flavor '{name}' from {source}")


@flavor.command("delete")
@click.argument("name")
def delete_flavor(name: str) -> None:
    """Forget a flavor registered from code (refused while a store uses it)."""
    _client().delete_flavor(name)
    click.echo(f"Deleted flavor '{name}'")


def setting_type(annotation: Any) -> str:
    """How a setting's type reads: `int | None`, `"Hot" | "Cool" | None`, `secret | None`."""
    import types
    import typing

    from pydantic import SecretStr

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:  # a type with its validators: the type is what reads
        return setting_type(args[0])
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
    flavor_class = _registry().flavor(name)
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
