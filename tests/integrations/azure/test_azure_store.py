"""The azure flavor against Azurite over HTTP (connection strings): what lands where, blocks,
tiers, a network that drops connections, and bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from holdall import Client, pipeline
from holdall.artifact_stores.failures import StoreUnavailableError
from holdall.errors import HoldallError
from tests.core.test_cli_artifact_store import error_of
from tests.fixtures.azurite import ACCOUNT_KEY, Azurite
from tests.fixtures.integrations import require
from tests.fixtures.pipelines import make_numbers, total
from tests.fixtures.proxy import proxy_to
from tests.fixtures.stores import active_stack

require("holdall_azure")
KiB, MiB = 1024, 1024 * 1024


def azure_stack(azurite: Azurite, container: str, port: int | None = None, **config: Any) -> Client:
    """An azure store on a stack of its own, reaching Azurite (through `port`, a proxy's,
    when given) by a connection string: over HTTP, only a connection string's BlobEndpoint
    can name it."""
    connection = azurite.connection_string()
    if port:
        connection = connection.replace(azurite.host, azurite.through(port))
    settings = {"connection_string": connection, **config}
    return active_stack(
        "azure", "azure_store", "azure", f"az://{container}/zenml-artifacts", settings
    )


@pipeline
def azure_pipeline():
    total(make_numbers())


def test_a_pipeline_on_an_azure_stack_lands_at_the_documented_path(azurite: Azurite) -> None:
    container = azurite.new_container()
    azure_stack(azurite, container)
    run = azure_pipeline()
    output = run.steps["make_numbers"].outputs["numbers"]
    assert output.uri == f"az://{container}/zenml-artifacts/azure_pipeline/make_numbers/numbers/1"
    # Plain azure-storage-blob reads what the store wrote.
    body = azurite.read(
        container, "zenml-artifacts/azure_pipeline/make_numbers/numbers/1/value.json"
    )
    assert json.loads(body) == {"values": [1, 2, 3]}
    assert Client().load_artifact("total") == 6


def test_a_large_artifact_goes_up_as_blocks_committed_together(azurite: Azurite) -> None:
    container = azurite.new_container()
    with proxy_to(azurite.port) as proxy:
        client = azure_stack(
            azurite, container, proxy.port, part_size=str(MiB), max_concurrency="3"
        )
        client.save_artifact(b"small", "first")
        proxy.reset_peak()
        payload = os.urandom(5 * MiB + 77)
        version = client.save_artifact(payload, "big")
        assert proxy.peak_connections >= 3  # blocks staged at once
        assert client.load_artifact("big") == payload
    blob = version.uri.removeprefix(f"az://{container}/") + "/data.bin"
    committed, uncommitted = (
        azurite.service().get_blob_client(container, blob).get_block_list("all")
    )
    assert [block.size for block in committed] == [MiB] * 5 + [77]
    assert not uncommitted
    assert azurite.read(container, blob) == payload


def test_a_failed_upload_leaves_no_blob(azurite: Azurite) -> None:
    container = azurite.new_container()
    with proxy_to(azurite.port) as proxy:
        client = azure_stack(azurite, container, proxy.port, part_size=str(MiB), retries="1")
        client.save_artifact(b"small", "first")
        proxy.cut_after, proxy.cuts = 512 * KiB, -1  # every connection, once it carried this
        with pytest.raises(HoldallError):
            client.save_artifact(os.urandom(4 * MiB), "big")
    names = [b.name for b in azurite.service().get_container_client(container).list_blobs()]
    assert not [name for name in names if "/big/" in name], names


def test_cut_connections_are_tried_again_and_the_blob_arrives_whole(azurite: Azurite) -> None:
    container = azurite.new_container()
    with proxy_to(azurite.port) as proxy:
        client = azure_stack(azurite, container, proxy.port, part_size=str(MiB))
        client.save_artifact(b"small", "first")
        proxy.cut_after, proxy.cuts = 512 * KiB, 2
        payload = os.urandom(4 * MiB)
        client.save_artifact(payload, "big")
        assert proxy.cut_count == 2
        assert client.load_artifact("big") == payload


def test_the_access_tier_is_applied_to_every_blob(azurite: Azurite) -> None:
    container = azurite.new_container()
    client = azure_stack(azurite, container, access_tier="Cool", part_size=str(MiB))
    version = client.save_artifact(os.urandom(3 * MiB), "cool")  # blocks, then one commit
    client.save_artifact(b"small", "also-cool")
    service = azurite.service().get_container_client(container)
    tiers = {b.name: b.blob_tier for b in service.list_blobs()}
    # The store's marker, which every process reads back, stays in the account's default.
    assert tiers.pop("zenml-artifacts/.holdall-store.json") == "Hot"
    assert set(tiers.values()) == {"Cool"}, tiers
    assert version.uri.removeprefix(f"az://{container}/") + "/data.bin" in tiers


def test_an_archived_artifact_says_it_must_be_rehydrated(azurite: Azurite) -> None:
    container = azurite.new_container()
    client = azure_stack(azurite, container, access_tier="Archive")
    client.save_artifact(b"kept for years", "archived")
    client.save_artifact(b"second", "archived")  # the store's marker stays readable
    with pytest.raises(HoldallError) as caught:
        client.load_artifact("archived")
    assert "is in the Archive tier" in caught.value.message
    assert "holdall artifact version restore archived 2 --wait" in str(caught.value.fix)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("az://Upper/x", "'Upper' is not a valid Azure container name"),
        ("az://ab/x", "'ab' is not a valid Azure container name"),
        ("az://two--hyphens/x", "is not a valid Azure container name"),
        ("az://-leading/x", "is not a valid Azure container name"),
        ("az://container@Not_An_Account/x", "is not a valid Azure storage account name"),
        ("s3://bucket/x", "'s3://' paths are not supported; use abfs:// or az://"),
    ],
)
def test_names_and_schemes_are_checked_at_register_time(cli, path: str, message: str) -> None:
    assert message in error_of(
        cli("artifact-store", "register", "a", "--flavor=azure", f"--path={path}")
    )


def test_bad_settings(cli) -> None:
    base = ["artifact-store", "register", "a", "--flavor=azure", "--path=az://a-container/x"]
    secret = "AccountName=acct;AccountKey=not-base64!"
    for bad, message in [
        ("--connection_string=nonsense", "connection_string is malformed"),
        (f"--connection_string={secret}", "AccountKey is not an account key"),
        ("--connection_string=AccountName=acct", "holds no credential"),
        ("--account_key=not base64!", "account_key is not an account key"),
        ("--sas_token=sv=2024&sp=r", "sas_token is not a SAS token"),
        ("--access_tier=Glacier", "invalid --access_tier"),
        ("--account_host=https://host", "account_host is a host, no scheme"),
        (f"--part_size={4001 * MiB}", "part_size must be between"),
    ]:
        result = cli(*base, bad)
        assert message in error_of(result), bad
        assert "not-base64" not in result.err + result.out  # a secret is never echoed
    both = error_of(cli(*base, f"--account_key={ACCOUNT_KEY}", "--sas_token=sv=1&sig=x"))
    assert "give one credential, not --account_key and --sas_token" in both
    path_and_name = error_of(
        cli(
            "artifact-store", "register", "a", "--flavor=azure",
            "--path=az://a-container@firstacct/x", "--account_name=otheracct",
        )
    )  # fmt: skip
    assert "names storage account 'firstacct' and --account_name 'otheracct'" in path_and_name


def test_a_wrong_key_a_missing_container_and_an_unreachable_endpoint_are_named(
    azurite: Azurite,
) -> None:
    container = azurite.new_container()
    wrong = Client()
    wrong_key = ACCOUNT_KEY[:-8] + "AAAAAAA="
    wrong.register_artifact_store(
        "wrong",
        "azure",
        path=f"az://{container}/x",
        config={"connection_string": azurite.connection_string(key=wrong_key)},
    )
    wrong.register_stack("wrong", "wrong")
    wrong.activate_stack("wrong")
    with pytest.raises(StoreUnavailableError) as caught:
        wrong.save_artifact(1, "x")
    assert "Azure Blob Storage" in caught.value.message
    assert "refused the credentials of artifact store 'wrong'" in caught.value.message
    assert wrong_key not in str(caught.value) + str(caught.value.fix)

    missing = azure_stack(azurite, "no-such-container")
    with pytest.raises(StoreUnavailableError) as caught:
        missing.save_artifact(1, "x")
    assert "container 'no-such-container' of artifact store 'azure_store' does not exist" in (
        caught.value.message
    )

    far = Client()
    far.register_artifact_store(
        "far",
        "azure",
        path="az://some-container/x",
        config={
            "connection_string": azurite.connection_string().replace(str(azurite.port), "1"),
            "retries": "1",
        },
    )
    far.register_stack("far", "far")
    far.activate_stack("far")
    with pytest.raises(StoreUnavailableError, match="cannot reach container 'some-container'"):
        far.save_artifact(1, "x")


def test_a_path_may_name_the_account(azurite: Azurite) -> None:
    container = azurite.new_container()
    client = azure_stack(azurite, container)
    store = client.active_stack.artifact_store
    assert store.resolve(f"az://{container}@devstoreaccount1/zenml-artifacts/a") == (
        f"{container}/zenml-artifacts/a"
    )
    abfs = f"abfs://{container}@devstoreaccount1.dfs.core.windows.net/zenml-artifacts/b.txt"
    with store.open(abfs, "wb") as handle:
        handle.write(b"through abfs://")
    assert azurite.read(container, "zenml-artifacts/b.txt") == b"through abfs://"


def test_the_flavor_describes_its_choices_and_secrets(cli) -> None:
    described = cli("artifact-store", "flavor", "describe", "azure")
    assert described.code == 0
    assert 'access_tier: "Hot" | "Cool" | "Cold" | "Archive" | None (default: None)' in (
        described.out
    )
    assert "account_key: secret | None (default: None)" in described.out
    assert "schemes       abfs://, az://" in described.out


def test_a_listing_is_never_served_from_a_stale_cache(azurite: Azurite) -> None:
    container = azurite.new_container()
    client = azure_stack(azurite, container)
    model = client.stores.get("azure_store")
    reader, writer = client.artifact_store(model), client.artifact_store(model)
    with writer.open("shared/a.txt", "wb") as handle:
        handle.write(b"a")
    assert reader.listdir("shared") == ["a.txt"]
    with writer.open("shared/b.txt", "wb") as handle:  # another store object, as another process
        handle.write(b"b")
    assert reader.listdir("shared") == ["a.txt", "b.txt"]
    assert reader.exists("shared/b.txt")


KILLED_UPLOAD = """
import os
from holdall import save_artifact
save_artifact(os.urandom(24 * 1024 * 1024), "big")
"""


def test_a_save_killed_mid_upload_leaves_nothing_after_gc(azurite: Azurite) -> None:
    from tests.conftest import holdall_process

    container = azurite.new_container()
    service = azurite.service().get_container_client(container)
    with proxy_to(azurite.port, uplink=4 * MiB) as slow:  # six seconds of upload
        client = azure_stack(azurite, container, slow.port, part_size=str(MiB), max_concurrency="1")
        client.save_artifact(b"kept", "small")
        saver = subprocess.Popen([sys.executable, "-c", KILLED_UPLOAD])
        deadline = time.monotonic() + 60

        def staged() -> list[str]:
            listed = service.list_blobs(
                name_starts_with="zenml-artifacts/_saved/big/", include=["uncommittedblobs"]
            )
            return [b.name for b in listed]

        while not staged():
            assert saver.poll() is None and time.monotonic() < deadline, "no upload was seen"
            time.sleep(0.05)
        os.kill(saver.pid, signal.SIGKILL)
        saver.wait()
        blob = staged()[0]
        committed, uncommitted = service.get_blob_client(blob).get_block_list("all")
        assert not committed and uncommitted  # staged, never committed: no blob to read
        assert not list(service.list_blobs(name_starts_with="zenml-artifacts/_saved/big/"))

        result = holdall_process("artifact", "gc")
        assert result.code == 0, result.err
        assert "removed big:1" in result.out
        assert not staged()  # the staged blocks are gone too
        assert client.load_artifact("small") == b"kept"
        payload = os.urandom(2 * MiB + 1)
        client.save_artifact(payload, "big")
        assert client.load_artifact("big") == payload
