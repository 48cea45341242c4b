"""A disk that fills up under the metadata database: said so, and nothing left half done.

The disk is real: a small tmpfs mounted for the test (which needs root, as CI has).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import holdall_process
from tests.fixtures.disks import fill, small_disk

DISK_BYTES = 4 * 1024 * 1024


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "tiny-disk", DISK_BYTES) as mount_point:
        yield mount_point


def use_a_roomy_store(env: dict[str, str], store: Path) -> None:
    """The active stack saves into `store`, on another, roomy, disk."""
    for command in (
        ("artifact-store", "register", "roomy", "--flavor=local", f"--path={store}"),
        ("stack", "register", "roomy", "-a", "roomy"),
        ("stack", "set", "roomy"),
    ):
        result = holdall_process(*command, env=env)
        assert result.code == 0, result.err


SAVE_WHILE_THE_DISK_FILLS = """
import sys
from pathlib import Path
from holdall import Client
from holdall.errors import HoldallError
from holdall.materializers import BaseMaterializer

FILLER = Path(sys.argv[1])


def fill_the_disk():
    with FILLER.open("wb") as handle:
        try:
            while True:
                handle.write(b"f" * 65536)
                handle.flush()
        except OSError:
            pass


class ManyFiles(BaseMaterializer):
    ASSOCIATED_TYPES = ("builtins.bytearray",)

    def save(self, data):
        # A manifest of 2,000 files: its commit needs room the log of the database lacks.
        for number in range(2000):
            with self.artifact_store.open(self.path(f"part-{number}.bin"), "wb") as handle:
                handle.write(bytes(data))
        fill_the_disk()  # another program takes the last of the disk meanwhile

    def load(self, data_type):
        return bytearray(self.artifact_store.open(self.path("part-0.bin"), "rb").read())


try:
    Client().save_artifact(bytearray(b"x"), "thing")
except HoldallError as exc:
    print(exc)
    sys.exit(1)
"""


def test_a_disk_full_at_commit_says_so_and_leaves_no_data(tiny_disk: Path, tmp_path: Path) -> None:
    env = {"HOLDALL_CONFIG_DIR": str(tiny_disk / "config")}
    store = tmp_path / "store"  # the data on another, roomy, disk
    use_a_roomy_store(env, store)
    script = tmp_path / "save.py"
    script.write_text(SAVE_WHILE_THE_DISK_FILLS)
    filler = tiny_disk / "filler"
    save = subprocess.run(
        [sys.executable, str(script), str(filler)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert save.returncode == 1, save.stderr
    assert "the disk under the metadata database is full" in save.stdout, save.stdout
    assert f"free space on {tiny_disk / 'config'}" in save.stdout
    assert "Traceback" not in save.stdout + save.stderr
    leftovers = [p for p in store.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert leftovers == []  # its 2,000 files went with the failed commit
    listed = holdall_process("artifact", "list", "-o", "json", env=env)
    assert listed.code == 0 and json.loads(listed.out) == [], listed  # reads still work

    filler.unlink()
    gc = holdall_process("artifact", "gc", env=env)
    assert gc.code == 0, gc.err
    assert "thing:1: (no data was written)" in gc.out
    assert "1 interrupted save(s)" in gc.out


def test_a_full_disk_is_named_by_every_command_reads_included(tiny_disk: Path) -> None:
    env = {"HOLDALL_CONFIG_DIR": str(tiny_disk / "config")}
    made = holdall_process("artifact-store", "register", "s", "--flavor=local", env=env)
    assert made.code == 0, made.err
    filler = tiny_disk / "filler"
    fill(filler)
    for command in (("artifact", "list"), ("artifact-store", "list"), ("stack", "list")):
        result = holdall_process(*command, env=env)
        assert result.code == 1, result.out
        assert "the disk under the metadata database is full" in result.err, result.err
        assert "check that the database is reachable" not in result.err
    filler.unlink()
    assert holdall_process("artifact-store", "list", env=env).code == 0


def test_a_prune_on_a_full_disk_says_so_and_deletes_nothing(
    tiny_disk: Path, tmp_path: Path
) -> None:
    env = {"HOLDALL_CONFIG_DIR": str(tiny_disk / "config")}
    store = tmp_path / "store"
    use_a_roomy_store(env, store)
    save = "from holdall import Client\nfor n in range(6): Client().save_artifact(n, 'kept')"
    saved = subprocess.run([sys.executable, "-c", save], env={**os.environ, **env}, timeout=120)
    assert saved.returncode == 0
    folders = sorted(p for p in store.rglob("kept/*") if p.is_dir())
    assert len(folders) == 6
    filler = tiny_disk / "filler"
    fill(filler)
    pruned = holdall_process("artifact", "prune", "--keep-last", "2", "-y", env=env)
    assert pruned.code == 1 and "the disk under the metadata database is full" in pruned.err
    assert "Traceback" not in pruned.err
    assert sorted(p for p in store.rglob("kept/*") if p.is_dir()) == folders  # all still there
    filler.unlink()
    again = holdall_process("artifact", "prune", "--keep-last", "2", "-y", env=env)
    assert again.code == 0 and "Pruned 4 version(s)" in again.out, again.err
    listed = holdall_process("artifact", "versions", "kept", "-o", "json", env=env)
    assert [v["version"] for v in json.loads(listed.out)] == [5, 6]
