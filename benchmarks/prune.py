"""`artifact prune` of 10,000 versions (1,000 artifacts of 10 versions; 1,000 to delete)
against deleting the same number of objects with one raw call, and `artifact-store usage` of
those 10,000 versions.

Targets (issue 23): prune at 0.8 of raw or better (ratio = raw time / holdall time), on S3
(moto; raw: s3fs `rm` of the same keys in one call) and on a local store (raw: fsspec's
local `rm` of the same folders, each with its file, in one call); usage from the database
alone in under 0.5 s. The versions' records are written straight into the database (saving
10,000 versions is not what is measured); the 1,000 to be deleted have their files in the
store, as a save leaves them. holdall's time is split into the database's part and the
store's, to show where it goes.
Run from the repository root: `python -m benchmarks.prune`.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

ARTIFACTS = 1000
VERSIONS = 10
ROUNDS = 5
PAYLOAD = b"x" * 1024
RATIO_TARGET = 0.8
USAGE_TARGET_S = 0.5


def _records(client: Any, store_id: str, uri_root: str) -> list[str]:
    """10,000 committed versions; the uris of the oldest version of each artifact."""
    from holdall.metadata.tables import ArtifactRow, ArtifactVersionRow, VersionStatus

    then = datetime.now(timezone.utc) - timedelta(days=1)
    doomed = []
    files = json.dumps({"data.bin": [len(PAYLOAD), "blake3:" + "0" * 64]})
    with client.database.session() as session:
        for number in range(ARTIFACTS):
            artifact = ArtifactRow(
                id=str(uuid.uuid4()), name=f"a{number:04d}-{uuid.uuid4().hex[:6]}"
            )
            session.add(artifact)
            for version in range(1, VERSIONS + 1):
                uri = f"{uri_root}/_saved/{artifact.name}/{version}"
                session.add(
                    ArtifactVersionRow(
                        artifact_id=artifact.id,
                        version=version,
                        status=VersionStatus.COMMITTED,
                        uri=uri,
                        artifact_store_id=store_id,
                        size=len(PAYLOAD),
                        files=files,
                        committed=then + timedelta(seconds=version),
                        created=then,
                    )
                )
                if version == 1:
                    doomed.append(uri)
    return doomed


def _measure(raw: Callable[[], object], holdall: Callable[[], object]) -> tuple[float, float]:
    start = time.perf_counter()
    raw()
    middle = time.perf_counter()
    holdall()
    return middle - start, time.perf_counter() - middle


def _timed(store: Any, method: str) -> list[float]:
    """Times of each call to `store`'s `method` from now on (this instance only)."""
    times: list[float] = []
    original = getattr(store, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times.append(time.perf_counter() - start)

    setattr(store, method, timed)
    return times


def run(
    label: str, flavor: str, path: str, config: dict[str, str], filesystem: Any, folders: bool
) -> bool:
    """Whether both targets were met. `folders`: a version is a folder (a local store), and
    raw removes the same folders; else its files are keys, and raw removes the same keys."""
    from holdall import Client

    ratios, raw_times, holdall_times, usage_times, store_times = [], [], [], [], []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as config_dir:
            os.environ["HOLDALL_CONFIG_DIR"] = config_dir
            Client.close_shared()
            client = Client()
            name = f"bench-{uuid.uuid4().hex[:8]}"
            model = client.register_artifact_store(
                name, flavor, path=path + f"/{name}", config=config
            )
            store = client.artifact_store(model)
            doomed = _records(client, model.id, store.path)
            raw_files = [store.resolve(f"{uri}-raw/data.bin") for uri in doomed]
            filesystem.pipe({p: PAYLOAD for p in raw_files})
            raw_paths = [p.rsplit("/", 1)[0] for p in raw_files] if folders else raw_files
            filesystem.pipe({store.resolve(f"{uri}/data.bin"): PAYLOAD for uri in doomed})
            # Both sides start with their client made: raw's wrote the files above, and
            # holdall's store (a kept Client's) has made and checked its own. A new process
            # adds the SDK's start-up (about 0.1 s for s3fs here) to either.
            getattr(store, "filesystem", None)
            store_time = _timed(store, "remove_versions")
            raw_time, holdall_time = _measure(
                functools.partial(filesystem.rm, raw_paths, recursive=folders),
                functools.partial(client.prune_artifacts, keep_last=VERSIONS - 1),
            )
            assert not any(filesystem.exists(store.resolve(f"{u}/data.bin")) for u in doomed[:20])
            start = time.perf_counter()
            usage = client.get_artifact_store_usage(name)
            usage_times.append(time.perf_counter() - start)
            assert sum(u.versions for u in usage) == ARTIFACTS * (VERSIONS - 1)
            raw_times.append(raw_time)
            holdall_times.append(holdall_time)
            store_times.append(sum(store_time))
            ratios.append(raw_time / holdall_time)
    print(
        f"{label}: prune of {ARTIFACTS * VERSIONS} versions ({ARTIFACTS} deleted): holdall "
        f"{statistics.median(holdall_times):.2f} s, raw {statistics.median(raw_times):.2f} s, "
        f"ratio {statistics.median(ratios):.2f} (target >= {RATIO_TARGET}); usage "
        f"{statistics.median(usage_times) * 1000:.0f} ms (target < {USAGE_TARGET_S * 1000:.0f} "
        f"ms); medians of {ROUNDS}"
    )
    store_part = statistics.median(store_times)
    print(
        f"  of holdall's time: the store's removal {store_part:.2f} s (raw / that: "
        f"{statistics.median(raw_times) / store_part:.2f}), the database and the rest "
        f"{statistics.median(holdall_times) - store_part:.2f} s"
    )
    ratio, usage_s = statistics.median(ratios), statistics.median(usage_times)
    return ratio >= RATIO_TARGET and usage_s < USAGE_TARGET_S


def main() -> int:
    import fsspec

    from tests.fixtures.moto import CREDENTIALS, running_moto

    with tempfile.TemporaryDirectory() as folder:
        local = fsspec.filesystem("file", auto_mkdir=True)
        met = run("local", "local", folder, {}, local, folders=True)
    with running_moto() as server:
        import s3fs

        bucket = server.new_bucket()
        raw = s3fs.S3FileSystem(
            endpoint_url=server.endpoint,
            key=CREDENTIALS["aws_access_key_id"],
            secret=CREDENTIALS["aws_secret_access_key"],
            skip_instance_cache=True,
        )
        config = {"endpoint_url": server.endpoint, **CREDENTIALS}
        met = run("S3 (moto)", "s3", f"s3://{bucket}", config, raw, folders=False) and met
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
