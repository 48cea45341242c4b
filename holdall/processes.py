"""Which process did a piece of work, so that a later process can tell if it is still alive.

A tag is `host:pid:namespace:start:boot`. Containers sharing a hostname differ in their PID
namespace, a reused PID in its start time, a rebooted machine in its boot id: a process is
declared gone only when the tag's process certainly is. Tags of holdall 0.1.0 (`host:pid`)
are judged by host and PID alone.
"""

from __future__ import annotations

import os
import re
import socket
from functools import lru_cache
from pathlib import Path

UNKNOWN = "-"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return UNKNOWN


@lru_cache(maxsize=1)
def _pid_namespace() -> str:
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return UNKNOWN
    return link.partition("[")[2].rstrip("]") or UNKNOWN


@lru_cache(maxsize=1)
def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")


def _start_time(pid: int) -> str:
    """Clock ticks from boot to the process's start (field 22 of /proc/PID/stat)."""
    stat = _read(f"/proc/{pid}/stat")
    if stat == UNKNOWN:
        return UNKNOWN
    fields = stat.rpartition(")")[2].split()  # the command name may hold spaces
    return fields[19] if len(fields) > 19 else UNKNOWN


def process_tag() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_pid_namespace()}:{_start_time(pid)}:{_boot_id()}"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_alive(tag: str) -> bool | None:
    """True or False for a process this machine can judge; None when it cannot (another
    host, or another PID namespace under the same hostname)."""
    parts = tag.split(":")
    if len(parts) not in (2, 5) or not parts[1].isdigit() or parts[0] != socket.gethostname():
        return None
    pid = int(parts[1])
    if len(parts) == 2:  # a tag of holdall 0.1.0
        return _exists(pid)
    _, _, namespace, start, boot = parts
    if UNKNOWN in (namespace, _pid_namespace()) or namespace != _pid_namespace():
        return None
    if boot != UNKNOWN and _boot_id() != UNKNOWN and boot != _boot_id():
        return False  # the machine restarted since
    if not _exists(pid):
        return False
    return start == UNKNOWN or _start_time(pid) == start  # else: its PID was reused


# Files a process stages in the temp dir carry its tag (less the host, for the temp dir is
# this machine's), so that gc can tell when they were left behind by a process now gone; and
# the id of the store they are for, so that gc of one database leaves alone what another
# database's process left in a temp dir they share.
SPOOL_PREFIX = ".holdall-staged_"
_STORE_ID = re.compile(r"[0-9a-f]{32}")


def spool_prefix(store_id: str = "") -> str:
    owner = f"{spooled_for(store_id)}_" if store_id else ""
    return SPOOL_PREFIX + "_".join(process_tag().split(":")[1:]) + "_" + owner


def spooled_for(store_id: str) -> str:
    """A store's id as spool file names carry it (no dashes: "_" separates the fields)."""
    return store_id.replace("-", "")


def _spool_fields(name: str) -> list[str] | None:
    """pid, namespace, start, boot, then the store's id or the random rest."""
    parts = name.removeprefix(SPOOL_PREFIX).split("_")
    return parts if name.startswith(SPOOL_PREFIX) and len(parts) >= 5 else None


def spool_store(name: str) -> str | None:
    """The store a spool file was for (as `spooled_for` writes its id), if its name says."""
    parts = _spool_fields(name)
    if parts is None or len(parts) < 6 or not _STORE_ID.fullmatch(parts[4]):
        return None
    return parts[4]


def spool_owner_alive(name: str) -> bool | None:
    parts = _spool_fields(name)
    if parts is None:
        return None
    return process_alive(":".join([socket.gethostname(), *parts[:4]]))
