"""`holdall integration ...`: what can plug in, and what is installed."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows
from holdall.cli.prompt import confirm


def _registry() -> Any:
    from holdall.registry import get_registry, warn_problems

    registry = get_registry()
    warn_problems(registry)
    return registry


@click.group()
def integration() -> None:
    """Integrations: the local store and one installable distribution per cloud."""


@integration.command("list")
@OUTPUT_OPTION
def list_integrations(output: str) -> None:
    """List every integration holdall knows, installed or not."""
    rows = [
        {
            "name": info.name,
            "installed": info.installed,
            "distribution": info.distribution,
            "version": info.version,
            "flavors": list(info.flavors),
            "summary": info.summary,
            "error": info.error,
        }
        for info in _registry().integrations()
    ]
    print_rows(rows, ["name", "installed", "distribution", "version", "flavors", "summary"], output)


def _entry(name: str) -> Any:
    from holdall.catalogue import load_catalogue
    from holdall.errors import NotFoundError

    entries = load_catalogue().entries
    if name not in entries:
        raise NotFoundError(
            f"no integration called '{name}' in the catalogue; known: {', '.join(sorted(entries))}",
            fix="holdall integration list",
        )
    return entries[name]


def _installer(use_uv: bool, sources: Any = None) -> Any:
    from holdall.installer import Installer, Sources

    return Installer(use_uv=use_uv, sources=sources or Sources())


@integration.command("install")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Print the command and what it would install.")
@click.option("--uv", "use_uv", is_flag=True, help="Install with uv instead of pip.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--index-url", metavar="URL", help="The package index to install from (pip's own by default)."
)
@click.option(
    "--extra-index-url", "extra_index_urls", metavar="URL", multiple=True, help="Another index."
)
@click.option(
    "--find-links", metavar="DIR", multiple=True, help="A folder of wheels (`make wheels`)."
)
@click.option("--no-index", is_flag=True, help="Look in no index: only --find-links.")
@click.option(
    "--allow-upgrades",
    is_flag=True,
    help="Let the install change versions already installed here (kept by default).",
)
def install(
    name: str,
    dry_run: bool,
    use_uv: bool,
    yes: bool,
    index_url: str | None,
    extra_index_urls: tuple[str, ...],
    find_links: tuple[str, ...],
    no_index: bool,
    allow_upgrades: bool,
) -> None:
    """Install an integration and what it requires, nothing else, into this environment,
    from the package index pip is configured with; what is installed already stays as it
    is."""
    from holdall.installer import InstallerFailed, InstallError, Sources, keeping_installed

    entry = _entry(name)
    if entry.in_core:
        click.echo(f"'{name}' ships with the core: nothing to install")
        return
    sources = Sources(index_url, extra_index_urls, find_links, no_index)
    installer = _installer(use_uv, sources)
    target = installer.target(entry)
    with keeping_installed(installer, entry, everything=not allow_upgrades) as installer:
        try:
            _install(installer, entry, target, dry_run, yes)
        except InstallerFailed as exc:
            if allow_upgrades:
                raise
            raise InstallError(
                f"{exc.message} (keeping every version installed here as it is)",
                fix=f"if it needs newer versions of what is installed: holdall integration "
                f"install {name} --allow-upgrades, then `pip check` says what that changed",
            ) from None
    if not dry_run:
        click.echo(f"Installed integration '{name}' ({target.what})")


def _install(installer: Any, entry: Any, target: Any, dry_run: bool, yes: bool) -> None:
    import sys

    from holdall.installer import run, shown_command

    command = installer.install_command(target)
    if dry_run:
        click.echo(f"would install {target.what}")
        click.echo(shown_command(command))
        click.echo("  (--constraint: the versions installed here that the install keeps)")
        for requirement in installer.would_install(target):
            click.echo(f"  would install {requirement}")
        return
    requirements = ", ".join(entry.requirements)
    if not yes:
        confirm(f"Install {target.what} ({requirements}) into {sys.prefix}?")
    run(installer, command)


@integration.command("uninstall")
@click.argument("name")
@click.option("--uv", "use_uv", is_flag=True, help="Uninstall with uv instead of pip.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def uninstall(name: str, use_uv: bool, yes: bool) -> None:
    """Remove an integration's distribution (its requirements stay)."""
    from holdall.installer import run

    entry = _entry(name)
    if entry.in_core:
        from holdall.errors import InUseError

        raise InUseError(
            f"'{name}' ships with the core and cannot be uninstalled on its own",
            fix="nothing to do: it adds no dependency; `pip uninstall holdall` removes holdall "
            "whole",
        )
    users = _registered_users(entry)
    if users:
        click.echo(
            f"warning: {users} use integration '{name}': they cannot be used until it is "
            f"installed again (holdall integration install {name})",
            err=True,
        )
    if not yes:
        confirm(f"Uninstall {entry.distribution}{' anyway' if users else ''}?")
    uninstaller = _installer(use_uv)
    run(uninstaller, uninstaller.uninstall_command(entry))
    click.echo(f"Uninstalled integration '{name}' ({entry.distribution})")


def _registered_users(entry: Any) -> str:
    """The registered stores and connectors that need `entry`'s integration, in words."""
    from holdall.client import Client

    client = Client()
    flavors = {spec.name for spec in entry.flavors}
    types = {spec.type for spec in entry.connectors}
    stores = [m.name for m in client.list_artifact_stores() if m.flavor in flavors]
    connectors = [m.name for m in client.list_service_connectors() if m.type in types]
    named = [
        f"{kind} {', '.join(repr(n) for n in names)}"
        for kind, names in (("artifact store(s)", stores), ("service connector(s)", connectors))
        if names
    ]
    return " and ".join(named)


@integration.command("requirements")
@click.argument("name")
def requirements(name: str) -> None:
    """Print what an integration requires besides holdall, one per line."""
    for requirement in _entry(name).requirements:
        click.echo(requirement)


@integration.command("export-requirements")
@click.argument("names", nargs=-1, metavar="[NAME...]")
@click.option("--output-file", type=click.Path(dir_okay=False), help="Write them to a file.")
def export_requirements(names: tuple[str, ...], output_file: str | None) -> None:
    """Print (or write) the requirements of some integrations, or of all of them."""
    from holdall.catalogue import load_catalogue

    chosen = [_entry(n) for n in names] or list(load_catalogue().entries.values())
    lines = sorted({r for entry in chosen for r in entry.requirements})
    text = "".join(f"{line}\n" for line in lines)
    if output_file:
        from pathlib import Path

        Path(output_file).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(lines)} requirement(s) to {output_file}")
    else:
        click.echo(text, nl=False)


@integration.command("describe")
@click.argument("name")
@OUTPUT_OPTION
def describe_integration(name: str, output: str) -> None:
    """Show one integration: its distribution, flavors, requirements and how to install it."""
    info = _registry().integration(name)
    record: dict[str, Any] = {
        "name": info.name,
        "installed": info.installed,
        "distribution": info.distribution,
        "version": info.version,
        "summary": info.summary,
        "flavors": list(info.flavors),
        "requirements": list(info.requirements),
        "source": info.source,
        "entry_point": info.entry_point,
    }
    if info.error:
        record["error"] = info.error
    if not info.installed:
        record["install"] = info.install_command
    print_record(record, output)
