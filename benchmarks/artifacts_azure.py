"""A 256 MiB artifact through the Azure store, against raw adlfs on the same Azurite.

Target (issue 12): save and load at 0.9 of raw adlfs or better (ratio = raw time / holdall
time), in the same run against the same server, with the same number of connections at
once. Azurite comes from `make test` (.emulators/azurite). Run from the repository root:
`python -m benchmarks.artifacts_azure`.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.object_stores import Setup, main
from tests.fixtures.azurite import Azurite, running_azurite


@contextmanager
def azurite() -> Iterator[Azurite]:
    # Each round writes 768 MiB, and Azurite frees what is deleted only now and then.
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_azurite(Path(scratch), memory_mib=4096) as server,
    ):
        yield server


def setup_for(server: Azurite) -> Setup:
    from adlfs import AzureBlobFileSystem

    from holdall.artifact_stores.object_store import DEFAULT_CONCURRENCY

    container = server.new_container()
    raw = AzureBlobFileSystem(
        connection_string=server.connection_string(),
        max_concurrency=DEFAULT_CONCURRENCY,
        skip_instance_cache=True,
    )
    return Setup(
        label="Azure (Azurite)",
        flavor="azure",
        bucket=container,
        path=f"az://{container}/artifacts",
        config={"connection_string": server.connection_string()},
        raw=raw,
        put_options={},
    )


if __name__ == "__main__":
    sys.exit(main(__doc__, azurite, setup_for))
