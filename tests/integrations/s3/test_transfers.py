"""The object-store machinery on S3 against moto's server: parts, storage classes, parallel
reads, bounded waits, and a network that drops connections (a cutting proxy in front)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holdall import Client
from holdall.artifact_stores.failures import StoreUnavailableError
from holdall.errors import HoldallError
from tests.fixtures.integrations import require
from tests.fixtures.moto import CREDENTIALS, S3Server, iam_user, running_moto
from tests.fixtures.proxy import CuttingProxy, proxy_to
from tests.integrations.s3.test_s3_store import s3_stack

MiB = 1024 * 1024
holdall_s3 = require("holdall_s3")


def _port(server: S3Server) -> int:
    return int(server.endpoint.rsplit(":", 1)[1])


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[CuttingProxy]:
    with proxy_to(_port(s3_server)) as running:
        yield running


def _objects(server: S3Server, bucket: str) -> list[str]:
    listed = server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return [o["Key"] for o in listed if not o["Key"].endswith(".holdall-store.json")]


def _uploads(server: S3Server, bucket: str) -> list[Any]:
    return list(server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_a_storage_class_is_applied_to_every_object(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, storage_class="STANDARD_IA")
    version = client.save_artifact(b"cold data", "cold")
    key = version.uri.removeprefix(f"s3://{bucket}/") + "/data.bin"
    assert s3_server.client().head_object(Bucket=bucket, Key=key)["StorageClass"] == "STANDARD_IA"
    assert client.load_artifact("cold") == b"cold data"


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_an_archive_class_keeps_the_store_marker_readable_and_names_the_restore(
    s3_server: S3Server, storage_class: str
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, storage_class=storage_class)
    version = client.save_artifact(b"kept for years", "archived")
    s3 = s3_server.client()
    marker = s3.head_object(Bucket=bucket, Key="zenml-artifacts/.holdall-store.json")
    assert marker.get("StorageClass", "STANDARD") == "STANDARD"  # read back by every process
    key = version.uri.removeprefix(f"s3://{bucket}/") + "/data.bin"
    assert s3.head_object(Bucket=bucket, Key=key)["StorageClass"] == storage_class
    # Another process, which reads the marker first, saves as well.
    again = holdall_process_python(
        "from holdall import Client; print(Client().save_artifact(b'more', 'archived').version)"
    )
    assert again.returncode == 0 and again.stdout.strip() == "2", again.stderr
    with pytest.raises(HoldallError) as caught:
        Client().load_artifact("archived", version=1)
    message = str(caught.value)
    assert f"in the {storage_class} storage class" in message, message
    assert f"{key} of artifact store 's3_store' is in the {storage_class}" in message, message
    assert "holdall artifact version restore archived 1 --wait" in message, message


def holdall_process_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_an_upload_that_needs_more_parts_than_the_service_takes_grows_its_parts() -> None:
    from holdall_s3.flavor import S3Config
    from holdall_s3.store import S3ArtifactStore

    # An S3-compatible service that takes 1 KiB parts, and at most 100 of them: S3's own
    # 10,000 would take ten thousand requests to reach, for the same growth of the parts.
    class SmallParts(S3Config):
        MIN_PART_SIZE = 1024
        PART_LIMIT = 100

    with running_moto({"S3_UPLOAD_PART_MIN_SIZE": "1024"}) as server:
        bucket = server.new_bucket()
        config = SmallParts(
            path=f"s3://{bucket}/parts",
            endpoint_url=server.endpoint,
            part_size=1024,
            max_concurrency=8,
            **CREDENTIALS,
        )
        store = S3ArtifactStore(config, name="small-parts")
        payload = os.urandom(101 * 1024)  # 101 parts of the configured size
        assert store.part_size_for(len(payload)) == 1035  # 101 KiB in 100 parts, rounded up
        with store.open("many-parts.bin", "wb") as handle:
            handle.write(payload)
        head = server.client().head_object(Bucket=bucket, Key="parts/many-parts.bin")
        parts = int(head["ETag"].strip('"').rsplit("-", 1)[1])
        assert 90 < parts <= 100
        with store.open("many-parts.bin", "rb") as handle:
            assert handle.read() == payload


SAVE_AND_SAY = """
    import sys
    from holdall import Client
    version = Client().save_artifact(bytes(range(256)) * (64 * 4096), "parallel")
    print(version.version)
"""

LOAD_AND_SAY = """
    from holdall import Client
    data = Client().load_artifact("parallel")
    print(len(data))
