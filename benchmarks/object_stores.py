"""A large artifact through a bucket-backed store, beside the raw fsspec filesystem on the
same server in the same run: what every cloud's benchmark shares (artifacts_s3.py,
artifacts_gcs.py). Ratio = raw time / holdall time; target 0.9 or better."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

MiB = 1024 * 1024


@dataclass(frozen=True)
class Setup:
    label: str  # "S3 (moto)"
    flavor: str
    bucket: str
    path: str  # the store's root, e.g. s3://bucket/artifacts
    config: dict[str, Any]  # the store's settings
    raw: Any  # the same cloud's fsspec filesystem, configured alike
    put_options: dict[str, Any]  # what raw put_file is given (part size, concurrency)


def timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def raw_round_trip(setup: Setup, data: bytes) -> float:
    path = f"{setup.bucket}/raw/blob.bin"

    def put_and_get() -> None:
        setup.raw.pipe_file(path, data)
        setup.raw.cat_file(path)

    elapsed = timed(put_and_get)
    setup.raw.rm(path)
    return elapsed


def raw_file_round_trip(setup: Setup, local: str) -> float:
    """put_file/get_file of a file already on local disk (its writing is not timed)."""
    path = f"{setup.bucket}/raw/file.bin"

    def put_and_get() -> None:
        setup.raw.put_file(local, path, **setup.put_options)
        setup.raw.get_file(path, local + ".back")

    elapsed = timed(put_and_get)
    setup.raw.rm(path)
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


def measure(setup: Setup, runs: int, size: int, folder: str) -> str:
    from holdall import Client

    client = Client()
    client.register_artifact_store("bench", setup.flavor, path=setup.path, config=setup.config)
    client.register_stack("bench", "bench")
    client.activate_stack("bench")
    data = os.urandom(size)
    local = os.path.join(folder, "blob.bin")
    with open(local, "wb") as handle:
        handle.write(data)
    ours, pipe, files = [], [], []
    for run in range(runs):  # alternate which goes first
        if run % 2:
            pipe.append(raw_round_trip(setup, data))
            files.append(raw_file_round_trip(setup, local))
        ours.append(holdall_round_trip(client, data))
        if not run % 2:
            pipe.append(raw_round_trip(setup, data))
            files.append(raw_file_round_trip(setup, local))
    ours_s = statistics.median(ours)
    pipe_s, files_s = statistics.median(pipe), statistics.median(files)
    verdict = "ok" if min(pipe_s, files_s) / ours_s >= 0.9 else "UNDER"
    return (
        f"{size // MiB} MiB through {setup.label}: save+load {ours_s:6.2f}s | raw "
        f"pipe_file+cat_file {pipe_s:6.2f}s (ratio {pipe_s / ours_s:4.2f}) | raw "
        f"put_file+get_file {files_s:6.2f}s (ratio {files_s / ours_s:4.2f}) | {verdict} "
        "target 0.9 against the faster raw"
    )


def main(
    description: str | None,
    server: Callable[[], AbstractContextManager[Any]],
    setup_for: Callable[[Any], Setup],
) -> int:
    """Parse --runs and --mib, start `server`, measure the Setup `setup_for` makes for it,
    print the line: exit 1 when under the target."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as config, server() as running:
        os.environ["HOLDALL_CONFIG_DIR"] = config
        line = measure(setup_for(running), args.runs, args.mib * MiB, config)
    print(line)
    return 0 if "UNDER" not in line else 1
