"""Migration between stores of different clouds, against the real emulators: local -> S3,
S3 -> GCS, GCS -> Azure, Azure -> local, with service connectors on some ends."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from holdall import Client, pipeline
from tests.fixtures.integrations import require
from tests.fixtures.moto import CREDENTIALS
from tests.fixtures.pipelines import make_numbers, total

MiB = 1024 * 1024


@pipeline
def cloud_pipeline():
    total(make_numbers())


def _end(kind: str, name: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Register store `name` of `kind`, on its emulator; its path."""
    client = Client()
    if kind == "local":
        path = str(tmp_path / name)
        client.register_artifact_store(name, "local", path=path)
        return path
    if kind == "s3":
        require("holdall_s3")
        server = request.getfixturevalue("s3_server")
        path = f"s3://{server.new_bucket()}/{name}"
        # Through an aws connector: the store holds no credentials of its own.
        client.create_service_connector(
            f"{name}_aws",
            "aws",
            auth_method="secret-key",
            configuration={**CREDENTIALS, "endpoint_url": server.endpoint, "region": "us-east-1"},
        )
        client.register_artifact_store(name, "s3", path=path, connector=f"{name}_aws")
        return path
    if kind == "gcs":
        require("holdall_gcp")
        server = request.getfixturevalue("gcs_server")
        path = f"gs://{server.new_bucket()}/{name}"
        client.register_artifact_store(
            name, "gcs", path=path, config={"endpoint_url": server.endpoint, "token": "anon"}
        )
        return path
    require("holdall_azure")
    azurite = request.getfixturevalue("azurite")
    path = f"az://{azurite.new_container()}/{name}"
    client.create_service_connector(
        f"{name}_azure",
        "azure",
        auth_method="connection-string",
        configuration={"connection_string": azurite.connection_string()},
    )
    client.register_artifact_store(name, "azure", path=path, connector=f"{name}_azure")
    return path


@pytest.mark.parametrize(
    ("source", "destination"),
    [("local", "s3"), ("s3", "gcs"), ("gcs", "azure"), ("azure", "local")],
)
def test_versions_move_across_clouds(
    cli, request: pytest.FixtureRequest, tmp_path: Path, source: str, destination: str
) -> None:
    old_path = _end(source, "old", request, tmp_path)
    new_path = _end(destination, "new", request, tmp_path)
    client = Client()
    client.register_stack("current", "old")
    client.activate_stack("current")
    cloud_pipeline()
    big = os.urandom(9 * MiB + 5)  # several parts, blocks and ranged reads on either end
    client.save_artifact(big, "big")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.bin").write_bytes(os.urandom(1000))
    client.save_artifact(folder, "tree")  # a version of several files

    dry = json.loads(cli("artifact-store", "migrate", "old", "new", "--dry-run", "-o", "json").out)
    assert dry["versions"] == 4 and dry["files"] == 6  # the tree: its two files and its kind
    assert {move["to"] for move in dry["moves"]} >= {f"{new_path}/_saved/big/1"}

    moved = cli("artifact-store", "migrate", "old", "new", "--jobs", "3", "-o", "json")
    assert moved.code == 0, moved.err
    summary = json.loads(moved.out)
    assert sorted(summary["moved"]) == ["big:1", "numbers:1", "total:1", "tree:1"]
    assert summary["files_copied"] == 6 and not summary["failed"]
    assert "moving 4 versions: 6 files" in moved.err  # plain progress lines, not a terminal

    for name in ("numbers", "total", "big", "tree"):
        assert client.get_artifact_version(name).uri.startswith(new_path + "/"), name
    assert client.load_artifact("big") == big
    assert client.load_artifact("total") == 6
    loaded = client.load_artifact("tree")
    assert (Path(loaded) / "sub" / "b.bin").read_bytes() == (folder / "sub" / "b.bin").read_bytes()
    described = cli("artifact", "describe", "numbers")
    assert f"{new_path}/cloud_pipeline/make_numbers/numbers/1" in described.out

    # A pipeline on the migrated stack writes to the new store and reads the moved inputs.
    assert cli("stack", "copy", "current", "migrated").code == 0
    assert cli("stack", "update", "migrated", "-a", "new").code == 0
    client.activate_stack("migrated")
    run = cloud_pipeline()
    assert run.steps["total"].outputs["total"].uri.startswith(new_path + "/")
    assert client.get_artifact_version("big").uri.startswith(new_path)
    # The source copies stay (no --delete-source); a second run has nothing to do.
    again = json.loads(cli("artifact-store", "migrate", "old", "new", "-o", "json").out)
    assert again["moved"] == [] and again["files_copied"] == 0
    assert old_path != new_path


