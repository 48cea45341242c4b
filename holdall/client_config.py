"""This machine's own settings (the active stack), kept in <config dir>/config.yaml.

The metadata database may be shared by a team; which stack is active is each user's own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from holdall.errors import StateError
from holdall.settings import CONFIG_DIR_ENV, config_dir

# What config.yaml may hold, and the type of each.
SETTINGS: dict[str, type] = {"active_stack_id": str}


def config_file() -> Path:
    return config_dir() / "config.yaml"


def _damaged(path: Path, why: str) -> StateError:
    return StateError(f"{path} is damaged ({why})", fix=f"rm {path} && holdall stack set default")


# The file as last parsed, keyed by what changes when it is replaced (saves read it often).
_parsed: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def read_client_config() -> dict[str, Any]:
    path = config_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from exc
    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _parsed.get(path)
    if cached is not None and cached[0] == key:
        return dict(cached[1])
    document = _parse(path)
    _parsed[path] = (key, document)
    return dict(document)


def _parse(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise _damaged(path, "not text") from None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None
    if document is None and text.strip() == "":
        return {}
    if not isinstance(document, dict):
        raise _damaged(path, "not a YAML mapping")
    for key, value in document.items():
        if key in SETTINGS and not isinstance(value, SETTINGS[key]):
            raise _damaged(path, f"{key} is not a {SETTINGS[key].__name__}")
    return document


def write_client_config(values: dict[str, Any]) -> None:
    """Replace config.yaml atomically: a reader sees the old file or the new, never half."""
    import yaml

    path = config_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".config.", dir=path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                yaml.safe_dump(values, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StateError(
            f"cannot write {path}: {exc.strerror}",
            fix=f"make {path.parent} writable, or set {CONFIG_DIR_ENV} to a writable folder",
        ) from exc
