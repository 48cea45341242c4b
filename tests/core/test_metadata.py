"""The metadata database: where it lives, concurrent writers, and damaged or read-only state."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from holdall.client import Client
from tests.conftest import Result, assert_interrupted, holdall_process
from tests.core.test_cli_artifact_store import error_of


def race(commands: list[list[str]], env: dict[str, str] | None = None) -> list[Result]:
    """Start every command at once, as separate processes, and collect how each ended."""
    environment = {**os.environ, **(env or {})}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "holdall", *c],
            env=environment,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for c in commands
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        results.append(Result(process.returncode, out, err))
    return results


def check_concurrent_registration(env: dict[str, str] | None = None) -> None:
    distinct = race(
        [["artifact-store", "register", f"s{i}", "--flavor=local"] for i in range(8)], env
    )
    assert [r.code for r in distinct] == [0] * 8, [r.err for r in distinct]
    same = race([["artifact-store", "register", "same", "--flavor=local"] for _ in range(6)], env)
    assert sorted(r.code for r in same) == [0] + [1] * 5, [r.err for r in same]
    assert all("already exists" in r.err for r in same if r.code)
    stores = json.loads(holdall_process("artifact-store", "list", "-o", "json", env=env).out)
    assert sorted(s["name"] for s in stores) == sorted(
        ["default", "same"] + [f"s{i}" for i in range(8)]
    )
    stacks = json.loads(holdall_process("stack", "list", "-o", "json", env=env).out)
    assert [s["name"] for s in stacks] == ["default"]


def test_concurrent_processes_on_sqlite_leave_it_consistent(config_dir: Path) -> None:
    check_concurrent_registration()
    assert (config_dir / "holdall.db").is_file()


def test_concurrent_processes_on_postgresql_leave_it_consistent(
    postgres_database: str, config_dir: Path
) -> None:
    check_concurrent_registration({"HOLDALL_DATABASE_URL": postgres_database})
    assert not (config_dir / "holdall.db").exists()


def test_any_sqlalchemy_url_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere" / "meta.db"
    monkeypatch.setenv("HOLDALL_DATABASE_URL", f"sqlite:///{elsewhere}")
    Client().register_artifact_store("s", "local")
    assert elsewhere.is_file()
    assert [s.name for s in Client().list_artifact_stores()] == ["default", "s"]


def test_an_unreachable_database_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    monkeypatch.setenv(
        "HOLDALL_DATABASE_URL", "postgresql+psycopg://user:hunter2@127.0.0.1:1/nothing"
    )
    err = error_of(cli("artifact-store", "list"))
    assert "metadata database postgresql+psycopg://user:***@127.0.0.1:1/nothing failed" in err
    assert "hunter2" not in err


def test_a_damaged_client_config_is_named_with_its_fix(cli, config_dir: Path) -> None:
    assert cli("stack", "list").code == 0
    (config_dir / "config.yaml").write_text("active_stack_id: [unterminated\n")
    err = error_of(cli("stack", "list"))
    assert f"{config_dir / 'config.yaml'} is damaged" in err
    assert f"fix: rm {config_dir / 'config.yaml'} && holdall stack set default" in err


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_database_is_named_with_its_fix(cli, config_dir: Path, damage: str) -> None:
    for i in range(50):
        assert cli("artifact-store", "register", f"s{i}", "--flavor=local").code == 0
    database = config_dir / "holdall.db"
    Client().database.engine.dispose()  # as when no holdall runs: the log is folded in
    assert not Path(f"{database}-wal").exists()
    if damage == "garbage":
        database.write_bytes(b"this is not a database" * 100)
    else:
        content = database.read_bytes()
        database.write_bytes(content[: len(content) // 2])
    err = error_of(holdall_process("artifact-store", "list"))
    assert f"the metadata database {database} is damaged" in err
    assert f"fix: mv {database} {database}.damaged" in err


# root writes anywhere its permission bits say not to; without these capabilities it cannot.
AS_UNPRIVILEGED_ROOT = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")


@pytest.fixture
def read_only_config_dir(config_dir: Path) -> Iterator[tuple[str, ...]]:
    """A config dir with a database in it, that the command cannot write to."""
    Client().register_artifact_store("existing", "local")
    config_dir.chmod(0o555)
    (config_dir / "holdall.db").chmod(0o444)
    yield AS_UNPRIVILEGED_ROOT if os.geteuid() == 0 else ()
    config_dir.chmod(0o755)


def test_a_read_only_config_dir_refuses_writes_and_keeps_its_state(
    read_only_config_dir: tuple[str, ...],
) -> None:
    prefix = read_only_config_dir
    err = error_of(
        holdall_process("artifact-store", "register", "new", "--flavor=local", prefix=prefix)
    )
    assert "cannot write the metadata database" in err
    assert "set HOLDALL_CONFIG_DIR to a writable folder" in err
    err = error_of(holdall_process("stack", "set", "default", prefix=prefix))
    assert "cannot write" in err
    listed = holdall_process("artifact-store", "list", "-o", "json", prefix=prefix)
    assert listed.code == 0, listed.err
    assert [s["name"] for s in json.loads(listed.out)] == ["default", "existing"]
    assert [s.name for s in Client().list_artifact_stores()] == ["default", "existing"]


HOLD_THE_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute("UPDATE stacks SET name = name")
print("locked", flush=True)
time.sleep(60)
"""


