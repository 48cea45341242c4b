"""Settings refused by their model, in one line: the key and what to do, never the value
(it may be a secret). For a flavor's settings and a connector auth method's alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holdall.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import ValidationError


def describe_invalid(
    subject: str, fields: list[str], describe: str, exc: ValidationError
) -> ConfigError:
    """One line for the first thing pydantic refused in the settings of `subject` (a flavor,
    an auth method): the key, and what to do. Never a value: it may be a secret."""
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    valid = ", ".join(f"--{k}" for k in fields)
    if error["type"] == "extra_forbidden":
        return ConfigError(
            f"unknown config key '{key}' for {subject}; valid keys: {valid}", fix=describe
        )
    if error["type"] == "missing":
        return ConfigError(f"{subject} needs --{key}", fix=describe)
    message = str(error["msg"]).removeprefix("Value error, ")
    what = f"--{key}" if key else "settings"
    return ConfigError(f"invalid {what} for {subject}: {message}")
