"""Which process did a piece of work, so that a later process can tell if it is still alive."""

from __future__ import annotations

import os
import socket


def process_tag() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(tag: str) -> bool | None:
    """True or False for a process on this machine; None when it ran elsewhere."""
    host, _, pid = tag.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
