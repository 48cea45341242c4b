"""The dashboard's pages against a full database, on SQLite and on PostgreSQL.

Targets (issue 25), medians, timed from a client on the same machine (so an upper bound of
the server's own time): with 100,000 versions of 1,000 artifacts and 10,000 runs in the
database, the artifact list and a version page each in under 100 ms, and the page of a
version with 200 ancestors (its lineage picture drawn) in under 300 ms.

The records are written straight into the tables (a save each would take minutes); the
versions whose pages are timed are real saves, their files in the store.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

LIST_MS, VERSION_MS, LINEAGE_MS = 100.0, 100.0, 300.0


def _rows(count: int, make: Any) -> list[dict[str, Any]]:
    return [make(i) for i in range(count)]


def fill(client: Any, artifacts: int, versions: int, runs: int, ancestors: int) -> str:
    """The records; returns the name of the artifact whose latest version has `ancestors`
    steps behind it."""
    from sqlalchemy import insert, update

    from holdall.metadata.tables import (
        ArtifactRow,
        ArtifactVersionRow,
        PipelineRunRow,
        StepInputRow,
        StepRunRow,
    )

    store = client.active_stack.artifact_store
    start = datetime.now(timezone.utc) - timedelta(days=30)
    artifact_ids = [str(uuid.uuid4()) for _ in range(artifacts)]
    run_ids = [str(uuid.uuid4()) for _ in range(runs)]
    step_ids = [str(uuid.uuid4()) for _ in range(runs)]

    def version(i: int) -> dict[str, Any]:
        artifact, number = divmod(i, versions)
        return {
            "id": str(uuid.uuid4()),
            "artifact_id": artifact_ids[artifact],
            "version": number + 1,
            "status": "committed",
            "uri": f"{store.path}/_saved/a-{artifact:04d}/{number + 1}",
            "artifact_store_id": store.id,
            "materializer": "holdall.materializers.builtin:BuiltinMaterializer",
            "data_type": "builtins:dict",
            "size": 100 + i % 1000,
            "checksum": "blake3:" + "0" * 64,
            "files": '{"value.json": [100, "blake3:' + "0" * 64 + '"]}',
            "producer_step_run_id": step_ids[i % runs] if i % 10 == 0 else None,
            "pipeline_run_id": run_ids[i % runs] if i % 10 == 0 else None,
            "created": start + timedelta(seconds=i),
            "committed": start + timedelta(seconds=i),
        }

    with client.database.transaction() as connection:
        connection.execute(
            insert(ArtifactRow),
            _rows(artifacts, lambda i: {"id": artifact_ids[i], "name": f"a-{i:04d}"}),
        )
        connection.execute(
            insert(PipelineRunRow),
            _rows(
                runs,
                lambda i: {
                    "id": run_ids[i],
                    "pipeline": f"p-{i % 20}",
                    "name": f"run-{i:05d}",
                    "status": "completed",
                    "start": start + timedelta(minutes=i),
                    "end": start + timedelta(minutes=i, seconds=30),
                },
            ),
        )
        connection.execute(
            insert(StepRunRow),
            _rows(
                runs,
                lambda i: {
                    "id": step_ids[i],
                    "pipeline_run_id": run_ids[i],
                    "name": "train",
                    "status": "completed",
                    "start": start + timedelta(minutes=i),
                    "end": start + timedelta(minutes=i, seconds=30),
                },
            ),
        )
        total = artifacts * versions
        for first in range(0, total, 20_000):
            batch = [version(i) for i in range(first, min(first + 20_000, total))]
            connection.execute(insert(ArtifactVersionRow), batch)

    # A chain: each of `ancestors` steps took the version before and made the next; the
    # last is a real save, whose page is timed.
    previous = client.save_artifact({"generation": 0}, "lineage")
    for generation in range(1, ancestors + 1):
        made = client.save_artifact({"generation": generation}, "lineage")
        step = str(uuid.uuid4())
        with client.database.transaction() as connection:
            connection.execute(
                insert(StepRunRow),
                [
                    {
                        "id": step,
                        "pipeline_run_id": run_ids[generation],
                        "name": f"step-{generation}",
                        "status": "completed",
                    }
                ],
            )
            connection.execute(
                insert(StepInputRow),
                [{"step_run_id": step, "name": "data", "artifact_version_id": previous.id}],
            )
            connection.execute(
                update(ArtifactVersionRow)
                .where(ArtifactVersionRow.id == made.id)
                .values(producer_step_run_id=step, pipeline_run_id=run_ids[generation])
            )
        previous = made
    client.save_artifact({"accuracy": 0.9}, middle(artifacts))  # a real latest version
    # The planner's statistics, as a database in use has them (PostgreSQL's autovacuum
    # gathers them); straight after a bulk fill they say the tables are empty.
    with client.database.transaction() as connection:
        connection.exec_driver_sql("ANALYZE")
    return "lineage"


def middle(artifacts: int) -> str:
    """The artifact whose pages are timed."""
    return f"a-{artifacts // 2:04d}"


@contextlib.contextmanager
def served(env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "holdall", "dashboard", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().split()[2]
    finally:
        process.terminate()
        process.wait(timeout=60)


def median_ms(url: str, runs: int) -> float:
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[1:])  # the first warms the server's caches


def measure(
    database: str, url: str | None, args: argparse.Namespace
) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory() as config:
        env = {**os.environ, "HOLDALL_CONFIG_DIR": config}
        env.pop("HOLDALL_DATABASE_URL", None)
        if url:
            env["HOLDALL_DATABASE_URL"] = url
        os.environ.update(env)
        from holdall.client import Client

        Client.close_shared()
        client = Client()
        started = time.perf_counter()
        chain = fill(client, args.artifacts, args.versions, args.runs, args.ancestors)
        print(f"{database}: filled in {time.perf_counter() - started:.0f} s", flush=True)
        latest = client.get_artifact_version(chain).version
        Client.close_shared()
        with served(env) as base:
            return [
                (
                    f"{database} artifact list ({args.artifacts} artifacts)",
                    median_ms(base, args.runs_each),
                    LIST_MS,
                ),
                (
                    f"{database} version page",
                    median_ms(
                        base + f"artifacts/{middle(args.artifacts)}/{args.versions + 1}",
                        args.runs_each,
                    ),
                    VERSION_MS,
                ),
                (
                    f"{database} versions page",
                    median_ms(base + f"artifacts/{middle(args.artifacts)}", args.runs_each),
                    VERSION_MS,
                ),
                (
                    f"{database} version with {args.ancestors} ancestors",
                    median_ms(base + f"artifacts/{chain}/{latest}", args.runs_each),
                    LINEAGE_MS,
                ),
            ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artifacts", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=100, help="per artifact")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--ancestors", type=int, default=200)
    parser.add_argument("--runs-each", type=int, default=7, help="requests per page")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    figures = measure("SQLite", None, args)
    if not args.sqlite_only:
        from tests.fixtures.postgres import postgres_server

        with postgres_server() as url:
            figures += measure("PostgreSQL", url, args)
    missed = 0
    for label, ms, target in figures:
        ok = ms <= target
        missed += not ok
        print(f"{label:55s} {ms:8.1f} ms  ({'ok' if ok else 'OVER'} target {target:g} ms)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
