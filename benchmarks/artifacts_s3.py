"""A 256 MiB artifact through the S3 store, against raw s3fs on the same moto server.

Target (issue 4): save and load at 0.9 of raw s3fs put and get or better (ratio = raw time /
holdall time), in the same run against the same server. Run from the repository root:
`python -m benchmarks.artifacts_s3`.
"""

from __future__ import annotations

import sys

from benchmarks.object_stores import Setup, main
from tests.fixtures.moto import CREDENTIALS, S3Server, running_moto


def setup_for(server: S3Server) -> Setup:
    import s3fs

    from holdall.artifact_stores.object_store import DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE

    bucket = server.new_bucket()
    raw = s3fs.S3FileSystem(
        endpoint_url=server.endpoint,
        key=CREDENTIALS["aws_access_key_id"],
        secret=CREDENTIALS["aws_secret_access_key"],
        skip_instance_cache=True,
        default_block_size=DEFAULT_PART_SIZE,
        max_concurrency=DEFAULT_CONCURRENCY,
    )
    return Setup(
        label="S3 (moto)",
        flavor="s3",
        bucket=bucket,
        path=f"s3://{bucket}/artifacts",
        config={"endpoint_url": server.endpoint, **CREDENTIALS},
        raw=raw,
        put_options={"chunksize": DEFAULT_PART_SIZE, "max_concurrency": DEFAULT_CONCURRENCY},
    )


if __name__ == "__main__":
    sys.exit(main(__doc__, running_moto, setup_for))
