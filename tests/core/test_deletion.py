"""Deleting versions: the CLI, lineage through tombstones, a store deleted after its
versions, and a migration that meets a delete."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from holdall import Client, pipeline
from holdall.artifacts.deletion import DeletedError
from holdall.artifacts.migration import Move, Progress
from holdall.processes import who
from tests.conftest import holdall_process
from tests.core.test_cli_artifact_store import error_of
from tests.core.test_migration import two_stores
from tests.fixtures.pipelines import make_numbers, total


def test_the_cli_asks_before_deleting_and_names_what_it_cannot_find() -> None:
    client = Client()
    store = client.active_stack.artifact_store
    version = client.save_artifact([1, 2, 3], "listed")
    unasked = holdall_process(
        "artifact", "version", "delete", "listed", "1", stdin=subprocess.DEVNULL
    )
    assert unasked.code == 1 and "pass -y" in unasked.err and "Traceback" not in unasked.err
    assert store.exists(version.uri)
    refused = holdall_process("artifact", "version", "delete", "listed", "1", input="n\n")
    assert refused.code != 0 and store.exists(version.uri)
    missing = holdall_process("artifact", "version", "delete", "listed", "7", "-y")
    assert missing.code == 1 and "artifact 'listed' has no version 7; it has 1" in missing.err
    nothing = holdall_process("artifact", "delete", "never-saved", "-y")
    assert nothing.code == 1 and "no artifact called 'never-saved'" in nothing.err
    done = holdall_process("artifact", "version", "delete", "listed", "1", input="y\n")
    assert done.code == 0, done.err
    assert "Deleted listed:1" in done.out and not store.exists(version.uri)
    again = holdall_process("artifact", "version", "delete", "listed", "1", "-y")
    assert again.code == 1 and "listed:1 was deleted on" in again.err
    shown = holdall_process("artifact", "versions", "listed", "--deleted", "-o", "json")
    assert shown.code == 0, shown.err
    assert f"by {who()}" in shown.out


@pipeline
def numbers_pipeline():
    total(make_numbers())


def test_lineage_runs_through_a_deleted_version(cli) -> None:
    client = Client()
    run = numbers_pipeline()
    numbers = client.get_artifact_version("numbers")
    assert cli("artifact", "version", "delete", "numbers", "1", "-y").code == 0
    tree = cli("artifact", "lineage", "total").out
    assert "numbers: numbers:1 (deleted)  <- make_numbers" in tree, tree
    own = cli("artifact", "lineage", "numbers:1")  # a tombstone's own lineage
    assert own.code == 0 and own.out.startswith("numbers:1 (deleted)  <- make_numbers"), own
    described = json.loads(cli("artifact", "describe", "numbers:1", "-o", "json").out)
    assert described["deleted"].endswith(f"by {who()}") and described["uri"] == numbers.uri
    steps = client.get_pipeline_run(run.name).steps
    assert steps["total"].inputs["numbers"].is_deleted  # what the step was given, still named
    assert steps["make_numbers"].outputs["numbers"].id == numbers.id
    assert client.load_artifact("total") == 6  # what it made stays


def test_a_store_deleted_after_its_versions_keeps_their_tombstones(cli, tmp_path: Path) -> None:
    client = Client()
    client.register_artifact_store("short_lived", "local", path=str(tmp_path / "short"))
    client.register_stack("brief", "short_lived")
    client.activate_stack("brief")
    numbers_pipeline()
    in_use = cli("artifact-store", "delete", "short_lived")
    assert in_use.code == 1
    for name in ("numbers", "total"):
        assert cli("artifact", "delete", name, "-y").code == 0
    client.activate_stack("default")
    client.delete_stack("brief")
    gone = cli("artifact-store", "delete", "short_lived")
    assert gone.code == 0, gone.err
    tombstone = client.get_artifact_version("numbers", 1, include_deleted=True)
    assert tombstone.is_deleted and tombstone.artifact_store_id is None
    assert "numbers: numbers:1 (deleted)" in cli("artifact", "lineage", "total:1").out
    assert "every version of artifact 'total' was deleted" in error_of(
        cli("artifact", "describe", "total")
    )
    with pytest.raises(DeletedError, match="total:1 was deleted on"):
        client.load_artifact("total", 1)


class DeletingOnce(Progress):
    """Deletes `label` once its first file has been copied, before its record can move."""

    def __init__(self, client: Client, label: str) -> None:
        self.client, self.label, self.done = client, label, False

    def file_done(self, move: Move, path: str, size: int, copied: bool) -> None:
        if move.label == self.label and not self.done:
            self.done = True
            name, _, number = self.label.partition(":")
            self.client.delete_artifact_version(name, number)


def test_a_version_deleted_while_it_migrates_leaves_no_copy_behind(tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    kept = client.save_artifact(b"kept" * 1000, "blob")
    doomed = client.save_artifact(b"doomed" * 1000, "blob")
    _, summary = client.migrate_artifact_store(
        "old", "new", progress=DeletingOnce(client, "blob:2"), jobs=1
    )
    assert summary.moved == ["blob:1"] and summary.deleted == ["blob:2"] and not summary.failed
    new = client.active_stack.artifact_store  # still "old": nothing changed the stack
    assert client.load_artifact("blob", 1) == b"kept" * 1000
    assert client.get_artifact_version("blob", 1).uri.startswith(f"{tmp_path}/new/")
    assert not (tmp_path / "new" / "_saved" / "blob" / "2").exists()
    assert not new.exists(doomed.uri)
    assert kept.id == client.get_artifact_version("blob", 1).id


def test_deleting_a_run_deletes_its_outputs_and_keeps_its_record(cli) -> None:
    client = Client()
    first, second = numbers_pipeline(), numbers_pipeline()
    made = client.get_artifact_version("numbers", 1)
    listed = cli("pipeline", "runs", "numbers_pipeline", "-o", "json")  # lists, as before
    assert [r["name"] for r in json.loads(listed.out)] == [first.name, second.name]
    done = cli("pipeline", "runs", "delete", first.name, "-y")
    assert done.code == 0, done.err
    assert "Deleted numbers:1" in done.out and "Deleted total:1" in done.out
    assert f"Deleted run {first.name}; its record stays for lineage" in done.out
    assert [r.name for r in client.list_pipeline_runs()] == [second.name]
    shown = json.loads(cli("pipeline", "runs", "list", "--deleted", "-o", "json").out)
    assert shown[0]["deleted"].endswith(f"by {who()}")
    tree = cli("artifact", "lineage", "total:1").out
    assert tree.startswith(f"total:1 (deleted)  <- total (run {first.name})"), tree
    assert client.load_artifact("total") == 6  # the second run's
    with pytest.raises(DeletedError):
        client.load_artifact(made.id)
    usage = json.loads(cli("artifact-store", "usage", "default", "-o", "json").out)
    assert usage == [
        {
            "artifact": "numbers",
            "versions": 1,
            "bytes": made.size,
            "classes": {"own": made.size},
            "deleted_versions": 1,
        },
        {
            "artifact": "total",
            "versions": 1,
            "bytes": 1,
            "classes": {"own": 1},
            "deleted_versions": 1,
        },
    ]


def test_a_run_keeps_what_another_run_used_and_a_running_run_is_refused(cli) -> None:
    from holdall.pipelines import records

    client = Client()
    first, second = numbers_pipeline(), numbers_pipeline()
    # A step of the second run that took the first run's output (as a ZenML step given an
    # artifact version does), recorded as the runner records inputs.
    step = client.get_pipeline_run(second.name).steps["total"]
    records.record_input(
        client.database, step.id, "earlier", client.get_artifact_version("numbers", 1).id
    )
    kept = cli("pipeline", "runs", "delete", first.name, "-y")
    assert kept.code == 0, kept.err
    assert f"kept numbers:1: used by run {second.name}" in kept.out
    assert client.load_artifact("numbers", 1) == {"values": [1, 2, 3]}
    stack = client.active_stack_model.id
    running = records.start_run(client.database, "numbers_pipeline", stack)  # this process's
    refused = cli("pipeline", "runs", "delete", running.name, "-y")
    assert refused.code == 1 and f"run {running.name} is still running" in refused.err
    assert "holdall artifact gc" in refused.err
    unasked = holdall_process("pipeline", "runs", "delete", second.name, stdin=subprocess.DEVNULL)
    assert unasked.code == 1 and "pass -y" in unasked.err


SAVE_MANY = """
import sys
from holdall import Client
for number in range(int(sys.argv[1])):
    Client().save_artifact(f"value {number}".encode() * 100, "busy")
    print(number, flush=True)