def test_a_corrupted_object_in_a_bucket_stays_where_it_was(
    cli, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    require("holdall_s3")
    server: Any = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    client = Client()
    client.register_artifact_store(
        "old", "s3", path=f"s3://{bucket}/old",
        config={**CREDENTIALS, "endpoint_url": server.endpoint},
    )  # fmt: skip
    client.register_artifact_store("new", "local", path=str(tmp_path / "new"))
    client.register_stack("current", "old")
    client.activate_stack("current")
    client.save_artifact(b"fine", "good")
    bad = client.save_artifact(b"original bytes", "bad")
    key = bad.uri.removeprefix(f"s3://{bucket}/") + "/data.bin"
    server.client().put_object(Bucket=bucket, Key=key, Body=b"damaged bytes!")
    result = cli("artifact-store", "migrate", "old", "new", "-o", "json")
    assert result.code == 1
    summary = json.loads(result.out)
    assert summary["moved"] == ["good:1"]
    assert f"{bad.uri}/data.bin is not what was saved" in summary["failed"]["bad:1"]
    assert client.get_artifact_version("bad").uri == bad.uri


def test_a_destination_bucket_deleted_midway_moves_no_record(
    cli, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    require("holdall_s3")
    server: Any = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    client = Client()
    client.register_artifact_store("old", "local", path=str(tmp_path / "old"))
    client.register_artifact_store(
        "new", "s3", path=f"s3://{bucket}/new",
        config={**CREDENTIALS, "endpoint_url": server.endpoint, "retries": "0"},
    )  # fmt: skip
    client.register_stack("current", "old")
    client.activate_stack("current")
    for i in range(3):
        client.save_artifact(i, f"n{i}")
    first = cli("artifact-store", "migrate", "old", "new", "--artifact", "n0", "-o", "json")
    assert json.loads(first.out)["moved"] == ["n0:1"]
    s3 = server.client()
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=listed["Key"])
    s3.delete_bucket(Bucket=bucket)
    result = cli("artifact-store", "migrate", "old", "new", "-o", "json")
    assert result.code == 1 and "Traceback" not in result.err
    assert f"bucket '{bucket}' of artifact store 'new' does not exist" in result.err
    for i in (1, 2):
        assert client.get_artifact_version(f"n{i}").uri.startswith(str(tmp_path / "old"))
        assert client.load_artifact(f"n{i}") == i


def test_a_destination_that_cannot_be_reached_moves_nothing(
    cli, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    require("holdall_s3")
    client = Client()
    client.register_artifact_store("old", "local", path=str(tmp_path / "old"))
    client.register_artifact_store(
        "far", "s3", path="s3://far-bucket/new",
        config={**CREDENTIALS, "endpoint_url": "http://127.0.0.1:1", "retries": "0"},
    )  # fmt: skip
    client.register_stack("current", "old")
    client.activate_stack("current")
    client.save_artifact(1, "n")
    result = cli("artifact-store", "migrate", "old", "far")
    assert result.code == 1 and "Traceback" not in result.err
    assert "cannot reach bucket 'far-bucket' of artifact store 'far'" in result.err
    assert client.get_artifact_version("n").uri.startswith(str(tmp_path / "old"))
    # Nothing was left held: the next try is not refused as busy.
    assert "is busy" not in cli("artifact-store", "migrate", "old", "far").err


def test_gc_aborts_the_multipart_upload_a_killed_migration_left_and_a_rerun_finishes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import time

    from tests.conftest import holdall_process
    from tests.core.test_migration import SLOW_MIGRATION

    _end("local", "old", request, tmp_path)
    new_path = _end("s3", "new", request, tmp_path)
    bucket = new_path.removeprefix("s3://").split("/", 1)[0]
    s3 = request.getfixturevalue("s3_server").client()
    client = Client()
    client.register_stack("current", "old")
    client.activate_stack("current")
    big = os.urandom(96 * MiB)
    client.save_artifact(big, "big")
    migrating = subprocess.Popen(
        [sys.executable, "-c", SLOW_MIGRATION], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # Killed on what it left: an upload in parts begun in the bucket, not finished.
    deadline = time.monotonic() + 120
    while not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
        assert migrating.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    migrating.kill()
    migrating.communicate()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    # Never run again: gc clears what it left (a bucket keeps, and bills, an open upload).
    dry = holdall_process("artifact", "gc", "--dry-run")
    assert "would clear what the migration from 'old' to 'new' left half copied" in dry.out
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    collected = holdall_process("artifact", "gc")
    assert collected.code == 0, collected.err
    cleared = "cleared what the migration from 'old' to 'new' left half copied: big:1  [its"
    assert cleared in collected.out
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert client.get_artifact_version("big").uri.startswith(str(tmp_path / "old"))
    again = holdall_process("artifact", "gc")
    assert "migration" not in again.out  # its lock went with what it left
    rerun = holdall_process("artifact-store", "migrate", "old", "new")
    assert rerun.code == 0, rerun.err
    assert client.get_artifact_version("big").uri.startswith(new_path + "/")
    assert Client().load_artifact("big") == big
