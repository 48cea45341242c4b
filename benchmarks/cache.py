"""What the read-through cache buys, on each cloud's emulator: a 256 MiB bytes artifact
loaded again (from the cache) against the same bytes loaded from a local store, and a first
load that fills the cache against one with the cache off, side by side in one run.

Targets (issue 24), medians of ROUNDS alternating rounds:
- second load from S3 (moto) / GCS (fake-gcs-server) / Azure (Azurite) against a load from
  a local store: at least 0.9 (ratio = local time / cached time);
- first load with the cache on against the cache off: at least 0.9 (ratio = off / on).
Azurite comes from `make test`. Run from the repository root: `python -m benchmarks.cache`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
SIZE = 256 * MiB
ROUNDS = 5
TARGET = 0.9


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _cloud(label: str, flavor: str, path: str, config: dict[str, Any], data: bytes) -> bool:
    from holdall import Client
    from holdall.artifacts.cache import Cache

    client = Client()
    client.register_artifact_store(flavor, flavor, path=path, config=config)
    client.register_artifact_store(f"{flavor}-local", "local", path=tempfile.mkdtemp())
    for store in (flavor, f"{flavor}-local"):
        client.activate_stack(client.register_stack(store, store).name)
        client.save_artifact(data, store)  # an artifact a store: a load names its store
    cache = Cache.from_environment()
    assert cache is not None
    first_on: list[float] = []
    first_off: list[float] = []
    second: list[float] = []
    local: list[float] = []
    for round_number in range(ROUNDS):
        cache.clear()
        pair = [
            (first_off, lambda: client.load_artifact(flavor, cache=False)),
            (first_on, lambda: client.load_artifact(flavor)),
        ]
        for times, action in pair if round_number % 2 == 0 else pair[::-1]:
            times.append(_timed(action))
        if round_number % 2:
            cache.clear()
            client.load_artifact(flavor)  # the cache filled, whichever went first
        second.append(_timed(lambda: client.load_artifact(flavor)))
        local.append(_timed(lambda: client.load_artifact(f"{flavor}-local")))
    again = statistics.median(local) / statistics.median(second)
    filling = statistics.median(first_off) / statistics.median(first_on)
    print(
        f"{label}: second load {statistics.median(second):.2f} s, local store "
        f"{statistics.median(local):.2f} s, ratio {again:.2f} (target >= {TARGET}); first "
        f"load cache on {statistics.median(first_on):.2f} s, off "
        f"{statistics.median(first_off):.2f} s, ratio {filling:.2f} (target >= {TARGET})"
    )
    return again >= TARGET and filling >= TARGET


@contextmanager
def _fresh_home() -> Iterator[None]:
    with tempfile.TemporaryDirectory() as home:
        os.environ["HOLDALL_CONFIG_DIR"] = home
        from holdall import Client

        Client.close_shared()
        yield
    shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    from tests.fixtures.azurite import running_azurite
    from tests.fixtures.gcs import running_fake_gcs
    from tests.fixtures.moto import CREDENTIALS, running_moto

    data = os.urandom(SIZE)
    met = True
    servers: list[tuple[str, Callable[[], AbstractContextManager[Any]]]] = [
        ("s3", running_moto),
        ("gcs", running_fake_gcs),
    ]
    for flavor, running in servers:
        with running() as server, _fresh_home():
            if flavor == "s3":
                where, config = (
                    f"s3://{server.new_bucket()}/a",
                    {
                        "endpoint_url": server.endpoint,
                        **CREDENTIALS,
                    },
                )
                label = "S3 (moto)"
            else:
                where, config = (
                    f"gs://{server.new_bucket()}/a",
                    {
                        "endpoint_url": server.endpoint,
                        "token": "anon",
                    },
                )
                label = "GCS (fake-gcs-server)"
            met = _cloud(label, flavor, where, config, data) and met
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_azurite(Path(scratch), memory_mib=2048) as azurite,
        _fresh_home(),
    ):
        where = f"az://{azurite.new_container()}/a"
        config = {"connection_string": azurite.connection_string()}
        met = _cloud("Azure (Azurite)", "azure", where, config, data) and met
    print(f"medians of {ROUNDS} alternating rounds")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
