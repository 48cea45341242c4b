"""Which process did a piece of work, so that a later process can tell if it is still alive.

A tag is `host:pid:namespace:start:boot`: psutil's start time of the process (`c` and epoch
seconds) and boot time of the machine (`b` and epoch seconds), on every system psutil knows.
Containers sharing a hostname differ in their PID namespace (Linux's; a system without them
writes 0), a reused PID in its start time, a rebooted machine in its boot time: a process is
declared gone only when the tag's process certainly is. Start and boot times are compared
within a second or two, as a clock that moves shifts them: a PID reused that fast is taken
for the process that had it, and gc waits; never the reverse.

Tags of holdall 0.2 (`start` in clock ticks since boot, `boot` Linux's boot id) are judged as
0.2 judged them; tags of 0.1 (`host:pid`) by host and PID alone.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import sys
from functools import lru_cache
from pathlib import Path

import psutil

UNKNOWN = "-"
# A machine's clock, moved (NTP), moves the boot time psutil reads and the start times it
# derives from it on Linux; a reboot or a PID's reuse is more than this apart.
SLACK_S = 2.0


@lru_cache(maxsize=1)
def _pid_namespace() -> str:
    if not sys.platform.startswith("linux"):
        return "0"  # no PID namespaces: every process on the host is in one
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return UNKNOWN
    return link.partition("[")[2].rstrip("]") or UNKNOWN


def _created(pid: int) -> float | None:
    """The process's start time; None when there is no such process (or only its zombie).
    Raises psutil.AccessDenied when it is there but hidden from this user."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.NoSuchProcess:
        return None


def user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        return str(os.getuid())


def who() -> str:
    """`user@host`: who did something, as records show it."""
    return f"{user_name()}@{socket.gethostname()}"


def process_tag() -> str:
    return _tag_of(os.getpid())  # by pid: a forked child gets a tag of its own


@lru_cache(maxsize=4)
def _tag_of(pid: int) -> str:
    # Fixed for the life of the process: read from /proc once, not at every save.
    start = f"c{psutil.Process(pid).create_time():.2f}"
    boot = f"b{psutil.boot_time():.0f}"
    return f"{socket.gethostname()}:{pid}:{_pid_namespace()}:{start}:{boot}"


def process_alive(tag: str) -> bool | None:
    """True or False for a process this machine can judge; None when it cannot (another
    host, or another PID namespace under the same hostname)."""
    parts = tag.split(":")
    if len(parts) not in (2, 5) or not parts[1].isdigit() or parts[0] != socket.gethostname():
        return None
    pid = int(parts[1])
    if len(parts) == 2:  # a tag of holdall 0.1.0
        return bool(psutil.pid_exists(pid))
    _, _, namespace, start, boot = parts
    if UNKNOWN in (namespace, _pid_namespace()) or namespace != _pid_namespace():
        return None
    try:
        if _booted_since(boot):
            return False
        created = _created(pid)
        return created is not None and _same_start(start, created)  # else: PID reused
    except psutil.AccessDenied:
        return True  # there, and not ours to look at: alive, as far as anyone can tell
    except ValueError:
        return None  # not a tag any release wrote


def _booted_since(boot: str) -> bool:
    if boot.startswith("b"):
        return abs(float(boot[1:]) - psutil.boot_time()) > SLACK_S
    current = _boot_id()  # a tag of 0.2: Linux's boot id
    return UNKNOWN not in (boot, current) and boot != current


def _same_start(start: str, created: float) -> bool:
    if start == UNKNOWN:
        return True
    if start.startswith("c"):
        return abs(float(start[1:]) - created) <= SLACK_S
    # A tag of 0.2: clock ticks from boot to the start
    since_boot = int(start) / os.sysconf("SC_CLK_TCK")
    return abs(since_boot - (created - psutil.boot_time())) <= SLACK_S


@lru_cache(maxsize=1)
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return UNKNOWN


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
