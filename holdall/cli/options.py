"""Flavor config given as free `--KEY=VALUE` options."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from holdall.errors import ConfigError
from holdall.settings import MAX_SETTING_BYTES

# Lets a command accept options it does not declare, to hand them to the flavor's config.
EXTRA_OPTIONS = {"ignore_unknown_options": True, "allow_extra_args": True}


def option_value(key: str, raw: str | None) -> str | None:
    return None if raw is None else _value(key, raw)


def _value(key: str, raw: str) -> str:
    """A value starting with '@' is read from that file, '@-' from standard input (a hidden
    prompt on a terminal): either keeps a secret out of shell history."""
    if not raw.startswith("@"):
        return raw
    if raw == "@-":
        return _nonempty(key, "standard input", _from_stdin(key))
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
    return _nonempty(key, f"'{path}'", _text(key, f"'{path}': the file", content))


def _from_stdin(key: str) -> str:
    if sys.stdin.isatty():
        return str(click.prompt(f"--{key}", hide_input=True, default="", show_default=False))
    return _text(key, "standard input: it", sys.stdin.buffer.read(MAX_SETTING_BYTES + 1))


def _text(key: str, source: str, content: bytes) -> str:
    if len(content) > MAX_SETTING_BYTES:
        raise ConfigError(
            f"--{key} from {source} is larger than {MAX_SETTING_BYTES // 1024} KiB, "
            "the most a setting takes",
            fix=f"point --{key} at the file the setting expects (a key, a certificate)",
        )
    try:
        return content.decode("utf-8").removesuffix("\n")
    except UnicodeDecodeError:
        raise ConfigError(f"--{key} from {source} is not UTF-8 text") from None


def _nonempty(key: str, source: str, value: str) -> str:
    # An empty file is a mistake (a key not yet written, a pipe that sent nothing), never a
    # setting: taken as it is, it would fail later and far from here.
    if not value.strip():
        raise ConfigError(
            f"--{key} from {source} is empty",
            fix=f"put the value there, or give it: --{key}=VALUE (or --{key}=@- to type it)",
        )
    return value


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
