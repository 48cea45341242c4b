"""ZenML's top-level functions against the Client methods, in the same run.

Targets (issue 7):
- `holdall.load_artifact(name)` in a loop: at most 1.5 ms a call;
- `holdall.save_artifact(value, name)`: at most 1 ms a call above `Client().save_artifact`
  through a Client kept by the caller.

Before, every `Client()` opened a new engine and checked the default stack again (about
10 ms); the top-level functions now go through the one Client of the process and database.
Rounds alternate between the two ways so that a noisy neighbour slows both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

LOAD_TARGET_MS = 1.5
SAVE_GAP_TARGET_MS = 1.0


def per_call_ms(action: Callable[[int], Any], calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        action(i)
    return (time.perf_counter() - start) / calls * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as config:
        os.environ["HOLDALL_CONFIG_DIR"] = config
        os.environ.pop("HOLDALL_DATABASE_URL", None)
        import holdall
        from holdall import Client
        from holdall.registry import get_registry

        kept = Client()
        kept.save_artifact({"small": [1, 2, 3]}, "small")
        registry = get_registry()
        ways: dict[str, dict[str, Callable[[int], Any]]] = {
            "load": {
                "Client method": lambda _: kept.load_artifact("small"),
                "holdall.load_artifact": lambda _: holdall.load_artifact("small"),
                # What every Client() cost before it was shared (a client with a registry
                # of its own is still new each time): the figure the targets improve on.
                "a new Client each call": lambda _: Client(registry=registry).load_artifact(
                    "small"
                ),
            },
            "save": {
                "Client method": lambda i: kept.save_artifact({"i": i}, "by-client"),
                "holdall.save_artifact": lambda i: holdall.save_artifact({"i": i}, "top-level"),
            },
        }
        times: dict[tuple[str, str], list[float]] = {
            (what, way): [] for what, pair in ways.items() for way in pair
        }
        for _ in range(args.rounds):
            for what, pair in ways.items():
                for way, action in pair.items():
                    times[what, way].append(per_call_ms(action, args.calls))
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"median ms per call over {args.rounds} rounds of {args.calls} calls")
    for (what, way), value in median.items():
        print(f"  {what:5} {way:24} {value:7.3f} ms")
    load = median["load", "holdall.load_artifact"]
    gap = median["save", "holdall.save_artifact"] - median["save", "Client method"]
    print(f"load_artifact: {load:.3f} ms a call (target <= {LOAD_TARGET_MS} ms)")
    print(f"save_artifact above the Client method: {gap:+.3f} ms (target <= {SAVE_GAP_TARGET_MS})")
    return 0 if load <= LOAD_TARGET_MS and gap <= SAVE_GAP_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
