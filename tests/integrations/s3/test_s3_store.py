"""The s3 flavor against moto's S3 server: what lands where, encryption, addressing, errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from holdall_s3.flavor import S3Config
from holdall_s3.store import S3ArtifactStore

from holdall import Client, pipeline
from holdall.errors import ConfigError
from tests.conftest import holdall_process
from tests.core.test_cli_artifact_store import error_of
from tests.fixtures.moto import CREDENTIALS, S3Server
from tests.fixtures.pipelines import make_numbers, total
from tests.fixtures.stores import active_stack

MiB = 1024 * 1024


def s3_stack(server: S3Server, bucket: str, **config: Any) -> Client:
    settings = {"endpoint_url": server.endpoint, **CREDENTIALS, **config}
    return active_stack("aws", "s3_store", "s3", f"s3://{bucket}/zenml-artifacts", settings)


@pipeline
def s3_pipeline():
    total(make_numbers())


def test_a_pipeline_on_an_s3_stack_lands_at_the_documented_path(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    run = s3_pipeline()
    assert run.status == "completed"
    assert client.load_artifact("total") == 6
    version = client.get_artifact_version("numbers")
    assert version.uri == f"s3://{bucket}/zenml-artifacts/s3_pipeline/make_numbers/numbers/1"
    body = (
        s3_server.client()
        .get_object(
            Bucket=bucket, Key="zenml-artifacts/s3_pipeline/make_numbers/numbers/1/value.json"
        )["Body"]
        .read()
    )
    assert json.loads(body) == {"values": [1, 2, 3]}


def test_an_artifact_larger_than_a_part_goes_up_in_parts(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, multipart_chunksize=str(5 * MiB))
    payload = bytes(range(256)) * (12 * MiB // 256 + 7)  # 12 MiB and a bit: three parts
    version = client.save_artifact(payload, "big")
    key = version.uri.removeprefix(f"s3://{bucket}/") + "/data.bin"
    head = s3_server.client().head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(payload)
    assert head["ETag"].strip('"').endswith("-3")  # the ETag of a three-part upload
    assert client.load_artifact("big") == payload


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"sse": "AES256"}, {"ServerSideEncryption": "AES256"}),
        (
            {"sse": "aws:kms", "sse_kms_key_id": "alias/holdall"},
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/holdall"},
        ),
    ],
    ids=["sse-s3", "sse-kms"],
)
def test_server_side_encryption(s3_server: S3Server, settings: dict, expected: dict) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, **settings)
    version = client.save_artifact(b"secret weights", "encrypted")
    key = version.uri.removeprefix(f"s3://{bucket}/") + "/data.bin"
    head = s3_server.client().head_object(Bucket=bucket, Key=key)
    for header, value in expected.items():
        assert value in head[header]
    assert client.load_artifact("encrypted") == b"secret weights"


def test_path_style_addressing(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, addressing_style="path")
    store = client.active_stack.artifact_store
    assert isinstance(store, S3ArtifactStore)
    assert store.filesystem.s3.meta.config.s3["addressing_style"] == "path"
    client.save_artifact([1, 2], "listed")
    assert client.load_artifact("listed") == [1, 2]


def test_a_versioned_bucket(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket(versioned=True)
    client = s3_stack(s3_server, bucket)
    client.save_artifact({"a": 1}, "config")
    client.save_artifact({"a": 2}, "config")
    assert [v.load() for v in client.list_artifact_versions("config")] == [{"a": 1}, {"a": 2}]
    store = client.active_stack.artifact_store
    store.rename("_saved/config/1", "_saved/moved/1")
    assert store.exists("_saved/moved/1/value.json") and not store.exists("_saved/config/1")


def test_a_missing_bucket_is_named_at_first_use(
    s3_server: S3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    client = s3_stack(s3_server, "no-such-bucket-here")  # registered all the same
    warning = capsys.readouterr().err
    assert "warning: could not see who owns s3://no-such-bucket-here/zenml-artifacts" in warning
    assert "does not exist" in warning and "its first write will check" in warning
    with pytest.raises(Exception) as caught:
        client.save_artifact(1, "x")
    message = str(caught.value)
    assert "bucket 'no-such-bucket-here' of artifact store 's3_store' does not exist" in message
    assert "holdall artifact-store update s3_store --path=s3://BUCKET/PREFIX" in message
    assert client.list_artifacts() == []


def test_wrong_credentials_are_named(s3_server_checking_credentials: S3Server, cli) -> None:
    server = s3_server_checking_credentials
    client = Client()
    client.register_artifact_store(
        "locked",
        "s3",
        path="s3://some-bucket/x",
        config={
            "endpoint_url": server.endpoint,
            "aws_access_key_id": "AKIAWRONG",
            "aws_secret_access_key": "wrong-secret",
        },
    )
    client.register_stack("locked", "locked")
    client.activate_stack("locked")
    with pytest.raises(Exception) as caught:
        client.save_artifact(1, "x")
    message = str(caught.value)
    assert "refused the credentials of artifact store 'locked'" in message
    assert "holdall artifact-store update locked --aws_access_key_id=KEY" in message
    assert "wrong-secret" not in message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("s3://Bad_Bucket/x", "'Bad_Bucket' is not a valid S3 bucket name"),
        ("s3://ab/x", "'ab' is not a valid S3 bucket name"),
        ("s3://192.168.1.1/x", "not a valid S3 bucket name"),
        ("s3://amzn-s3-demo-bucket/x", "AWS keeps names that start with"),
        ("s3://my-access-point.mrap/x", "AWS keeps names that start with"),
        ("s3://zone-bucket--x-s3/x", "AWS keeps names that start with"),
        ("s3://tables--table-s3/x", "AWS keeps names that start with"),
        ("s3://xn--bucket/x", "AWS keeps names that start with"),
        ("gs://bucket/x", "'gs://' paths are not supported; use s3://"),
    ],
)
def test_bucket_names_are_checked_at_register_time(cli, path: str, message: str) -> None:
    err = error_of(cli("artifact-store", "register", "b", "--flavor=s3", f"--path={path}"))
    assert message in err


def test_settings_are_checked(cli) -> None:
    base = ["artifact-store", "register", "b", "--flavor=s3", "--path=s3://bucket/x"]
    assert "invalid --sse" in error_of(cli(*base, "--sse=DES"))
    assert "invalid --addressing_style" in error_of(cli(*base, "--addressing-style=sideways"))
    assert "give aws_access_key_id and aws_secret_access_key together" in error_of(
        cli(*base, "--aws_access_key_id=AKIA")
    )
    assert "sse_kms_key_id needs --sse=aws:kms" in error_of(cli(*base, "--sse_kms_key_id=k"))
    assert "client_kwargs must be JSON" in error_of(cli(*base, "--client_kwargs={not json"))
    assert "flavor 's3' needs --path" in error_of(
        cli("artifact-store", "register", "b", "--flavor=s3")
    )
    # multipart_chunksize, 0.1's name for part_size, still taken
    for key in ("part_size", "multipart_chunksize"):
        with pytest.raises(ConfigError, match="part_size must be between 5242880 and"):
            Client().register_artifact_store("b", "s3", path="s3://bucket/x", config={key: 1024})
    assert "invalid --read_timeout" in error_of(cli(*base, "--read_timeout=0"))
    assert "spool_dir must be an absolute path" in error_of(cli(*base, "--spool_dir=tmp"))
    assert "invalid --storage_class" in error_of(cli(*base, "--storage_class=COLD"))


def test_secrets_are_encrypted_at_rest_and_masked(cli, config_dir: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("very-secret-value\n")
    result = cli(
        "artifact-store",
        "register",
        "s",
        "--flavor=s3",
        "--path=s3://bucket/x",
        "--aws_access_key_id=AKIAEXAMPLE",
        f"--aws_secret_access_key=@{secret_file}",
        "--aws-session-token=token-value-123",
    )
    assert result.code == 0, result.err
    described = cli("artifact-store", "describe", "s", "-o", "json").out
    config = json.loads(described)["config"]
    assert config["aws_secret_access_key"] == "[HIDDEN]"
    assert config["aws_session_token"] == "[HIDDEN]"
    assert "very-secret-value" not in described and "token-value-123" not in described
    raw = (config_dir / "holdall.db").read_bytes()
    assert b"very-secret-value" not in raw and b"token-value-123" not in raw
    with sqlite3.connect(config_dir / "holdall.db") as db:
        (stored,) = db.execute("SELECT config FROM stack_components WHERE name = 's'").fetchone()
    assert "__secret__" in stored
    config = Client().artifact_store(Client().get_artifact_store("s")).config
    assert isinstance(config, S3Config) and config.aws_secret_access_key is not None
    assert config.aws_secret_access_key.get_secret_value() == "very-secret-value"


def test_an_unreachable_endpoint_is_named(cli) -> None:
    client = Client()
    client.register_artifact_store(
        "far",
        "s3",
        path="s3://some-bucket/x",
        config={
            "endpoint_url": "http://127.0.0.1:1",
            **CREDENTIALS,
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
        },
    )
    client.register_stack("far", "far")
    client.activate_stack("far")
    with pytest.raises(Exception) as caught:
        client.save_artifact(1, "x")
    message = str(caught.value)
    assert (
        "cannot reach bucket 'some-bucket' of artifact store 'far' at http://127.0.0.1:1" in message
    )
    assert "check --endpoint_url" in message


def test_an_s3_store_holding_versions_keeps_its_endpoint_and_bucket(
    s3_server: S3Server, cli
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    client.save_artifact({"kept": True}, "thing")
    for setting in (
        f"--path=s3://{s3_server.new_bucket()}/zenml-artifacts",
        f"--path=s3://{bucket}/y",
    ):
        err = error_of(cli("artifact-store", "update", "s3_store", setting))
        assert "holds 1 artifact version(s); changing --path would leave them" in err
    err = error_of(cli("artifact-store", "update", "s3_store", "--endpoint_url=http://other:9"))
    assert "changing --endpoint_url would leave them unreachable" in err
    # Credentials and tuning do not move the data.
    rotated = cli(
        "artifact-store",
        "update",
        "s3_store",
        "--aws_secret_access_key=rotated-secret",
        "--max_concurrency=4",
    )
    assert rotated.code == 0, rotated.err
    assert Client().load_artifact("thing") == {"kept": True}


def test_gc_skips_a_store_it_cannot_reach_and_cleans_the_rest(s3_server: S3Server) -> None:
    from holdall.artifacts.versions import Producer, reserve
    from holdall.metadata.tables import ArtifactVersionRow
    from tests.conftest import holdall_process

    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    s3_store = client.active_stack.artifact_store
    local_store = client.artifact_store(client.get_artifact_store("default"))
    dead = "gone-host:1:1:1:1"  # a process on another machine, long ago
    rows = [
        reserve(client.database, "in-s3", s3_store, Producer()),
        reserve(client.database, "in-local", local_store, Producer()),
    ]
    with local_store.open(f"{rows[1].uri}/part.bin", "wb") as handle:
        handle.write(b"leftover")
    with client.database.session() as session:
        for row in rows:
            session.get_one(ArtifactVersionRow, row.id).reserved_by = dead
    s3_server.client().delete_bucket(Bucket=bucket)

    result = holdall_process("artifact", "gc", "--older-than", "0")
    assert result.code == 1
    assert f"removed in-local:1: {rows[1].uri}" in result.out
    assert "1 interrupted save(s) and 0 interrupted run(s) cleaned up" in result.out
    assert f"skipped in-s3:1: bucket '{bucket}'" in result.err and "does not exist" in result.err
    assert "1 interrupted save(s) could not be cleaned up" in result.err
    assert "Traceback" not in result.err
    assert not local_store.exists(rows[1].uri)


def test_two_databases_on_one_bucket_never_mix(s3_server: S3Server, tmp_path: Path) -> None:
    from tests.core.test_store_ownership import as_other_database
    from tests.fixtures.moto import CREDENTIALS

    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    client.save_artifact({"mine": True}, "model")
    settings = [f"endpoint_url={s3_server.endpoint}", *(f"{k}={v}" for k, v in CREDENTIALS.items())]
    theirs = as_other_database(tmp_path, "s3", f"s3://{bucket}/zenml-artifacts", *settings)
    assert theirs.returncode == 1
    assert "belongs to another metadata database" in theirs.stderr
    assert Client().load_artifact("model") == {"mine": True}
    # Refused when it is registered, too: the bucket is reachable, its marker read.
    registering = holdall_process(
        "artifact-store",
        "register",
        "theirs",
        "--flavor=s3",
        f"--path=s3://{bucket}/zenml-artifacts",
        *(f"--{setting}" for setting in settings),
        env={"HOLDALL_CONFIG_DIR": str(tmp_path / "teammate")},
    )
    assert registering.code == 1
    assert "artifact store 'theirs' at s3://" in registering.err
    assert "belongs to another metadata database" in registering.err
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == [
        "zenml-artifacts/.holdall-store.json",
        "zenml-artifacts/_saved/model/1/value.json",
    ]


KILLED_UPLOAD = """
import os
from holdall import save_artifact
save_artifact(os.urandom(48 * 1024 * 1024), "big")
"""


def test_a_save_killed_mid_upload_leaves_nothing_after_gc(
    s3_server: S3Server, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from holdall.processes import SPOOL_PREFIX
    from tests.conftest import holdall_process

    bucket = s3_server.new_bucket()
    # Small parts, one at a time: the upload takes long enough to be caught in the middle.
    # Spooled in a folder of the store's own (big artifacts need a big disk).
    spool = tmp_path / "spool"
    spool.mkdir()
    s3_stack(s3_server, bucket, part_size=5 * MiB, max_concurrency=1, spool_dir=str(spool))
    saver = subprocess.Popen([sys.executable, "-c", KILLED_UPLOAD])
    s3 = s3_server.client()
    deadline = time.monotonic() + 60
    while not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
        assert saver.poll() is None and time.monotonic() < deadline, "no upload was seen"
        time.sleep(0.01)
    os.kill(saver.pid, signal.SIGKILL)
    saver.wait()
    left = set(spool.glob(SPOOL_PREFIX + "*"))
    assert len(left) == 1 and next(iter(left)).stat().st_size == 48 * MiB
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")

    result = holdall_process("artifact", "gc")
    assert result.code == 0, result.err
    assert "removed big:1" in result.out and f"removed {next(iter(left))}" in result.out
    assert not any(path.exists() for path in left)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="zenml-artifacts/_saved")
