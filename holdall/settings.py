"""Where holdall keeps its state, from the environment."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_DIR_ENV = "HOLDALL_CONFIG_DIR"
DATABASE_URL_ENV = "HOLDALL_DATABASE_URL"
DEBUG_ENV = "HOLDALL_DEBUG"


def config_dir() -> Path:
    configured = os.environ.get(CONFIG_DIR_ENV)
    if configured:
        return Path(configured).expanduser().absolute()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "holdall"


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{config_dir() / 'holdall.db'}"


def debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0", "false", "no")
