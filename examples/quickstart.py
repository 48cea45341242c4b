"""What `make demo` runs: register a local store and a stack, then write and read through it.

Safe to run again and again: what exists already is reused. The active stack is left as it was.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from holdall import Client
from holdall.errors import NotFoundError

STORE, STACK = "quickstart_store", "quickstart"


def ensure_stack(client: Client) -> None:
    try:
        client.get_artifact_store(STORE)
    except NotFoundError:
        client.register_artifact_store(STORE, flavor="local")
        print(f"registered artifact store '{STORE}'")
    try:
        client.get_stack(STACK)
    except NotFoundError:
        client.register_stack(STACK, artifact_store=STORE)
        print(f"registered stack '{STACK}'")


def main() -> None:
    client = Client()
    ensure_stack(client)
    stack = client.get_stack(STACK)
    store = client.artifact_store(stack.artifact_store)

    record = {"written": datetime.now(timezone.utc).isoformat(), "metrics": {"accuracy": 0.93}}
    with store.open("runs/latest/metrics.json", "w") as handle:
        json.dump(record, handle)
    with store.open("runs/latest/metrics.json") as handle:
        if json.load(handle) != record:
            raise SystemExit("read back something other than what was written")

    print(f"stack '{stack.name}' keeps artifacts in {store.path}")
    for root, _dirs, files in store.walk(""):
        for name in files:
            print(f"  {root}/{name}  ({store.size(f'{root}/{name}')} bytes)")
    print(f"active stack is still '{client.active_stack_model.name}'")


if __name__ == "__main__":
    main()
