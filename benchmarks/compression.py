"""What compression buys through S3 (moto): 256 MiB saved and loaded with and without it, side
by side in one run.

Targets (issue 24), medians of ROUNDS alternating rounds:
- a compressible array (float32 with repeated values: 100 distinct ones), zstd against none:
  at most 0.5 of the time (ratio = zstd time / none time); the sizes' ratio is printed;
- random bytes, auto against none: at least 0.95 (ratio = none time / auto time): data that
  does not shrink pays almost nothing.
Run from the repository root: `python -m benchmarks.compression`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from typing import Any

MiB = 1024 * 1024
SIZE = 256 * MiB
ROUNDS = 5
COMPRESSIBLE_TARGET = 0.5
INCOMPRESSIBLE_TARGET = 0.95


def _round_trip(client: Any, value: Any, name: str, compression: str) -> tuple[float, int]:
    start = time.perf_counter()
    version = client.save_artifact(value, name, compression=compression)
    client.load_artifact(name, version.version)
    elapsed = time.perf_counter() - start
    client.delete_artifact_version(name, version.version)  # the bucket stays small
    return elapsed, version.size


def _compare(client: Any, value: Any, name: str, modes: tuple[str, str]) -> dict[str, Any]:
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    sizes: dict[str, int] = {}
    for round_number in range(ROUNDS):
        order = modes if round_number % 2 == 0 else modes[::-1]
        for mode in order:
            elapsed, size = _round_trip(client, value, f"{name}-{mode}", mode)
            times[mode].append(elapsed)
            sizes[mode] = size
    return {mode: (statistics.median(times[mode]), sizes[mode]) for mode in modes}


def main() -> int:
    import numpy

    from holdall import Client
    from tests.fixtures.moto import CREDENTIALS, running_moto

    values = numpy.random.default_rng(0).integers(0, 100, SIZE // 4).astype("float32")
    noise = os.urandom(SIZE)
    with running_moto() as server, tempfile.TemporaryDirectory() as config_dir:
        os.environ["HOLDALL_CONFIG_DIR"] = config_dir
        client = Client()
        bucket = server.new_bucket()
        config = {"endpoint_url": server.endpoint, **CREDENTIALS}
        client.register_artifact_store("s3", "s3", path=f"s3://{bucket}/bench", config=config)
        client.activate_stack(client.register_stack("s3", "s3").name)
        packed = _compare(client, values, "array", ("none", "zstd"))
        auto = _compare(client, noise, "noise", ("none", "auto"))
    (none_s, none_size), (zstd_s, zstd_size) = packed["none"], packed["zstd"]
    packed_ratio = zstd_s / none_s
    print(
        f"256 MiB float32 (100 distinct values), S3 (moto): none {none_s:.2f} s, zstd "
        f"{zstd_s:.2f} s, time ratio {packed_ratio:.2f} (target <= {COMPRESSIBLE_TARGET}); "
        f"stored {zstd_size / none_size:.3f} of the size"
    )
    (plain_s, _), (auto_s, auto_size) = auto["none"], auto["auto"]
    auto_ratio = plain_s / auto_s
    print(
        f"256 MiB random bytes, S3 (moto): none {plain_s:.2f} s, auto {auto_s:.2f} s, ratio "
        f"{auto_ratio:.2f} (target >= {INCOMPRESSIBLE_TARGET}); stored {auto_size} bytes"
    )
    print(f"medians of {ROUNDS} alternating rounds, save + load each")
    met = packed_ratio <= COMPRESSIBLE_TARGET and auto_ratio >= INCOMPRESSIBLE_TARGET
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
