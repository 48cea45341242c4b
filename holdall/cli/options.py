"""Flavor config given as free `--KEY=VALUE` options."""

from __future__ import annotations

from pathlib import Path

import click

from holdall.errors import ConfigError
from holdall.settings import MAX_SETTING_BYTES

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
        with path.open("rb") as handle:
            content = handle.read(MAX_SETTING_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"cannot read --{key} from '{path}': no such file",
            fix=f"create the file, or give the value itself: --{key}=VALUE",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read --{key} from '{path}': {exc.strerror}") from None
    if len(content) > MAX_SETTING_BYTES:
        raise ConfigError(
            f"--{key} from '{path}': the file is larger than {MAX_SETTING_BYTES // 1024} KiB, "
            "the most a setting takes",
            fix=f"point --{key} at the file the setting expects (a key, a certificate)",
        )
    try:
        return content.decode("utf-8").removesuffix("\n")
    except UnicodeDecodeError:
        raise ConfigError(f"--{key} from '{path}': the file is not UTF-8 text") from None


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
