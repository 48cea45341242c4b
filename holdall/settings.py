"""Where holdall keeps its state, and the switches it reads from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from holdall.errors import ConfigError

CONFIG_DIR_ENV = "HOLDALL_CONFIG_DIR"
DATABASE_URL_ENV = "HOLDALL_DATABASE_URL"
DEBUG_ENV = "HOLDALL_DEBUG"
AUTO_UPGRADE_ENV = "HOLDALL_DB_AUTO_UPGRADE"
# How long before they expire a connector's credentials are renewed (botocore's own advisory
# margin by default); lower it and renewals come sooner, more often.
RENEWAL_MARGIN_ENV = "HOLDALL_CREDENTIAL_RENEWAL_MARGIN"
RENEWAL_MARGIN_S = 900.0

# The largest value one setting takes (`--KEY=@file` included): settings live in the database
# and are read with every store, so a stray large file must not land there.
MAX_SETTING_BYTES = 1024 * 1024

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def flag(name: str, default: bool) -> bool:
    """A boolean switch, read one way everywhere: 1/true/yes/on or 0/false/no/off."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(
        f"{name}={os.environ[name]!r} is neither on nor off",
        fix=f"export {name}=1 (or 0; yes/no, true/false and on/off work too)",
    )


def seconds(name: str, default: float) -> float:
    """A duration in seconds from the environment, read one way everywhere."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ConfigError(
            f"{name}={os.environ[name]!r} is not a number of seconds",
            fix=f"export {name}={default:g}",
        )
    return value


def renewal_margin() -> float:
    return seconds(RENEWAL_MARGIN_ENV, RENEWAL_MARGIN_S)


def config_dir() -> Path:
    configured = os.environ.get(CONFIG_DIR_ENV)
    if configured:
        return Path(configured).expanduser().absolute()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "holdall"


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{config_dir() / 'holdall.db'}"


def debug() -> bool:
    # Asked while an error is being reported: a bad value must not raise a second error.
    try:
        return flag(DEBUG_ENV, default=False)
    except ConfigError:
        return False
