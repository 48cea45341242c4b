"""One store, one metadata database: a second database never writes into a store it does
not own (teammates with their own config dirs, a reset database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from holdall import Client, load_artifact, save_artifact
from holdall.artifact_stores.ownership import MARKER, StoreOwnedError
from tests.conftest import holdall_process
from tests.core.test_cli_artifact_store import error_of

SAVE_AS_OTHER = """
import sys
from holdall import Client
client = Client()
client.register_artifact_store("shared", sys.argv[1], path=sys.argv[2], config=dict(
    (k, v) for k, _, v in (a.partition("=") for a in sys.argv[3:])))
client.register_stack("shared", "shared")
client.activate_stack("shared")
client.save_artifact({"theirs": True}, "model")
"""


def as_other_database(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A teammate: another config dir, so another metadata database."""
    return subprocess.run(
        [sys.executable, "-c", SAVE_AS_OTHER, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HOLDALL_CONFIG_DIR": str(tmp_path / "teammate")},
        timeout=120,
    )


@pytest.fixture
def owned(tmp_path: Path) -> Path:
    """A local store this test's database has written to."""
    shared = tmp_path / "shared"
    client = Client()
    client.register_artifact_store("mine", "local", path=str(shared))
    client.register_stack("mine", "mine")
    client.activate_stack("mine")
    save_artifact({"mine": True}, "model")
    return shared


def test_the_first_write_leaves_the_marker(owned: Path) -> None:
    marker = json.loads((owned / MARKER).read_text())
    assert marker == {"database": Client().database.identity}


def test_another_database_may_not_register_or_write_a_local_store_it_does_not_own(
    owned: Path, tmp_path: Path
) -> None:
    other = {"HOLDALL_CONFIG_DIR": str(tmp_path / "teammate")}
    err = error_of(
        holdall_process(
            "artifact-store", "register", "s", "-f", "local", f"--path={owned}", env=other
        )
    )
    assert f"artifact store 's' at {owned} belongs to another metadata database" in err
    assert "share one database (HOLDALL_DATABASE_URL" in err
    assert holdall_process("artifact-store", "register", "s", "-f", "local", env=other).code == 0
    err = error_of(holdall_process("artifact-store", "update", "s", f"--path={owned}", env=other))
    assert "belongs to another metadata database" in err
    saved = as_other_database(tmp_path, "local", str(owned))
    assert saved.returncode == 1 and "StoreOwnedError" in saved.stderr
    assert load_artifact("model") == {"mine": True}
    assert save_artifact({"mine": 2}, "model").version == 2


def test_a_store_from_before_markers_gets_one(owned: Path) -> None:
    (owned / MARKER).unlink()  # as a store written by holdall 0.1.0 has none
    Client.close_shared()
    assert save_artifact({"again": True}, "model").version == 2
    assert (owned / MARKER).is_file()


def test_a_damaged_marker_is_named(owned: Path) -> None:
    (owned / MARKER).write_text("not json")
    Client.close_shared()
    with pytest.raises(StoreOwnedError, match=f"the marker {owned}/{MARKER} .* is damaged"):
        save_artifact({"x": 1}, "model")


def test_a_store_inside_another_databases_version_folder_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    saved = as_other_database(tmp_path, "local", str(theirs))
    assert saved.returncode == 0, saved.stderr
    version_folder = theirs / "_saved" / "model" / "1"
    before = sorted(p.name for p in version_folder.iterdir())
    err = error_of(
        holdall_process(
            "artifact-store", "register", "s", "-f", "local", f"--path={version_folder}"
        )
    )
    assert f"artifact store 's' at {version_folder} is inside {theirs}, a store of another" in err
    assert "fix: give this store a path outside it: holdall artifact-store register s " in err
    assert "s" not in [store.name for store in Client().list_artifact_stores()]
    assert sorted(p.name for p in version_folder.iterdir()) == before  # nothing written
    # A store inside a store of this database's own is refused by nothing.
    mine = tmp_path / "mine"
    client = Client()
    client.register_artifact_store("outer", "local", path=str(mine))
    client.register_stack("outer", "outer")
    client.activate_stack("outer")
    save_artifact(1, "n")
    client.register_artifact_store("nested", "local", path=str(mine / "_saved" / "n" / "1"))
    client.register_stack("nested", "nested")
    client.activate_stack("nested")
    save_artifact(2, "m")
    assert load_artifact("m") == 2
