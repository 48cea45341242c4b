"""`holdall.save_artifact` and `holdall.load_artifact`, as ZenML's top-level functions.

Both go through the process's one Client for the metadata database in use (`Client()` is
shared, as in ZenML), so calling them in a loop costs no new connection or stack check.
"""

from __future__ import annotations

from typing import Any

from holdall.artifacts.views import ArtifactVersion
from holdall.client import Client


def save_artifact(
    data: Any, name: str, version: int | str | None = None, **kwargs: Any
) -> ArtifactVersion:
    """Save `data` as a version of `name` in the active stack's artifact store."""
    return Client().save_artifact(data, name, version, **kwargs)


def load_artifact(name_or_id: str, version: int | str | None = None) -> Any:
    """Load a version of an artifact (the latest unless `version` is given)."""
    return Client().load_artifact(name_or_id, version)
