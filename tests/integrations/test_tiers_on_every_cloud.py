"""A version moves to another class or tier in place on GCS (a rewrite) and Azure (Set Blob
Tier), and loads the same; Azure's Archive tier is named and rehydrated. (S3, which moto
models fully: tests/integrations/s3/test_tiers.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from holdall import Client
from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifact_stores.failures import StoreUnavailableError

CLASSES = {"gcs": ("nearline", "NEARLINE"), "azure": ("cool", "Cool")}


@pytest.mark.parametrize("flavor", sorted(CLASSES))
def test_a_version_moves_tier_in_place_and_loads_the_same(
    flavor: str, request: pytest.FixtureRequest
) -> None:
    store: Any = request.getfixturevalue(f"{flavor}_artifact_store")
    client = Client()
    client.activate_stack(client.register_stack("tiered", store.name).name)
    saved = client.save_artifact({"rows": list(range(100))}, "table")
    asked, spelled = CLASSES[flavor]
    moved = client.set_artifact_version_storage_class("table", 1, asked)
    assert moved.storage_class == spelled
    if flavor == "azure":
        for path in saved.files:
            assert store.storage_class_of(f"{saved.uri}/{path}") == spelled
    # fake-gcs-server takes the rewrite and keeps the class it had (it answers STANDARD
    # after a rewrite to NEARLINE, and after a PATCH): only that the rewrite is accepted
    # and leaves the data whole can be seen there.
    assert client.load_artifact("table", 1) == {"rows": list(range(100))}


def test_azure_archive_is_named_and_rehydrated(azure_artifact_store: BaseArtifactStore) -> None:
    store: Any = azure_artifact_store
    client = Client()
    client.activate_stack(client.register_stack("tiered", store.name).name)
    saved = client.save_artifact(b"cold", "ledger")
    client.set_artifact_version_storage_class("ledger", 1, "Archive")
    path = f"{saved.uri}/{next(iter(saved.files))}"
    assert store.storage_class_of(path) == "Archive"
    assert store.restore_state(path) == "archived"
    with pytest.raises(StoreUnavailableError) as caught:  # Azurite refuses the read
        client.load_artifact("ledger", 1)
    assert str(caught.value).startswith("ledger:1 is archived in Archive:")
    assert "holdall artifact version restore ledger 1 --wait" in str(caught.value)
    before = client.restore_artifact_version("ledger", 1, speed="High")
    assert before.archived == 1
    # Azurite rehydrates at once (Azure takes hours, "rehydrate-pending-to-hot" meanwhile).
    assert client.wait_for_restore("ledger", 1, timeout_s=60).readable == 1
    assert store.storage_class_of(path) == "Hot"
    assert client.get_artifact_version("ledger", 1).storage_class == "Hot"  # for good
    assert client.load_artifact("ledger", 1) == b"cold"
