"""Inside ZenML, a 256 MiB artifact saved and loaded through the holdall-backed store, beside
ZenML's own S3 artifact store (`zenml integration install s3`), on the same S3 server, in
the same run: moto, then s3rver.

Target (issue 24, which withdrew issue 14's 1.5 on moto: moto's single process is the
limit): the holdall-backed store at 1.2x ZenML's throughput or better (ratio = ZenML's time
/ holdall's), on moto and on s3rver (an S3 server from npm that serves a range without
reading the whole object again, as moto does). Each side runs ZenML's own `save_artifact`
then `load_artifact` of the same bytes (ZenML's bytes materializer, its artifact store, its
metadata), timed apart, in a process of its own, the sides alternating. Also printed: what
the server itself takes for the same bytes from raw s3fs, put in one PUT or in parallel
parts and read back in one GET, which bounds what any store could show there. Builds a
fresh environment with ZenML (minutes, and the package registry). Run from the repository
root: `make bench-zenml` (it installs s3rver first).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fixtures.moto import S3Server, running_moto
from tests.fixtures.package_index import build_wheels, serving
from tests.fixtures.s3rver import running_s3rver
from tests.fixtures.venvs import FreshVenv, tracked_copy

MiB = 1024 * 1024
STACKS = ("zenml_s3", "holdall_s3")
TARGET = 1.2

SAVE_AND_LOAD = """
import json, os, sys, time
from zenml import load_artifact, save_artifact

size, name = int(sys.argv[1]) * 1024 * 1024, sys.argv[2]
save_artifact(b"warm", name + "_warm")  # ZenML's client, stack and store set up, untimed
load_artifact(name + "_warm")
data = os.urandom(size)
start = time.perf_counter()
save_artifact(data, name)
saved = time.perf_counter()
loaded = load_artifact(name)
done = time.perf_counter()
assert loaded == data
print(json.dumps({"save": saved - start, "load": done - saved}))
"""


RAW = {"one PUT": None, "parts of 8 MiB, 4 at once": 8 * MiB}


def raw_round_trips(server: S3Server, bucket: str, mib: int) -> dict[str, float]:
    """The same bytes put by raw s3fs in one PUT, then in parallel parts, each read back in
    one GET: what this server itself takes, by the way the bytes are sent."""
    import s3fs

    filesystem = s3fs.S3FileSystem(
        endpoint_url=server.endpoint,
        key=server.credentials["aws_access_key_id"],
        secret=server.credentials["aws_secret_access_key"],
        skip_instance_cache=True,
    )
    data, path = os.urandom(mib * MiB), f"{bucket}/raw.bin"
    times = {}
    for label, part in RAW.items():
        start = time.perf_counter()
        filesystem.pipe_file(path, data, chunksize=part or len(data) + 1, max_concurrency=4)
        with filesystem.open(path, "rb", block_size=len(data)) as file:
            assert file.read() == data
        times[label] = time.perf_counter() - start
        filesystem.rm(path)
    return times


def user_environment(where: Path, resources: contextlib.ExitStack) -> FreshVenv:
    """ZenML and holdall as a user installs them: holdall and its integrations from a package
    index (this tree's wheels, served on 127.0.0.1), the rest from the index pip is
    configured with."""
    wheels = build_wheels(tracked_copy(where / "checkout"))
    index = resources.enter_context(serving(wheels))
    environment = FreshVenv.create(where / "user", settings=index.pip_env())
    environment.pip_install("zenml[local]", "holdall")
    for integration in ("s3", "zenml"):
        environment.run("holdall", "integration", "install", integration, "-y")
    return environment


def measure(
    environment: FreshVenv, where: Path, server: S3Server, name: str, args: Any
) -> tuple[dict[str, list[dict[str, float]]], dict[str, float]]:
    """Both stores on `server` (a ZenML project of its own), alternating: each side's save
    and load times, and the server's own raw round trips."""
    env = {
        "ZENML_CONFIG_PATH": str(where / f"zenml-{name}"),
        "HOLDALL_CONFIG_DIR": str(where / f"holdall-{name}"),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "AWS_ACCESS_KEY_ID": server.credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": server.credentials["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    project = where / f"project-{name}"
    project.mkdir()

    def run(*command: str) -> str:
        return environment.run(*command, env=env, cwd=project).stdout

    run("zenml", "integration", "install", "s3", "-y")
    run("zenml", "init")
    run("zenml", "artifact-store", "flavor", "register",
        "holdall_zenml.flavor.HoldallArtifactStoreFlavor")  # fmt: skip
    ours, theirs = server.new_bucket(), server.new_bucket()
    endpoint = json.dumps({"endpoint_url": server.endpoint})
    run("zenml", "artifact-store", "register", "zenml_s3", "--flavor=s3",
        f"--path=s3://{theirs}/zenml", f"--client_kwargs={endpoint}")  # fmt: skip
    run("holdall", "artifact-store", "register", "s3_store", "--flavor=s3",
        f"--path=s3://{ours}/zenml", f"--endpoint_url={server.endpoint}")  # fmt: skip
    run("zenml", "artifact-store", "register", "holdall_s3", "--flavor=holdall",
        f"--path=s3://{ours}/zenml", "--holdall_store=s3_store")  # fmt: skip
    for stack in STACKS:
        run("zenml", "stack", "register", stack, "-o", "default", "-a", stack)
    script = project / "save_and_load.py"
    script.write_text(SAVE_AND_LOAD)
    times: dict[str, list[dict[str, float]]] = {stack: [] for stack in STACKS}
    raw: list[dict[str, float]] = []
    for round_ in range(args.runs):
        for stack in STACKS if round_ % 2 == 0 else STACKS[::-1]:  # alternating
            run("zenml", "stack", "set", stack)
            out = run("python", str(script), str(args.mib), f"big_{round_}")
            times[stack].append(json.loads(out.strip().splitlines()[-1]))
        raw.append(raw_round_trips(server, ours, args.mib))
    return times, {label: min(r[label] for r in raw) for label in RAW}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    missed = False
    with contextlib.ExitStack() as resources, tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        environment = user_environment(where, resources)
        for name, server_running in (("moto", running_moto), ("s3rver", running_s3rver)):
            with server_running() as server:
                times, raw = measure(environment, where, server, name, args)
            missed |= report(args, name, times, raw) != 0
    return 1 if missed else 0


def report(
    args: Any, server: str, times: dict[str, list[dict[str, float]]], raw: dict[str, float]
) -> int:
    def median(stack: str, what: str) -> float:
        return statistics.median(t[what] for t in times[stack])

    totals = {stack: median(stack, "save") + median(stack, "load") for stack in STACKS}
    ratio = totals["zenml_s3"] / totals["holdall_s3"]
    verdict = "ok" if ratio >= TARGET else "UNDER"
    print(f"ZenML save_artifact + load_artifact of {args.mib} MiB on {server}'s S3, medians of "
          f"{args.runs}:")  # fmt: skip
    for stack, label in (("holdall_s3", "holdall-backed"), ("zenml_s3", "ZenML's own S3")):
        print(f"  {label:15} save {median(stack, 'save'):5.2f}s  load "
              f"{median(stack, 'load'):5.2f}s  total {totals[stack]:5.2f}s")  # fmt: skip
    print(f"  ratio {ratio:4.2f} | {verdict} target {TARGET}")
    print(f"  the server alone, raw s3fs, best of {args.runs} (no ZenML, no hashing):")
    for label, seconds in raw.items():
        print(f"    put in {label:26} then one GET {seconds:5.2f}s")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
