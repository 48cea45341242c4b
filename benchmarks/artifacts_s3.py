"""A 256 MiB artifact through the S3 store, against raw s3fs on the same moto server.

Target (issue 4): save and load at 0.9 of raw s3fs put and get or better (ratio = raw time /
holdall time), in the same run against the same server. Run from the repository root:
`python -m benchmarks.artifacts_s3`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from benchmarks.object_stores import MiB, Setup, measure
from tests.fixtures.moto import CREDENTIALS, running_moto


def main() -> int:
    import s3fs

    from holdall.artifact_stores.object_store import DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as config, running_moto() as server:
        os.environ["HOLDALL_CONFIG_DIR"] = config
        bucket = server.new_bucket()
        raw = s3fs.S3FileSystem(
            endpoint_url=server.endpoint,
            key=CREDENTIALS["aws_access_key_id"],
            secret=CREDENTIALS["aws_secret_access_key"],
            skip_instance_cache=True,
            default_block_size=DEFAULT_PART_SIZE,
            max_concurrency=DEFAULT_CONCURRENCY,
        )
        setup = Setup(
            label="S3 (moto)",
            flavor="s3",
            bucket=bucket,
            path=f"s3://{bucket}/artifacts",
            config={"endpoint_url": server.endpoint, **CREDENTIALS},
            raw=raw,
            put_options={"chunksize": DEFAULT_PART_SIZE, "max_concurrency": DEFAULT_CONCURRENCY},
        )
        line = measure(setup, args.runs, args.mib * MiB, config)
    print(line)
    return 0 if "UNDER" not in line else 1


if __name__ == "__main__":
    sys.exit(main())
