"""A 256 MiB artifact through the S3 store, against raw s3fs on the same moto server.

Target (issue 4): save and load at 0.9 of raw s3fs put and get or better (ratio = raw time /
holdall time), in the same run against the same server. Run from the repository root:
`python -m benchmarks.artifacts_s3`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from tests.fixtures.moto import CREDENTIALS, S3Server, running_moto

MiB = 1024 * 1024


def timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def raw_round_trip(filesystem: Any, bucket: str, data: bytes) -> float:
    path = f"{bucket}/raw/blob.bin"

    def put_and_get() -> None:
        filesystem.pipe_file(path, data)
        filesystem.cat_file(path)

    elapsed = timed(put_and_get)
    filesystem.rm(path)
    return elapsed


def raw_file_round_trip(filesystem: Any, bucket: str, local: str, part: int) -> float:
    """put_file/get_file of a file already on local disk (its writing is not timed)."""
    path = f"{bucket}/raw/file.bin"

    def put_and_get() -> None:
        filesystem.put_file(local, path, chunksize=part, max_concurrency=filesystem.max_concurrency)
        filesystem.get_file(path, local + ".back")

    elapsed = timed(put_and_get)
    filesystem.rm(path)
    os.unlink(local + ".back")
    return elapsed


def holdall_round_trip(client: Any, data: bytes) -> float:
    saved: list[Any] = []

    def save_and_load() -> None:
        saved.append(client.save_artifact(data, "big"))
        saved[0].load()

    elapsed = timed(save_and_load)
    client.active_stack.artifact_store.rmtree(saved[0].uri)
    return elapsed


def measure(server: S3Server, runs: int, size: int, folder: str) -> str:
    import s3fs

    from holdall import Client
    from holdall.artifact_stores.object_store import DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE

    bucket = server.new_bucket()
    client = Client()
    client.register_artifact_store(
        "bench",
        "s3",
        path=f"s3://{bucket}/artifacts",
        config={"endpoint_url": server.endpoint, **CREDENTIALS},
    )
    client.register_stack("bench", "bench")
    client.activate_stack("bench")
    raw = s3fs.S3FileSystem(
        endpoint_url=server.endpoint,
        key=CREDENTIALS["aws_access_key_id"],
        secret=CREDENTIALS["aws_secret_access_key"],
        skip_instance_cache=True,
        default_block_size=DEFAULT_PART_SIZE,
        max_concurrency=DEFAULT_CONCURRENCY,
    )
    data = os.urandom(size)
    local = os.path.join(folder, "blob.bin")
    with open(local, "wb") as handle:
        handle.write(data)
    ours, pipe, files = [], [], []
    for run in range(runs):  # alternate which goes first
        if run % 2:
            pipe.append(raw_round_trip(raw, bucket, data))
            files.append(raw_file_round_trip(raw, bucket, local, DEFAULT_PART_SIZE))
        ours.append(holdall_round_trip(client, data))
        if not run % 2:
            pipe.append(raw_round_trip(raw, bucket, data))
            files.append(raw_file_round_trip(raw, bucket, local, DEFAULT_PART_SIZE))
    ours_s = statistics.median(ours)
    fastest = min(statistics.median(pipe), statistics.median(files))
    verdict = "ok" if fastest / ours_s >= 0.9 else "UNDER"
    return (
        f"{size // MiB} MiB through S3 (moto): save+load {ours_s:6.2f}s | raw s3fs "
        f"pipe_file+cat_file {statistics.median(pipe):6.2f}s (ratio "
        f"{statistics.median(pipe) / ours_s:4.2f}) | raw put_file+get_file "
        f"{statistics.median(files):6.2f}s (ratio {statistics.median(files) / ours_s:4.2f}) "
        f"| {verdict} target 0.9 against the faster raw"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as config, running_moto() as server:
        os.environ["HOLDALL_CONFIG_DIR"] = config
        line = measure(server, args.runs, args.mib * MiB, config)
    print(line)
    return 0 if "UNDER" not in line else 1


if __name__ == "__main__":
    sys.exit(main())
