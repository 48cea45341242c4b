"""Whose a store is, on every backend: a store inside another metadata database's store (in
one of its version folders, say) is refused, at registration and at its first write."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import SecretStr

from holdall import Client
from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifact_stores.filesystem import FilesystemArtifactStore
from holdall.artifact_stores.ownership import MARKER, StoreOwnedError


def _settings(store: BaseArtifactStore) -> dict[str, Any]:
    """The store's settings as a user would give them again, for a store elsewhere."""
    values = store.config.model_dump(exclude={"path"}, exclude_none=True)
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()}


def _owned_by_another(store: BaseArtifactStore) -> None:
    with store.open(MARKER, "wb") as handle:
        handle.write(json.dumps({"database": "another-database"}).encode())


def test_a_store_inside_another_databases_store_is_refused(
    store: BaseArtifactStore, flavor: str
) -> None:
    if not isinstance(store, FilesystemArtifactStore):
        # A store over another client (a database file, say) has no folders around it.
        assert list(store.read_above(MARKER)) == []
        return
    client = Client()
    later = client.register_artifact_store(
        "later", flavor, path=f"{store.path}/model/2", config=_settings(store)
    )
    _owned_by_another(store)
    inside = re.escape(f"is inside {store.path}, a store of another metadata database")
    with pytest.raises(StoreOwnedError, match=inside):
        client.register_artifact_store(
            "inside", flavor, path=f"{store.path}/model/3", config=_settings(store)
        )
    # Registered before the other database wrote there: refused at its first write.
    client.register_stack("later", later.name)
    client.activate_stack("later")
    with pytest.raises(StoreOwnedError, match=inside):
        client.save_artifact({"x": 1}, "never")
    assert not client.artifact_store(later).exists(MARKER)