"""


def test_a_delete_beside_saves_of_the_same_name_takes_only_what_it_marked() -> None:
    """Every version the delete names is gone and every other one loads whole: a save that
    commits while the delete runs keeps its version."""
    saving = subprocess.Popen(
        [sys.executable, "-c", SAVE_MANY, "30"], stdout=subprocess.PIPE, text=True
    )
    assert saving.stdout is not None
    for _ in range(5):  # some versions exist before the delete begins
        saving.stdout.readline()
    deleted = holdall_process("artifact", "delete", "busy", "-y")
    saving.communicate(timeout=300)
    assert saving.returncode == 0 and deleted.code == 0, deleted.err
    lines = [line for line in deleted.out.splitlines() if line.startswith("Deleted busy:")]
    gone = {int(line.split()[1].split(":")[1]) for line in lines}
    client = Client()
    every = {v.version: v for v in client.list_artifact_versions("busy", include_deleted=True)}
    assert sorted(every) == list(range(1, 31))
    assert gone and {n for n, v in every.items() if v.is_deleted} == gone
    for number in sorted(set(every) - gone):
        assert client.load_artifact("busy", number) == f"value {number - 1}".encode() * 100


def test_prune_beside_gc_loses_nothing_that_should_stay() -> None:
    client = Client()
    for number in range(20):
        client.save_artifact(number, "pruned")
    sweeping = [
        subprocess.Popen([sys.executable, "-m", "holdall", "artifact", "gc"], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]  # fmt: skip
    pruned = holdall_process("artifact", "prune", "--keep-last", "5", "-y")
    for process in sweeping:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert pruned.code == 0, pruned.err
    assert [v.version for v in client.list_artifact_versions("pruned")] == list(range(16, 21))
    assert [client.load_artifact("pruned", n) for n in range(16, 21)] == list(range(15, 20))
    tombstones = client.list_artifact_versions("pruned", include_deleted=True)
    assert [v.version for v in tombstones if v.is_deleted] == list(range(1, 16))


def test_a_local_delete_follows_no_link_planted_in_the_store(tmp_path: Path) -> None:
    client = Client()
    store = client.active_stack.artifact_store
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    for path in ("data.bin", "sub/part.bin"):
        (outside / path).write_bytes(b"not the store's")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "part.bin").write_bytes(b"saved")
    (tree / "top.bin").write_bytes(b"saved")
    flat = client.save_artifact(b"saved", "planted")
    nested = client.save_artifact(tree, "planted")
    flat_folder = Path(store.resolve(flat.uri))
    names = [p.name for p in flat_folder.iterdir()]
    for name in names:  # each file the manifest names, now a link out of the store
        (flat_folder / name).unlink()
        (flat_folder / name).symlink_to(outside / "data.bin")
    nested_folder = Path(store.resolve(nested.uri))
    subfolder = next(p for p in nested_folder.rglob("sub") if p.is_dir())
    for child in subfolder.iterdir():
        child.unlink()
    subfolder.rmdir()
    subfolder.symlink_to(outside / "sub")  # a nested path through a link out of the store
    deleted = client.delete_artifact("planted")
    assert sorted(d.label for d in deleted.done) == ["planted:1", "planted:2"], deleted.failed
    assert not flat_folder.exists() and not nested_folder.exists()
    for path in ("data.bin", "sub/part.bin"):
        assert (outside / path).read_bytes() == b"not the store's"
