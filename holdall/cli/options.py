"""Flavor config given as free `--KEY=VALUE` options."""

from __future__ import annotations

from pathlib import Path

import click

from holdall.errors import ConfigError

# Lets a command accept options it does not declare, to hand them to the flavor's config.
EXTRA_OPTIONS = {"ignore_unknown_options": True, "allow_extra_args": True}


def option_value(key: str, raw: str | None) -> str | None:
    return None if raw is None else _value(key, raw)


def _value(key: str, raw: str) -> str:
    """A value starting with '@' is read from that file (keeps secrets out of shell history)."""
    if not raw.startswith("@"):
        return raw
    path = Path(raw[1:]).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"cannot read --{key} from '{path}': no such file",
            fix=f"create the file, or give the value itself: --{key}=VALUE",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read --{key} from '{path}': {exc.strerror}") from None
    return text.removesuffix("\n")


def parse_config_options(args: list[str]) -> dict[str, str]:
    """{"endpoint_url": "http://..."} from ["--endpoint-url=http://..."] or ["--key", "v"]."""
    values: dict[str, str] = {}
    remaining = list(args)
    while remaining:
        arg = remaining.pop(0)
        if not arg.startswith("--") or arg == "--":
            # Not echoed: a value that lost its --KEY= may be a secret.
            raise click.UsageError(
                "an argument without --KEY= is not a setting (not shown: it may be a secret); "
                "flavor settings look like --KEY=VALUE"
            )
        key, sep, raw = arg[2:].partition("=")
        if not sep:
            if not remaining or remaining[0].startswith("--"):
                raise click.UsageError(f"--{key} needs a value: --{key}=VALUE")
            raw = remaining.pop(0)
        name = key.replace("-", "_")
        if not name.isidentifier():
            raise click.UsageError(f"--{key} is not a valid option name")
        values[name] = _value(key, raw)
    return values
