"""A 256 MiB artifact through the GCS store, against raw gcsfs on the same fake-gcs-server.

Target (issue 11): save and load at 0.9 of raw gcsfs or better (ratio = raw time / holdall
time), in the same run against the same server. Run from the repository root:
`python -m benchmarks.artifacts_gcs`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from benchmarks.object_stores import MiB, Setup, measure
from tests.fixtures.gcs import running_fake_gcs


def main() -> int:
    from holdall.artifact_stores.object_store import DEFAULT_PART_SIZE

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as config, running_fake_gcs() as server:
        os.environ["HOLDALL_CONFIG_DIR"] = config
        bucket = server.new_bucket()
        setup = Setup(
            label="GCS (fake-gcs-server)",
            flavor="gcs",
            bucket=bucket,
            path=f"gs://{bucket}/artifacts",
            config={"endpoint_url": server.endpoint},
            raw=server.filesystem(),
            put_options={"chunksize": DEFAULT_PART_SIZE},
        )
        line = measure(setup, args.runs, args.mib * MiB, config)
    print(line)
    return 0 if "UNDER" not in line else 1


if __name__ == "__main__":
    sys.exit(main())
