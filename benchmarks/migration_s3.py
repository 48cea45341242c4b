"""Migrating between two S3 servers (two moto processes), beside a raw parallel copy of the
same objects with s3fs, in the same run.

Target (issue 13): the migration, verification included (each file hashed as it is read,
and read back from the destination), at 0.6 or more of the raw copy's throughput (same
number of transfers at once, no verification); and the time per small artifact. Run from the
repository root: `python -m benchmarks.migration_s3 [--mib 1024] [--files 64] [--small 1000]`.

Target (issue 24): 512 MiB in 32 files from a local store to S3 (moto), at 0.8 or more of
raw s3fs uploading the same files one PUT per object. Printed beside it: the same objects
read back whole (what the migration's verification downloads again), so that what reading
back costs is seen apart from the rest.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.fixtures.moto import CREDENTIALS, S3Server, running_moto

MiB = 1024 * 1024
JOBS = 4


def raw_filesystem(server: S3Server) -> Any:
    import s3fs

    return s3fs.S3FileSystem(
        endpoint_url=server.endpoint,
        key=CREDENTIALS["aws_access_key_id"],
        secret=CREDENTIALS["aws_secret_access_key"],
        skip_instance_cache=True,
    )


def raw_copy(source: Any, target: Any, keys: list[str], target_bucket: str, **put: Any) -> float:
    """Each object read whole from one server and written to the other, JOBS at once."""

    folder = "raw-parts" if put else "raw"

    def one(key: str) -> None:
        data = source.cat_file(key)
        target.pipe_file(f"{target_bucket}/{folder}/{key.split('/', 1)[1]}", data, **put)

    start = time.perf_counter()
    with ThreadPoolExecutor(JOBS) as pool:
        list(pool.map(one, keys))
    return time.perf_counter() - start


def store(client: Any, name: str, server: S3Server, bucket: str) -> None:
    config = {"endpoint_url": server.endpoint, **CREDENTIALS}
    client.register_artifact_store(name, "s3", path=f"s3://{bucket}/{name}", config=config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--local-mib", type=int, default=512)
    parser.add_argument("--local-files", type=int, default=32)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as config,
        running_moto() as one,
        running_moto() as other,
    ):
        os.environ["HOLDALL_CONFIG_DIR"] = config
        from holdall import Client

        client = Client()
        source_bucket, target_bucket = one.new_bucket(), other.new_bucket()
        store(client, "old", one, source_bucket)
        store(client, "new", other, target_bucket)
        store(client, "small_old", one, source_bucket)
        store(client, "small_new", other, target_bucket)
        client.register_stack("bench", "old")
        client.activate_stack("bench")
        size = args.mib * MiB // args.files
        for index in range(args.files):
            client.save_artifact(os.urandom(size), f"big{index}")
        client.register_stack("small", "small_old")
        client.activate_stack("small")
        for index in range(args.small):
            client.save_artifact(index, f"small{index}")

        source, target = raw_filesystem(one), raw_filesystem(other)
        keys = [
            path
            for path in source.find(f"{source_bucket}/old/_saved")
            if path.endswith("/data.bin")
        ]
        # As the store uploads (parts of its part size, its concurrency), and as one request
        # per object (s3fs's default below 50 MiB).
        from holdall.artifact_stores.object_store import DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE

        parts = {"chunksize": DEFAULT_PART_SIZE, "max_concurrency": DEFAULT_CONCURRENCY}
        raw_s = raw_copy(source, target, keys, target_bucket, **parts)
        single_s = raw_copy(source, target, keys, target_bucket)
        start = time.perf_counter()
        _, summary = client.migrate_artifact_store("old", "new", jobs=JOBS)
        ours_s = time.perf_counter() - start
        assert len(summary.moved) == args.files and not summary.failed, summary.failed
        start = time.perf_counter()
        _, small = client.migrate_artifact_store("small_old", "small_new", jobs=JOBS)
        small_s = time.perf_counter() - start
        assert len(small.moved) == args.small and not small.failed
    mib = args.mib
    ratio = raw_s / ours_s
    verdict = "ok" if ratio >= 0.6 else "UNDER"
    print(
        f"{mib} MiB in {args.files} files between two moto servers, {JOBS} at once: "
        f"migrate (verified) {ours_s:6.2f}s ({mib / ours_s:5.1f} MiB/s) | raw s3fs copy in "
        f"the store's parts {raw_s:6.2f}s ({mib / raw_s:5.1f} MiB/s, ratio {ratio:4.2f}) | "
        f"raw s3fs copy, one request per object {single_s:6.2f}s (ratio "
        f"{single_s / ours_s:4.2f}) | {verdict} target 0.6 against the first"
    )
    print(
        f"{args.small} small artifacts: {small_s:6.2f}s, {small_s / args.small * 1000:5.1f} ms "
        "per artifact"
    )
    local_verdict = local_to_s3(args.local_mib, args.local_files)
    return 0 if verdict == "ok" and local_verdict == "ok" else 1


LOCAL_TARGET = 0.8


def local_to_s3(mib: int, files: int) -> str:
    """A local store's artifacts migrated to S3, against raw uploads of the same files."""
    with (
        tempfile.TemporaryDirectory() as config,
        tempfile.TemporaryDirectory() as folder,
        running_moto() as server,
    ):
        os.environ["HOLDALL_CONFIG_DIR"] = config
        from holdall import Client

        Client.close_shared()
        client = Client()
        bucket = server.new_bucket()
        client.register_artifact_store("here", "local", path=f"{folder}/store")
        store(client, "there", server, bucket)
        client.register_stack("local", "here")
        client.activate_stack("local")
        size = mib * MiB // files
        for index in range(files):
            client.save_artifact(os.urandom(size), f"file{index}")
        local_files = sorted(str(path) for path in Path(folder, "store").rglob("data.bin"))
        raw = raw_filesystem(server)

        def upload(path: str) -> None:
            raw.put_file(path, f"{bucket}/raw/{Path(path).parent.name}-{hash(path)}")

        start = time.perf_counter()
        with ThreadPoolExecutor(JOBS) as pool:
            list(pool.map(upload, local_files))
        raw_s = time.perf_counter() - start
        start = time.perf_counter()
        _, summary = client.migrate_artifact_store("here", "there", jobs=JOBS)
        ours_s = time.perf_counter() - start
        assert len(summary.moved) == files and not summary.failed, summary.failed
        keys = [key for key in raw.find(f"{bucket}/there") if key.endswith("/data.bin")]
        start = time.perf_counter()
        with ThreadPoolExecutor(JOBS) as pool:
            list(pool.map(raw.cat_file, keys))
        read_back_s = time.perf_counter() - start
        Client.close_shared()
    ratio = raw_s / ours_s
    verdict = "ok" if ratio >= LOCAL_TARGET else "UNDER"
    print(
        f"{mib} MiB in {files} files, local store -> S3 (moto), {JOBS} at once: migrate "
        f"(verified) {ours_s:6.2f}s | raw s3fs, one PUT per object {raw_s:6.2f}s | ratio "
        f"{ratio:4.2f} ({verdict} target {LOCAL_TARGET}) | the same objects read back alone "
        f"{read_back_s:6.2f}s ({read_back_s / ours_s:4.0%} of the migration)"
    )
    return verdict


if __name__ == "__main__":
    sys.exit(main())
