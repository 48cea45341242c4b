"""`holdall integration ...`: what can plug in, and what is installed."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows


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
