"""Inside ZenML, a 256 MiB artifact saved and loaded through the holdall-backed store, beside
ZenML's own S3 artifact store (`zenml integration install s3`), on the same moto server, in
the same run.

Target (issue 14): the holdall-backed store at 1.5x ZenML's throughput or better (ratio =
ZenML's time / holdall's). Both run the same two-step ZenML pipeline: one step returns the
bytes, the next reads them. Builds a fresh environment with ZenML (minutes, and the package
registry). Run from the repository root: `python -m benchmarks.zenml_s3 [--mib 256]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from tests.core.test_install import tracked_copy
from tests.fixtures.moto import CREDENTIALS, running_moto
from tests.fixtures.venvs import FreshVenv

PIPELINE = """
import json, os, sys, time
from zenml import pipeline, step

SIZE = int(sys.argv[1]) * 1024 * 1024


@step
def produce() -> bytes:
    return os.urandom(SIZE)


@step
def consume(data: bytes) -> int:
    return len(data)


@pipeline(enable_cache=False)
def big_artifact():
    consume(produce())


if __name__ == "__main__":
    start = time.perf_counter()
    big_artifact()
    print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, running_moto() as server:
        where = Path(scratch)
        environment = FreshVenv.create(where)
        environment.pip_install("zenml[local]", str(tracked_copy(where / "checkout")))
        for integration in ("s3", "zenml"):
            environment.run("holdall", "integration", "install", integration, "-y")
        env = {
            "ZENML_CONFIG_PATH": str(where / "zenml"),
            "ZENML_ANALYTICS_OPT_IN": "false",
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }

        def run(*command: str) -> str:
            return environment.run(*command, env=env).stdout

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
        for stack in ("zenml_s3", "holdall_s3"):
            run("zenml", "stack", "register", stack, "-o", "default", "-a", stack)
        (environment.home / "pipeline.py").write_text(PIPELINE)
        times: dict[str, list[float]] = {"zenml_s3": [], "holdall_s3": []}
        for round_ in range(args.runs):
            order = ["zenml_s3", "holdall_s3"] if round_ % 2 == 0 else ["holdall_s3", "zenml_s3"]
            for stack in order:  # alternating which goes first
                run("zenml", "stack", "set", stack)
                out = run("python", "pipeline.py", str(args.mib))
                times[stack].append(json.loads(out.strip().splitlines()[-1])["seconds"])
    zenml_s = statistics.median(times["zenml_s3"])
    holdall_s = statistics.median(times["holdall_s3"])
    ratio = zenml_s / holdall_s
    verdict = "ok" if ratio >= 1.5 else "UNDER"
    print(
        f"ZenML pipeline, {args.mib} MiB saved then loaded, moto S3 (medians of {args.runs}): "
        f"holdall-backed {holdall_s:6.2f}s | ZenML's own S3 store {zenml_s:6.2f}s | ratio "
        f"{ratio:4.2f} | {verdict} target 1.5"
    )
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
