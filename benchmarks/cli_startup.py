"""How long the command takes to start, beside `python -c pass` in the same run.

Target (issue 2): `holdall --help` and `holdall integration list` each under 0.25 s wall;
(issue 24) `holdall artifact-store list` and `holdall artifact list` too, which read the
database. `import sqlalchemy.orm` alone is printed beside them: the floor any command that
reads the database through SQLAlchemy's ORM stands on.
Runs alternate between the commands so that a noisy neighbour slows them all alike; the
median of each is reported, with its ratio to bare interpreter start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.25


def commands() -> dict[str, list[str]]:
    holdall = str(Path(sys.executable).with_name("holdall"))
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "holdall --help": [holdall, "--help"],
        "holdall integration list": [holdall, "integration", "list"],
        "holdall artifact-store list": [holdall, "artifact-store", "list"],
        "holdall artifact list": [holdall, "artifact", "list"],
        "import sqlalchemy.orm": [sys.executable, "-c", "import sqlalchemy.orm"],
    }


def wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as config:
        env = {"HOLDALL_CONFIG_DIR": config, "PATH": str(Path(sys.executable).parent)}
        timings: dict[str, list[float]] = {name: [] for name in commands()}
        for command in commands().values():
            wall(command, env)  # warm the page cache and .pyc files
        for _ in range(args.runs):
            for name, command in commands().items():
                timings[name].append(wall(command, env))
    baseline = statistics.median(timings["python -c pass"])
    failed = False
    print(f"{'command':28} {'median':>9} {'p90':>9} {'x python':>9}  target")
    for name, samples in timings.items():
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        verdict = (
            ""
            if not name.startswith("holdall")
            else ("ok" if median < TARGET_S else f"OVER {TARGET_S}s")
        )
        failed |= verdict.startswith("OVER")
        print(
            f"{name:28} {median * 1000:7.1f}ms {p90 * 1000:7.1f}ms {median / baseline:9.2f}  "
            f"{verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
