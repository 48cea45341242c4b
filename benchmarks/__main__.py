"""`python -m benchmarks` (`make bench`): every benchmark that needs no fresh environment, one
after another, each in its own process; then which missed its target. Exits 1 if any missed
(or failed), after all of them ran: a miss in one never hides the figures of the next."""

from __future__ import annotations

import subprocess
import sys
import time

# Fast to slow; the installs and ZenML have their own targets (make bench-install,
# make bench-zenml): each builds fresh environments for minutes.
BENCHMARKS = (
    "cli_startup",
    "artifacts_local",
    "client_api",
    "artifacts_s3",
    "artifacts_gcs",
    "artifacts_azure",
    "migration_s3",
    "prune",
    "compression",
    "cache",
    "dashboard",
)


def main(names: list[str]) -> int:
    outcomes: dict[str, str] = {}
    for name in names or BENCHMARKS:
        print(f"== benchmarks.{name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"benchmarks.{name}"])
        took = time.perf_counter() - start
        outcomes[name] = "met" if code == 0 else f"MISSED (exit {code})"
        print(f"== benchmarks.{name}: {outcomes[name]}, {took:.0f} s\n", flush=True)
    print("Summary:")
    for name, outcome in outcomes.items():
        print(f"  {name:18} {outcome}")
    return 0 if all(outcome == "met" for outcome in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
