"""Deleting versions, on every installed flavor's real backend: the data goes, the record
stays; a delete killed midway is finished by gc; a load racing a delete gets the whole value
or a clear "deleted", never part of one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from holdall import Client
from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifacts.deletion import DeletedError
from holdall.metadata.tables import ArtifactVersionRow
from holdall.processes import who
from tests.conftest import holdall_process


def _statuses(client: Client, name: str) -> dict[int, str]:
    with client.database.session(read_only=True) as session:
        rows = session.scalars(
            select(ArtifactVersionRow).where(ArtifactVersionRow.artifact.has(name=name))
        )
        return {row.version: str(row.status) for row in rows}


def test_a_deleted_version_keeps_its_record_and_says_who_deleted_it(
    client: Client, store: BaseArtifactStore
) -> None:
    first = client.save_artifact({"weights": [1, 2]}, "model")
    client.save_artifact({"weights": [3, 4]}, "model")
    deleted = client.delete_artifact_version("model", 1)
    assert [d.label for d in deleted.done] == ["model:1"] and not deleted.failed
    assert not store.exists(first.uri)  # the data is gone
    with pytest.raises(DeletedError) as caught:
        client.load_artifact("model", 1)
    message = str(caught.value)
    assert "model:1 was deleted on " in message and f"by {who()}" in message
    assert "holdall artifact versions model" in message
    with pytest.raises(DeletedError):  # by its id too, and through a view made before
        first.load()
    assert client.load_artifact("model") == {"weights": [3, 4]}
    assert [v.version for v in client.list_artifact_versions("model")] == [2]
    tombstone = client.list_artifact_versions("model", include_deleted=True)[0]
    assert tombstone.is_deleted and tombstone.deleted_by == who() and tombstone.uri == first.uri
    with pytest.raises(DeletedError):  # deleting it again says it is deleted already
        client.delete_artifact_version("model", 1)
    assert client.save_artifact({"weights": [5]}, "model").version == 3  # 1 is not reused
    everything = client.delete_artifact("model")
    assert sorted(d.label for d in everything.done) == ["model:2", "model:3"]
    with pytest.raises(DeletedError, match="every version of artifact 'model' was deleted"):
        client.load_artifact("model")


KILLED_DELETE = """
    import sys, time
    from holdall import Client
    from holdall.artifact_stores.object_store import ObjectArtifactStore

    client = Client()
    store_class = type(client.active_stack.artifact_store)
    at = int(sys.argv[1])

    def killed_here():
        print("deleting", flush=True)
        time.sleep(120)

    if issubclass(store_class, ObjectArtifactStore):
        original_batch = store_class.remove_files

        def remove_files(self, paths):  # every version's files in one batch
            original_batch(self, paths[:at])
            killed_here()

        store_class.remove_files = remove_files
    else:
        original = store_class.remove_versions

        def remove_versions(self, folders):  # a folder a version
            for index, (folder, names) in enumerate(folders.items()):
                if index == at % 6:
                    self.remove(f"{folder}/{sorted(names)[0]}")  # one of its files gone
                    killed_here()
                original(self, {folder: names})

        store_class.remove_versions = remove_versions
    client.delete_artifact("doomed")
"""

VERSIONS = 6


def _tree(folder: Path, number: int) -> Path:
    tree = folder / f"tree-{number}"
    tree.mkdir()
    for index in range(3):
        (tree / f"part-{index}.bin").write_bytes(bytes([number, index]) * 1000)
    return tree


def test_a_delete_killed_at_a_random_moment_is_finished_by_gc(
    client: Client, store: BaseArtifactStore, tmp_path: Path
) -> None:
    saved = [client.save_artifact(_tree(tmp_path, n), "doomed") for n in range(VERSIONS)]
    kept = client.save_artifact(b"another artifact", "kept")
    # Killed after a random number of files (an object store's one batch) or of versions'
    # folders (a local store), and in the middle of one folder.
    killed_at = random.randrange(VERSIONS * 3)
    script = tmp_path / "victim.py"
    script.write_text(textwrap.dedent(KILLED_DELETE))
    process = subprocess.Popen(
        [sys.executable, str(script), str(killed_at)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "deleting"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    # Every version was marked before any data went: none is visible, whatever is left.
    statuses = _statuses(client, "doomed")
    assert sorted(statuses) == list(range(1, VERSIONS + 1))
    # Finished together, once the batch is gone: none is yet.
    assert set(statuses.values()) == {"deleting"}, (killed_at, statuses)
    with pytest.raises(DeletedError, match="is being deleted"):
        client.load_artifact("doomed", VERSIONS)
    assert client.load_artifact("kept") == b"another artifact"

    dry = holdall_process("artifact", "gc", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"would finish the delete of doomed:{VERSIONS}" in dry.out
    finished = holdall_process("artifact", "gc")
    assert finished.code == 0, finished.err
    assert f"finished the delete of doomed:{VERSIONS}" in finished.out
    assert set(_statuses(client, "doomed").values()) == {"deleted"}
    assert not any(store.exists(version.uri) for version in saved)
    assert store.exists(kept.uri)
    assert client.save_artifact(b"after", "doomed").version == VERSIONS + 1


def test_a_load_racing_a_delete_gets_the_whole_value_or_deleted(
    client: Client, store: BaseArtifactStore
) -> None:
    values = {n: os.urandom(256 * 1024) + bytes([n]) for n in range(1, 9)}
    for number in sorted(values):
        client.save_artifact(values[number], "raced")
    outcomes: list[tuple[int, Any]] = []
    stop = threading.Event()

    def load_until_stopped(number: int) -> None:
        while not stop.is_set():
            try:
                loaded = Client().load_artifact("raced", number)
            except DeletedError as exc:
                outcomes.append((number, exc))
                return
            outcomes.append((number, loaded))

    loaders = [threading.Thread(target=load_until_stopped, args=(n,)) for n in values]
    for loader in loaders:
        loader.start()
    try:
        for number in sorted(values):  # each deleted while its loader is reading
            client.delete_artifact_version("raced", number)
        for loader in loaders:  # each ends by itself: its next load finds its version gone
            loader.join(120)
    finally:  # a loader still going after that is a failure, not a hang
        stop.set()
        for loader in loaders:
            loader.join(120)
    assert not any(loader.is_alive() for loader in loaders)
    for number, outcome in outcomes:
        if isinstance(outcome, DeletedError):
            assert f"raced:{number} " in str(outcome)
        else:
            assert outcome == values[number], f"raced:{number} came back partial or wrong"
    assert {n for n, o in outcomes if isinstance(o, DeletedError)} == set(values)
