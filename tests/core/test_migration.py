"""`holdall artifact-store migrate` between local stores: what moves, what is checked, and what
survives bad input, a corrupted source, a kill and a second migration at once. (Across the
clouds: tests/integrations/test_migration_across_clouds.py.)"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pytest

from holdall import Client, load_artifact, pipeline, step
from tests.conftest import assert_interrupted, holdall_process
from tests.core.test_cli_artifact_store import error_of
from tests.fixtures.pipelines import make_numbers, total

MiB = 1024 * 1024


@pipeline
def numbers_pipeline():
    total(make_numbers())


def two_stores(tmp_path: Path) -> Client:
    """`old` (active, on stack `current`) and `new`, both local folders."""
    client = Client()
    client.register_artifact_store("old", "local", path=str(tmp_path / "old"))
    client.register_artifact_store("new", "local", path=str(tmp_path / "new"))
    client.register_stack("current", "old")
    client.activate_stack("current")
    return client


def test_a_dry_run_names_what_would_move_and_moves_nothing(cli, tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    client.save_artifact(b"x" * 1000, "blob")
    client.save_artifact({"a": 1}, "blob")
    numbers_pipeline()
    dry = cli("artifact-store", "migrate", "old", "new", "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    planned = json.loads(dry.out)
    labels = [move["version"] for move in planned["moves"]]
    assert labels == ["blob:1", "blob:2", "numbers:1", "total:1"]
    assert planned["versions"] == 4 and planned["files"] == 4
    assert planned["bytes"] == sum(move["bytes"] for move in planned["moves"]) > 1000
    assert planned["moves"][2]["to"] == f"{tmp_path}/new/numbers_pipeline/make_numbers/numbers/1"
    table = cli("artifact-store", "migrate", "old", "new", "--dry-run")
    assert "would move 4 versions: 4 files" in table.out
    assert client.get_artifact_version("blob", 1).uri.startswith(f"{tmp_path}/old/")
    assert not (tmp_path / "new" / "_saved").exists()


def test_versions_move_with_their_data_and_lineage(cli, tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    run = numbers_pipeline()
    saved = client.save_artifact(os.urandom(3 * MiB), "blob")
    before = {name: client.get_artifact_version(name).id for name in ("numbers", "total", "blob")}
    moved = cli("artifact-store", "migrate", "old", "new", "-o", "json")
    assert moved.code == 0, moved.err
    summary = json.loads(moved.out)
    assert sorted(summary["moved"]) == ["blob:1", "numbers:1", "total:1"]
    assert summary["files_copied"] == 3 and summary["files_kept"] == 0 and not summary["failed"]
    assert summary["bytes_copied"] > 3 * MiB
    for name, version_id in before.items():
        version = client.get_artifact_version(name)
        assert version.id == version_id  # the same version, its record moved
        assert version.uri.startswith(f"{tmp_path}/new/")
    described = cli("artifact", "describe", "numbers")
    assert f"{tmp_path}/new/numbers_pipeline/make_numbers/numbers/1" in described.out
    assert client.load_artifact("blob") == client.load_artifact(saved.id)
    assert client.load_artifact("total") == 6
    # Lineage is unchanged: the run's step still took the moved version as its input.
    steps = client.get_pipeline_run(None, run.name).steps
    assert steps["total"].inputs["numbers"].id == before["numbers"]
    # The source copy stays unless asked otherwise.
    assert (tmp_path / "old" / "_saved" / "blob" / "1").exists()
    again = json.loads(cli("artifact-store", "migrate", "old", "new", "-o", "json").out)
    assert again["moved"] == [] and again["files_copied"] == 0


@step
def doubled() -> Annotated[int, "doubled"]:
    # Reads an artifact made on the old store, from inside a step on the migrated stack.
    return int(load_artifact("total")) * 2


@pipeline
def later_pipeline():
    doubled()


def test_a_pipeline_on_the_migrated_stack_reads_what_the_old_store_made(
    cli, tmp_path: Path
) -> None:
    client = two_stores(tmp_path)
    numbers_pipeline()
    assert cli("stack", "copy", "current", "migrated").code == 0
    assert cli("stack", "update", "migrated", "-a", "new").code == 0
    assert cli("artifact-store", "migrate", "old", "new", "--delete-source").code == 0
    assert not (tmp_path / "old" / "numbers_pipeline" / "make_numbers" / "numbers" / "1").exists()
    client.activate_stack("migrated")
    run = later_pipeline()
    output = run.steps["doubled"].outputs["doubled"]
    assert output.uri.startswith(f"{tmp_path}/new/later_pipeline/")
    assert client.load_artifact("doubled") == 12


def test_only_the_named_artifacts_and_versions_move(cli, tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    for value in (1, 2, 3):
        client.save_artifact(value, "dataset")
    client.save_artifact("m", "model")
    client.save_artifact("o", "other")
    moved = cli(
        "artifact-store", "migrate", "old", "new", "--artifact", "model",
        "--artifact", "dataset:3", "-o", "json",
    )  # fmt: skip
    assert moved.code == 0, moved.err
    assert sorted(json.loads(moved.out)["moved"]) == ["dataset:3", "model:1"]
    assert client.get_artifact_version("dataset", 2).uri.startswith(f"{tmp_path}/old/")
    assert client.get_artifact_version("dataset", 3).uri.startswith(f"{tmp_path}/new/")
    assert client.get_artifact_version("other").uri.startswith(f"{tmp_path}/old/")


def test_bad_input_is_refused_clearly(cli, tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    client.save_artifact(1, "dataset")
    client.register_artifact_store("inside", "local", path=str(tmp_path / "old" / "nested"))
    assert "'old' is both the source and the destination" in error_of(
        cli("artifact-store", "migrate", "old", "old")
    )
    assert "overlap: one holds the other's data" in error_of(
        cli("artifact-store", "migrate", "old", "inside")
    )
    assert "no artifact called 'nope'" in error_of(
        cli("artifact-store", "migrate", "old", "new", "--artifact", "nope")
    )
    assert "artifact 'dataset' has no version 7" in error_of(
        cli("artifact-store", "migrate", "old", "new", "--artifact", "dataset:7")
    )
    for selector in ("dataset:x", "dataset:", ":1", ""):
        assert "a version is a number" in error_of(
            cli("artifact-store", "migrate", "old", "new", "--artifact", selector)
        ), selector
    assert "no artifact store called 'gone'" in error_of(
        cli("artifact-store", "migrate", "old", "gone")
    )
    assert client.get_artifact_version("dataset").uri.startswith(f"{tmp_path}/old/")


def test_a_corrupted_source_file_is_named_and_its_version_stays(cli, tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    client.save_artifact(b"intact", "good")
    bad = client.save_artifact(b"will be damaged", "bad")
    (Path(bad.uri) / "data.bin").write_bytes(b"was damaged!!!!")  # same size, other bytes
    result = cli("artifact-store", "migrate", "old", "new", "-o", "json")
    assert result.code == 1 and "Traceback" not in result.err
    summary = json.loads(result.out)
    assert summary["moved"] == ["good:1"]
    assert f"{bad.uri}/data.bin is not what was saved" in summary["failed"]["bad:1"]
    assert f"failed bad:1: bad:1: {bad.uri}/data.bin is not what was saved" in result.err
    assert "1 versions could not be moved and stay in 'old': bad:1" in result.err
    assert client.get_artifact_version("bad").uri == bad.uri
    assert not (tmp_path / "new" / "_saved" / "bad" / "1" / "data.bin").exists()
    assert client.load_artifact("good") == b"intact"


SLOW_MIGRATION = """
import sys, time
from holdall.cli.main import main
import holdall.artifacts.migration as migration
real = migration.copy_file
def slow(*args):
    time.sleep(0.05)  # a migration long enough to be caught running
    return real(*args)