@contextlib.contextmanager
def holding_the_lock(database: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process in a write transaction on the SQLite `database`, once it has the lock,
    until the block ends (or the holder is killed inside it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(database)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def _has_open(pid: int, path: str) -> bool:
    """Whether process `pid` has `path` open (Linux: its /proc/PID/fd links)."""
    folder = f"/proc/{pid}/fd"
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return False
    for name in names:
        try:
            if os.readlink(os.path.join(folder, name)) == path:
                return True
        except OSError:
            continue
    return False


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listed:
        return [int(child) for child in listed.read().split()]


def check_ctrl_c_stops_the_wait() -> None:
    """Ctrl-C while waiting for the write lock (60 s here) ends the command at once, and the
    shell script that ran it: Ctrl-C at a terminal signals the whole foreground group, and
    bash goes on to its next line unless its child died of the signal."""
    script = f"{sys.executable} -m holdall artifact-store register y --flavor=local; echo went on"
    shell = subprocess.Popen(
        ["bash", "-c", script],
        env={**os.environ, "HOLDALL_DB_BUSY_TIMEOUT": "60"},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupted once seen at work: its imports done, the database open (the lock it waits
    # for is held until the test ends), whatever the machine's speed.
    database = os.path.realpath(os.path.join(os.environ["HOLDALL_CONFIG_DIR"], "holdall.db"))
    deadline = time.monotonic() + 60
    while not any(_has_open(child, database) for child in _children(shell.pid)):
        assert shell.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(shell.pid, signal.SIGINT)
    try:
        out, err = shell.communicate(timeout=10)  # far less than the 60 s wait
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)
    assert "went on" not in out
    assert_interrupted(shell, err)


def test_reads_never_wait_for_a_writer_and_a_stuck_write_says_busy(
    config_dir: Path, tmp_path: Path
) -> None:
    Client().save_artifact({"k": 1}, "thing")
    Client.close_shared()
    with holding_the_lock(config_dir / "holdall.db") as writer:
        for command in (("artifact", "list"), ("stack", "list"), ("artifact-store", "list")):
            result = holdall_process(*command, "-o", "json")
            assert result.code == 0, result.err
        assert "thing" in holdall_process("artifact", "list").out
        assert writer.poll() is None  # all of that while the writer still held its lock
        busy = holdall_process(
            "artifact-store",
            "register",
            "x",
            "--flavor=local",
            env={"HOLDALL_DB_BUSY_TIMEOUT": "1"},
        )
        err = error_of(busy)
        assert f"the metadata database {config_dir / 'holdall.db'} is busy" in err
        assert "HOLDALL_DB_BUSY_TIMEOUT=300" in err and "unreachable" not in err
        check_ctrl_c_stops_the_wait()
    assert holdall_process("artifact-store", "register", "x", "--flavor=local").code == 0