"""


def _run(tmp_path: Path, source: str) -> str:
    script = tmp_path / "step.py"
    script.write_text(textwrap.dedent(source))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_large_load_reads_over_several_connections_at_once(
    s3_server: S3Server, proxy: CuttingProxy, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    s3_stack(s3_server, bucket, endpoint_url=proxy.endpoint)
    assert _run(tmp_path, SAVE_AND_SAY) == "1"  # 64 MiB, in a process that is gone now
    proxy.reset_peak()
    assert _run(tmp_path, LOAD_AND_SAY) == str(64 * MiB)
    assert proxy.peak_connections >= 4  # the default max_concurrency, all at once


def test_connections_cut_mid_upload_and_mid_download_are_retried(
    s3_server: S3Server, proxy: CuttingProxy
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, endpoint_url=proxy.endpoint, part_size=str(5 * MiB))
    payload = os.urandom(24 * MiB)
    proxy.cut_after, proxy.cuts = 2 * MiB, 2
    version = client.save_artifact(payload, "cut")
    assert proxy.cut_count == 2  # both cut, both tried again
    key = version.uri.removeprefix(f"s3://{bucket}/") + "/data.bin"
    assert s3_server.client().head_object(Bucket=bucket, Key=key)["ContentLength"] == len(payload)
    assert _uploads(s3_server, bucket) == []

    Client.close_shared()
    proxy.cuts = 2
    assert Client().load_artifact("cut") == payload  # verified against its checksum
    assert proxy.cut_count == 4


def test_a_network_that_keeps_cutting_fails_clearly_and_leaves_nothing(
    s3_server: S3Server, proxy: CuttingProxy
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(
        s3_server, bucket, endpoint_url=proxy.endpoint, part_size=str(5 * MiB), retries="1"
    )
    client.save_artifact(b"small", "fine")  # the store works: the marker, one small object
    proxy.cut_after, proxy.cuts = 1 * MiB, -1
    with pytest.raises(StoreUnavailableError) as caught:
        client.save_artifact(os.urandom(24 * MiB), "doomed")
    message = str(caught.value)
    assert f"bucket '{bucket}' of artifact store 's3_store'" in message, message
    assert "check --endpoint_url, --region and the network" in message
    assert [k for k in _objects(s3_server, bucket) if "doomed" in k] == []
    assert _uploads(s3_server, bucket) == []  # the multipart upload was aborted
    with pytest.raises(Exception, match="no artifact called 'doomed'"):
        client.get_artifact_version("doomed")


def test_a_bucket_deleted_between_operations_is_named(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    client.save_artifact(b"first", "gone")
    s3 = s3_server.client()
    for key in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]:
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(StoreUnavailableError, match=f"bucket '{bucket}' of artifact store"):
        client.save_artifact(b"second", "gone")


def _limited_user(server: S3Server, bucket: str, prefix: str) -> dict[str, str]:
    """An IAM user of moto's whose credentials reach `prefix` of `bucket` and nothing else.

    moto checks actions and resources but no policy conditions, so the limit is on the
    objects (AWS would also put an s3:prefix condition on ListBucket). What matters here:
    these credentials may not HeadBucket, which a probe by head_bucket needs.
    """
    return iam_user(
        server,
        "team-a",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                ],
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*",
            },
        ],
    )


def test_credentials_limited_to_a_prefix_pass_the_access_probe() -> None:
    import boto3
    from botocore.exceptions import ClientError

    # The first four requests (the setup below) go unchecked; every later one is checked.
    with running_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "4"}) as server:
        bucket = server.new_bucket()
        limited = _limited_user(server, bucket, "team-a")
        s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", **limited)
        with pytest.raises(ClientError, match="403"):
            s3.head_bucket(Bucket=bucket)  # the probe these credentials would fail
        client = Client()
        settings = {"endpoint_url": server.endpoint, **limited}
        for team in ("team_a", "team_b"):
            path = f"s3://{bucket}/{team.replace('_', '-')}"
            client.register_artifact_store(team, "s3", path=path, config=settings)
        client.register_stack("team_a", "team_a")
        client.activate_stack("team_a")
        assert client.load_artifact(client.save_artifact({"a": 1}, "mine").name) == {"a": 1}
        client.register_stack("team_b", "team_b")
        client.activate_stack("team_b")
        with pytest.raises(StoreUnavailableError, match="refused the credentials of artifact"):
            client.save_artifact({"b": 1}, "theirs")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("NoSuchBucket", "bucket 'bkt' of artifact store 's' does not exist"),
        ("AccessDenied", "S3 refused the credentials of artifact store 's' for bucket 'bkt'"),
        ("InvalidAccessKeyId", "S3 refused the credentials of artifact store 's'"),
        ("ExpiredToken", "the credentials of artifact store 's' expired"),
        ("NoSuchKey", None),  # a missing file is a missing file
    ],
)
def test_what_each_s3_error_means(code: str, words: str | None) -> None:
    # botocore's own exception, as s3fs raises it from the service's answer (wrapped in the
    # OSError s3fs makes of it): the classification reads the innermost.
    from botocore.exceptions import ClientError
    from holdall_s3.flavor import S3Config
    from holdall_s3.store import S3ArtifactStore

    store = S3ArtifactStore(S3Config(path="s3://bkt/p"), name="s")
    answer = ClientError({"Error": {"Code": code, "Message": "from S3"}}, "PutObject")
    try:
        raise OSError("s3fs's wrapper") from answer
    except OSError as wrapped:
        error = store.translate(wrapped)
    if words is None:
        assert error is None
    else:
        assert error is not None and words in error.message
        if code == "ExpiredToken":
            assert "use a service connector, which renews them itself" in str(error)