migration.copy_file = slow
sys.argv = ["holdall", "artifact-store", "migrate", "old", "new", "--jobs", "1", *sys.argv[1:]]
main()
"""


def _moved(tmp_path: Path) -> int:
    """How many versions' records say they are in the store at tmp_path/new."""
    from sqlalchemy import func, select

    from holdall.metadata.tables import ArtifactVersionRow

    with Client().database.session(read_only=True) as session:
        query = select(func.count()).where(ArtifactVersionRow.uri.startswith(f"{tmp_path}/new/"))
        return int(session.scalar(query) or 0)


def _moved_at_least(tmp_path: Path, count: int) -> bool:
    return _moved(tmp_path) >= count


def _until(process: subprocess.Popen[bytes], seen: Callable[[], bool]) -> None:
    """Wait until `seen()` holds while `process` still runs (a test failure if it ends
    first, or never gets there)."""
    deadline = time.monotonic() + 120
    while not seen():
        assert process.poll() is None, "it ended before the state the test waits for"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def slow_migration(*options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_MIGRATION, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_killed_anywhere_nothing_points_at_incomplete_data_and_a_rerun_finishes(
    tmp_path: Path,
) -> None:
    client = two_stores(tmp_path)
    values = {f"a{i}": os.urandom(256 * 1024) for i in range(60)}
    for name, value in values.items():
        client.save_artifact(value, name)
    moved_at_kills = []
    for more in (1, 8, 15):  # each run moves some versions, and is killed once seen to
        wanted = _moved(tmp_path) + more
        migrating = slow_migration("--jobs", "2", "--delete-source")
        _until(migrating, functools.partial(_moved_at_least, tmp_path, wanted))
        migrating.kill()
        migrating.communicate()
        for name, value in values.items():  # every version loads, from one store or the other
            assert Client().load_artifact(name) == value, name
        moved = [
            n
            for n in values
            if client.get_artifact_version(n).uri.startswith(str(tmp_path / "new"))
        ]
        moved_at_kills.append(len(moved))
    assert any(0 < moved < len(values) for moved in moved_at_kills), moved_at_kills
    finished = holdall_process("artifact-store", "migrate", "old", "new", "--delete-source")
    assert finished.code == 0, finished.err
    for name, value in values.items():
        version = client.get_artifact_version(name)
        assert version.uri.startswith(f"{tmp_path}/new/"), name
        assert client.load_artifact(name) == value
    assert not [path for path in (tmp_path / "old").rglob("data.bin")]


def test_a_second_migration_of_a_busy_store_is_refused(tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    for i in range(60):
        client.save_artifact(i, f"n{i}")
    go = tmp_path / "go"
    first = paused_migration(go)  # holds both stores until told to go on
    try:
        second = holdall_process("artifact-store", "migrate", "old", "new")
        assert second.code == 1 and "Traceback" not in second.err
        assert "artifact store 'old' is busy: the migration from 'old' to 'new' runs" in (
            second.err
        )
        assert f"process {first.pid}" in second.err
        reverse = holdall_process("artifact-store", "migrate", "new", "old")
        assert reverse.code == 1 and "is busy" in reverse.err
    finally:
        go.touch()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "Moved 60 versions from 'old' to 'new'" in out.decode()
    for i in range(60):
        assert client.get_artifact_version(f"n{i}").uri.startswith(f"{tmp_path}/new/")


READER = """
import sys
from holdall import Client
expected = {n: open(f, "rb").read() for n, f in zip(sys.argv[2::2], sys.argv[3::2])}
loads, moved = 0, False
while not moved:
    for name, value in expected.items():
        assert Client().load_artifact(name) == value, name
        loads += 1
    if loads == len(expected):
        print("ready", flush=True)
    moved = all(
        Client().get_artifact_version(name).uri.startswith(sys.argv[1]) for name in expected
    )
print(loads, flush=True)
"""


def test_loads_work_at_every_moment_of_a_migration_that_deletes_its_source(
    tmp_path: Path,
) -> None:
    client = two_stores(tmp_path)
    arguments = [str(tmp_path / "new")]
    for i in range(40):
        value = os.urandom(64 * 1024)
        client.save_artifact(value, f"r{i}")
        (tmp_path / f"r{i}.bin").write_bytes(value)
        arguments += [f"r{i}", str(tmp_path / f"r{i}.bin")]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert reader.stdout is not None
    assert reader.stdout.readline() == b"ready\n"
    migration = slow_migration("--delete-source")  # 40 versions, 50 ms each
    _, err = migration.communicate(timeout=120)
    assert migration.returncode == 0, err.decode()
    loads, problems = reader.communicate(timeout=120)
    assert reader.returncode == 0, problems.decode()  # every load, all along, gave its value
    assert int(loads) > 40 * 3  # the reader went round while the migration ran
    assert not [path for path in (tmp_path / "old").rglob("data.bin")]


def test_on_a_terminal_the_progress_is_one_line_redrawn(tmp_path: Path) -> None:
    import pty

    client = two_stores(tmp_path)
    for i in range(20):
        client.save_artifact(os.urandom(100_000), f"t{i}")
    controller, terminal = pty.openpty()
    migration = subprocess.Popen(
        [sys.executable, "-c", SLOW_MIGRATION], stdout=subprocess.PIPE, stderr=terminal
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    out, _ = migration.communicate(timeout=60)
    os.close(controller)
    assert migration.returncode == 0
    text = shown.decode()
    assert text.count("\r[") >= 2  # redrawn as it went
    assert "20/20 files" in text and "ETA 0:00:00" in text and "/s" in text
    assert "moved t" not in text  # no line per version on a terminal
    assert "Moved 20 versions from 'old' to 'new'" in out.decode()


def test_ctrl_c_stops_it_cleanly_and_a_rerun_finishes(tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    for i in range(40):
        client.save_artifact(i, f"c{i}")
    migration = slow_migration()
    _until(migration, lambda: _moved(tmp_path) >= 3)  # interrupted once seen at work
    migration.send_signal(signal.SIGINT)
    _, err = migration.communicate(timeout=60)
    assert_interrupted(migration, err)
    moved = [i for i in range(40) if "/new/" in client.get_artifact_version(f"c{i}").uri]
    assert 0 < len(moved) < 40, moved
    finished = holdall_process("artifact-store", "migrate", "old", "new")  # not "busy"
    assert finished.code == 0, finished.err
    assert all(client.load_artifact(f"c{i}") == i for i in range(40))


def test_files_already_at_the_destination_are_kept_only_when_they_check_out(
    cli, tmp_path: Path
) -> None:
    import shutil

    client = two_stores(tmp_path)
    bad_bytes = os.urandom(5000)
    good = client.save_artifact(os.urandom(5000), "good")
    bad = client.save_artifact(bad_bytes, "bad")
    # As an interrupted run leaves them: one whole copy, one that is not what was saved.
    for version, damage in ((good, False), (bad, True)):
        target = tmp_path / "new" / Path(version.uri).relative_to(tmp_path / "old")
        shutil.copytree(version.uri, target)
        if damage:
            (target / "data.bin").write_bytes(b"leftover")
    summary = json.loads(cli("artifact-store", "migrate", "old", "new", "-o", "json").out)
    assert sorted(summary["moved"]) == ["bad:1", "good:1"]
    assert summary["files_kept"] == 1 and summary["files_copied"] == 1
    assert client.get_artifact_version("bad").uri.startswith(str(tmp_path / "new"))
    assert client.load_artifact("bad") == bad_bytes  # copied again over the leftover


# A migration that stops before its first record moves, its files copied, until the test
# creates the file it names: the test acts on that known state, whatever the machine's speed.
PAUSED_MIGRATION = """
import os, sys, time
from holdall.cli.main import main
import holdall.artifacts.migration as migration
real, go = migration._move_record, sys.argv[1]
def paused(*args):
    if not os.path.exists(go):
        print("copied", flush=True)
        while not os.path.exists(go):
            time.sleep(0.01)
    return real(*args)
migration._move_record = paused
sys.argv = ["holdall", "artifact-store", "migrate", "old", "new", "--jobs", "1"]
main()
"""


def paused_migration(go: Path) -> subprocess.Popen[bytes]:
    migrating = subprocess.Popen(
        [sys.executable, "-c", PAUSED_MIGRATION, str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert migrating.stdout is not None and migrating.stdout.readline().strip() == b"copied"
    return migrating


def test_the_stores_of_a_running_migration_cannot_be_updated_or_deleted(tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    for i in range(5):
        client.save_artifact(i, f"n{i}")
    go = tmp_path / "go"
    migrating = paused_migration(go)
    try:
        for command in (
            ("artifact-store", "update", "new", f"--path={tmp_path / 'elsewhere'}"),
            ("artifact-store", "delete", "new"),
            ("artifact-store", "update", "old", "--path=/x"),
        ):
            err = error_of(holdall_process(*command))
            assert "is busy: the migration from 'old' to 'new' runs in process" in err, err
            assert f"process {migrating.pid}" in err and "would strand" in err, err
            assert f"kill {migrating.pid}" in err, err
    finally:
        go.touch()
        _, err_bytes = migrating.communicate(timeout=120)
    assert migrating.returncode == 0, err_bytes
    for i in range(5):
        assert Client().load_artifact(f"n{i}") == i
        assert client.get_artifact_version(f"n{i}").uri.startswith(f"{tmp_path}/new/")
    assert client.get_artifact_store("new").config["path"] == str(tmp_path / "new")


def test_a_record_changed_under_a_migration_stops_it_and_strands_nothing(
    tmp_path: Path,
) -> None:
    """An update that checked the lock before the migration took it may still commit: the
    migration reads its stores' records again before each move."""
    from holdall.metadata.tables import ComponentRow

    client = two_stores(tmp_path)
    for i in range(5):
        client.save_artifact(i, f"n{i}")
    go = tmp_path / "go"
    migrating = paused_migration(go)
    try:
        with Client().database.session() as session:  # as that update commits, lock unseen
            row = session.get_one(ComponentRow, client.get_artifact_store("new").id)
            config = json.loads(row.config)
            config["path"] = str(tmp_path / "elsewhere")
            row.config = json.dumps(config)
    finally:
        go.touch()
        _, err_bytes = migrating.communicate(timeout=120)
    err = err_bytes.decode()
    assert migrating.returncode == 1, err
    assert "artifact store 'new' had its --path changed during the migration" in err, err
    assert "Traceback" not in err
    for i in range(5):  # every version still where its record says, and whole
        assert Client().load_artifact(f"n{i}") == i
        assert client.get_artifact_version(f"n{i}").uri.startswith(f"{tmp_path}/old/")


def _staged_in_versions(root: Path) -> list[Path]:
    return [path for path in root.rglob(".holdall-staged_*") if path.parent != root]


def test_a_rerun_clears_what_a_killed_migration_staged_in_the_destination(
    tmp_path: Path,
) -> None:
    client = two_stores(tmp_path)
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(64 * MiB))
    client.save_artifact(folder, "dataset")
    migrating = subprocess.Popen(
        [sys.executable, "-c", SLOW_MIGRATION], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # Killed on what it left: a staged copy, half written, in the destination version folder
    # (not the store's marker, staged at its root first: `artifact gc` clears that one).
    deadline = time.monotonic() + 60
    while not _staged_in_versions(tmp_path / "new"):
        assert migrating.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    migrating.kill()
    migrating.communicate()
    rerun = holdall_process("artifact-store", "migrate", "old", "new")
    assert rerun.code == 0, rerun.err
    assert not _staged_in_versions(tmp_path / "new")
    loaded = Client().load_artifact("dataset")
    assert (loaded / "big.bin").read_bytes() == (folder / "big.bin").read_bytes()
    assert client.get_artifact_version("dataset").uri.startswith(f"{tmp_path}/new/")


@pytest.mark.parametrize("damage", ["missing", "folder"])
def test_a_source_file_gone_or_made_a_folder_is_named_as_damage(
    cli, tmp_path: Path, damage: str
) -> None:
    client = two_stores(tmp_path)
    broken = client.save_artifact(b"will be damaged", "broken")
    client.save_artifact(b"intact", "good")
    data = Path(broken.uri) / "data.bin"
    data.unlink()
    if damage == "folder":
        data.mkdir()
    result = cli("artifact-store", "migrate", "old", "new")
    assert result.code == 1
    what = "is missing" if damage == "missing" else "is a folder where the version recorded"
    assert f"broken:1: {data} {what}" in result.err, result.err
    assert "FileNotFoundError" not in result.err and "IsADirectoryError" not in result.err
    assert client.get_artifact_version("broken").uri == broken.uri  # stays where it was
    assert client.load_artifact("good") == b"intact"
