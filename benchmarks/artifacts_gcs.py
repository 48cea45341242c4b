"""A 256 MiB artifact through the GCS store, against raw gcsfs on the same fake-gcs-server.

Target (issue 11): save and load at 0.9 of raw gcsfs or better (ratio = raw time / holdall
time), in the same run against the same server. Run from the repository root:
`python -m benchmarks.artifacts_gcs`.
"""

from __future__ import annotations

import sys

from benchmarks.object_stores import Setup, main
from tests.fixtures.gcs import GCSServer, running_fake_gcs


def setup_for(server: GCSServer) -> Setup:
    from holdall.artifact_stores.object_store import DEFAULT_PART_SIZE

    bucket = server.new_bucket()
    return Setup(
        label="GCS (fake-gcs-server)",
        flavor="gcs",
        bucket=bucket,
        path=f"gs://{bucket}/artifacts",
        config={"endpoint_url": server.endpoint, "token": "anon"},
        raw=server.filesystem(),
        put_options={"chunksize": DEFAULT_PART_SIZE},
    )


if __name__ == "__main__":
    sys.exit(main(__doc__, running_fake_gcs, setup_for))
