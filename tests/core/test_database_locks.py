"""A saver stopped inside its reservation (Ctrl-Z, SIGSTOP) holds a row lock on PostgreSQL:
every other save of that name waits for it, but never longer than the busy timeout, and
the error names the process that holds the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from holdall.client import Client
from holdall.errors import StateError
from tests.fixtures.waiting import bounded

# The saver stops itself right after its reservation reached the database, before the
# commit: the stop lands on a known state, whatever the machine's speed.
STOPPED_SAVER = """
import os, signal
from sqlalchemy import Engine, event
from holdall.client import Client

@event.listens_for(Engine, "after_cursor_execute")
def stop_inside_the_reservation(_connection, _cursor, statement, *_):
    if statement.startswith("INSERT INTO artifact_versions"):
        print("reserved", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)

Client().save_artifact(b"stopped", "contested")
print("saved", flush=True)
"""
BUSY_TIMEOUT_S = 2.0
SLACK_S = 10.0  # a loaded machine: connections, imports already done
HANG_S = 120.0


def _save(name: str) -> tuple[float, BaseException | None]:
    """Save `name`: how long it took and what it raised (never hangs the test)."""
    return bounded(lambda: Client().save_artifact(b"waiting", name), HANG_S)


def test_a_stopped_saver_blocks_others_only_for_the_busy_timeout_and_is_named(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOLDALL_DATABASE_URL", postgres_database)
    Client().save_artifact(b"first", "contested")  # the artifact row exists: version 1
    saver = subprocess.Popen(
        [sys.executable, "-c", STOPPED_SAVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert saver.stdout is not None and saver.stdout.readline().strip() == "reserved"
        _, status = os.waitpid(saver.pid, os.WUNTRACED)  # returns once it has stopped
        assert os.WIFSTOPPED(status)
        monkeypatch.setenv("HOLDALL_DB_BUSY_TIMEOUT", str(BUSY_TIMEOUT_S))
        elapsed, error = _save("contested")
        assert isinstance(error, StateError), repr(error)
        message = str(error)
        assert "is busy" in message and f"holdall pid {saver.pid}" in message, message
        assert f"kill -CONT {saver.pid}" in message, message
        assert elapsed <= BUSY_TIMEOUT_S + SLACK_S, (elapsed, message)
        # Other names are not held up at all.
        assert _save("another")[1] is None
    finally:
        saver.send_signal(signal.SIGCONT)
    out, _ = saver.communicate(timeout=HANG_S)
    assert saver.returncode == 0 and out.strip() == "saved"
    assert _save("contested")[1] is None  # the lock went with the stopped saver's commit
    versions = [v.version for v in Client().list_artifact_versions("contested")]
    assert versions == [1, 2, 3]
