"""The gcs flavor against fake-gcs-server: what lands where, chunks, storage classes,
versions, and bad input."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from holdall import Client, pipeline
from holdall.artifact_stores.failures import StoreUnavailableError
from holdall.errors import ConfigError
from tests.core.test_cli_artifact_store import error_of
from tests.fixtures.gcs import GCSServer
from tests.fixtures.integrations import require
from tests.fixtures.pipelines import make_numbers, total
from tests.fixtures.proxy import proxy_to
from tests.fixtures.stores import active_stack

require("holdall_gcp")
KiB, MiB = 1024, 1024 * 1024


def gcs_stack(server: GCSServer, bucket: str, **config: Any) -> Client:
    settings = {"endpoint_url": server.endpoint, "token": "anon", **config}
    return active_stack("gcp", "gcs_store", "gcs", f"gs://{bucket}/zenml-artifacts", settings)


@pipeline
def gcs_pipeline():
    total(make_numbers())


def test_a_pipeline_on_a_gcs_stack_lands_at_the_documented_path(gcs_server: GCSServer) -> None:
    bucket = gcs_server.new_bucket()
    gcs_stack(gcs_server, bucket)
    run = gcs_pipeline()
    output = run.steps["make_numbers"].outputs["numbers"]
    assert output.uri == f"gs://{bucket}/zenml-artifacts/gcs_pipeline/make_numbers/numbers/1"
    plain: Any = gcs_server.filesystem()  # plain gcsfs reads what the store wrote
    body = plain.cat_file(
        f"{bucket}/zenml-artifacts/gcs_pipeline/make_numbers/numbers/1/value.json"
    )
    assert json.loads(body) == {"values": [1, 2, 3]}
    assert Client().load_artifact("total") == 6


def test_a_large_artifact_goes_up_as_one_resumable_upload_of_several_chunks(
    gcs_server: GCSServer,
) -> None:
    bucket = gcs_server.new_bucket()
    port = int(gcs_server.endpoint.rsplit(":", 1)[1])
    with proxy_to(port, count_header=b"Content-Range: bytes ") as proxy:
        client = gcs_stack(
            gcs_server, bucket, endpoint_url=proxy.endpoint, part_size=str(MiB), max_concurrency="2"
        )
        client.save_artifact(b"small", "first")  # the store's marker, and one small file
        proxy.headers_seen = 0
        payload = os.urandom(5 * MiB + 77)
        version = client.save_artifact(payload, "big")
        # One upload in chunks of part_size x max_concurrency: 2 MiB, 2 MiB, 1 MiB and 77 bytes.
        assert proxy.headers_seen == 3
        assert client.load_artifact("big") == payload
    plain: Any = gcs_server.filesystem()
    key = version.uri.removeprefix("gs://") + "/data.bin"
    assert plain.cat_file(key) == payload


def test_the_storage_class_is_applied_to_every_object(gcs_server: GCSServer) -> None:
    bucket = gcs_server.new_bucket()
    client = gcs_stack(gcs_server, bucket, storage_class="NEARLINE")
    version = client.save_artifact(b"rarely read", "cold")
    plain: Any = gcs_server.filesystem()
    info = plain.info(version.uri.removeprefix("gs://") + "/data.bin")
    assert info["storageClass"] == "NEARLINE"
    assert client.load_artifact("cold") == b"rarely read"


def test_a_versioned_bucket_keeps_generations(gcs_server: GCSServer) -> None:
    bucket = gcs_server.new_bucket(versioned=True)
    store = gcs_stack(gcs_server, bucket).active_stack.artifact_store
    for content in (b"first", b"second"):
        with store.open("notes/file.txt", "wb") as handle:
            handle.write(content)
    plain: Any = gcs_server.filesystem()
    generations = plain.ls(f"{bucket}/zenml-artifacts/notes", versions=True, detail=True)
    assert len({entry.get("generation") for entry in generations}) == 2
    with store.open("notes/file.txt", "rb") as handle:
        assert handle.read() == b"second"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("gs://Upper-Case/x", "'Upper-Case' is not a valid GCS bucket name"),
        ("gs://my-google-bucket/x", "is not a valid GCS bucket name"),
        ("gs://ab/x", "is not a valid GCS bucket name"),
        ("gs://192.168.1.1/x", "is not a valid GCS bucket name"),
        ("az://container/x", "'az://' paths are not supported; use gcs:// or gs://"),
    ],
)
def test_bucket_names_and_schemes_are_checked_at_register_time(
    cli, path: str, message: str
) -> None:
    assert message in error_of(
        cli("artifact-store", "register", "g", "--flavor=gcs", f"--path={path}")
    )


def test_bad_settings(cli, tmp_path: Any) -> None:
    base = ["artifact-store", "register", "g", "--flavor=gcs", "--path=gs://a-bucket/x"]
    assert "token must be a service account's key JSON" in error_of(cli(*base, "--token=nope"))
    (tmp_path / "key.json").write_text('{"type": "authorized_user"}')
    assert "not a service account key" in error_of(cli(*base, f"--token=@{tmp_path}/key.json"))
    assert "multiple of 262144" in error_of(cli(*base, f"--part_size={MiB + 1}"))
    assert "invalid --storage_class" in error_of(cli(*base, "--storage_class=GLACIER"))
    with pytest.raises(ConfigError, match="unknown config key 'aws_access_key_id'"):
        Client().register_artifact_store(
            "h", "gcs", path="gs://a-bucket/x", config={"aws_access_key_id": "A"}
        )


def test_a_missing_bucket_and_an_unreachable_endpoint_are_named(gcs_server: GCSServer) -> None:
    client = gcs_stack(gcs_server, "no-such-bucket-here")
    with pytest.raises(StoreUnavailableError) as caught:
        client.save_artifact(1, "x")
    assert "bucket 'no-such-bucket-here' of artifact store 'gcs_store' does not exist" in str(
        caught.value
    )
    far = Client()
    far.register_artifact_store(
        "far",
        "gcs",
        path="gs://some-bucket/x",
        config={"endpoint_url": "http://127.0.0.1:1", "retries": "1", "token": "anon"},
    )
    far.register_stack("far", "far")
    far.activate_stack("far")
    with pytest.raises(
        StoreUnavailableError, match="cannot reach bucket 'some-bucket' of artifact"
    ):
        far.save_artifact(1, "x")


def test_gcsfs_never_prints_its_own_tracebacks_beside_holdalls_error(tmp_path: Any) -> None:
    """gcsfs logs each failed request with its traceback; with no handler of the program's,
    Python would print them on stderr above holdall's one or two lines."""
    from tests.conftest import holdall_process

    registered = holdall_process(
        "artifact-store", "register", "far", "--flavor=gcs", "--path=gs://far-bucket/x",
        "--endpoint_url=http://127.0.0.1:1", "--retries=1", "--token=anon",
    )  # fmt: skip
    assert registered.code == 0 and registered.err.count("\n") == 1, registered.err
    assert "warning: could not see who owns gs://far-bucket/x" in registered.err
    local = holdall_process("artifact-store", "register", "here", "-f", "local",
                            f"--path={tmp_path}/here")  # fmt: skip
    assert local.code == 0, local.err
    Client().activate_stack(Client().register_stack("here", "here").name)
    Client().save_artifact({"a": 1}, "n")
    moved = holdall_process("artifact-store", "migrate", "here", "far")
    assert moved.code == 1 and "Traceback" not in moved.err and "gcsfs" not in moved.err
    assert moved.err.startswith("error: cannot reach bucket 'far-bucket' of artifact store")
    assert len(moved.err.strip().splitlines()) <= 2, moved.err


