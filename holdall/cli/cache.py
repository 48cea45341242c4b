"""`holdall cache ...`: this machine's cache of files loaded from cloud stores."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_rows


def _cache() -> Any:
    from holdall.artifacts.cache import Cache
    from holdall.errors import ConfigError

    cache = Cache.from_environment()
    if cache is None:
        raise ConfigError(
            "the cache is turned off (HOLDALL_CACHE_SIZE=0)",
            fix="unset HOLDALL_CACHE_SIZE, or set it to a size: export HOLDALL_CACHE_SIZE=5G",
        )
    return cache


@click.group()
def cache() -> None:
    """The cache of files loaded from cloud stores (HOLDALL_CACHE_DIR, by default the cache
    folder beside holdall's config; HOLDALL_CACHE_SIZE, 5G by default, 0 turns it off)."""


@cache.command("info")
@OUTPUT_OPTION
def info(output: str) -> None:
    """Where the cache is, its limit, and what it holds."""
    from holdall.cli.progress import size_text

    found = _cache()
    usage = found.usage()
    row = {
        "folder": str(found.root),
        "limit": size_text(found.limit),
        "entries": usage.entries,
        "size": size_text(usage.size),
        "filling": usage.filling,
    }
    print_rows([row], list(row), output)


@cache.command("clear")
def clear() -> None:
    """Remove every entry (loads fetch their files from the stores again)."""
    from holdall.cli.progress import size_text

    removed = _cache().clear()
    click.echo(f"Removed {removed.entries} entry(ies), {size_text(removed.size)}")


@cache.command("prune")
@click.option("--max-size", metavar="SIZE", help="Keep at most this much (5G, 500M, bytes).")
def prune(max_size: str | None) -> None:
    """Remove the least recently used entries until the cache fits its limit (or
    --max-size), and what killed loads left half-filled."""
    from holdall.artifacts.cache import parse_size
    from holdall.cli.progress import size_text

    keep = parse_size(max_size, "--max-size") if max_size is not None else None
    removed = _cache().prune(keep)
    click.echo(
        f"Removed {removed.entries} entry(ies), {size_text(removed.size)}; "
        f"{removed.filling} abandoned fill(s)"
    )