def _request(sent: bytes, method: str) -> tuple[str, Any]:
    """The target and JSON body of the first `method` request in what a client sent."""
    _, separator, rest = sent.partition(f"{method} ".encode())
    assert separator, f"no {method} request was sent"
    headers, _, body = rest.partition(b"\r\n\r\n")
    lines = headers.decode().split("\r\n")
    length = next(
        int(v) for k, _, v in (h.partition(": ") for h in lines) if k.lower() == "content-length"
    )
    return lines[0].split(" ")[0], json.loads(body[:length])


def test_lifecycle_rules_for_the_store_s_folder_are_written_against_what_was_read(
    gcs_server: GCSServer, cli
) -> None:
    """fake-gcs-server takes a bucket's lifecycle and keeps none of it (nor does it give
    any back): what holdall sends is read off the wire, through a proxy."""
    bucket = gcs_server.new_bucket()
    port = int(gcs_server.endpoint.rsplit(":", 1)[1])
    with proxy_to(port, record=True) as proxy:
        client = gcs_stack(gcs_server, bucket, endpoint_url=proxy.endpoint)
        args = ("artifact-store", "lifecycle", "gcs_store", "--transition", "30:nearline",
                "--transition", "365:ARCHIVE")  # fmt: skip
        dry = cli(*args, "--dry-run")
        assert dry.code == 0 and "Would add the lifecycle rules of 'gcs_store'" in dry.out, dry.err
        assert b"PATCH " not in proxy.sent
        added = cli(*args)
        assert added.code == 0 and "Added the lifecycle rules of 'gcs_store'" in added.out
        target, body = _request(bytes(proxy.sent), "PATCH")
    assert target.startswith(f"/storage/v1/b/{bucket}?") and "ifMetagenerationMatch=1" in target
    folder = ["zenml-artifacts/"]
    assert body == {
        "lifecycle": {
            "rule": [
                {
                    "action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
                    "condition": {"age": 30, "matchesPrefix": folder},
                },
                {
                    "action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"},
                    "condition": {"age": 365, "matchesPrefix": folder},
                },
            ]
        }
    }
    # Rules are told apart by their folder (a GCS rule has no id): another's stays theirs.
    store: Any = client.active_stack.artifact_store
    theirs = {
        "action": {"type": "SetStorageClass", "storageClass": "COLDLINE"},
        "condition": {"age": 30, "matchesPrefix": ["logs/"]},
    }
    wider = {**body["lifecycle"]["rule"][0], "condition": {"age": 30}}
    assert [store.is_own_rule(rule) for rule in body["lifecycle"]["rule"]] == [True, True]
    assert not store.is_own_rule(theirs) and not store.is_own_rule(wider)
    wrong = cli("artifact-store", "lifecycle", "gcs_store", "--transition", "30:GLACIER")
    assert wrong.code == 1 and "GCS has no storage class 'GLACIER'" in wrong.err, wrong.err
    client.register_artifact_store(
        "whole_bucket", "gcs", path=f"gs://{bucket}",
        config={"endpoint_url": gcs_server.endpoint, "token": "anon"},
    )  # fmt: skip
    whole = cli("artifact-store", "lifecycle", "whole_bucket", "--transition", "30:NEARLINE")
    assert whole.code == 1 and "is the whole bucket" in whole.err, whole.err
    assert "Traceback" not in whole.err
