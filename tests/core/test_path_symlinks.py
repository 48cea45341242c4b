"""Symbolic links in a saved `Path`: followed as `cp -rL` follows them (what a link leads to
is stored), and refused, before anything is written, where that could never end or come
back as it was: a link to a FIFO, a device, nothing at all, or a folder that contains it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from holdall.client import Client
from holdall.errors import HoldallError
from tests.fixtures.waiting import bounded

HANG_S = 60.0


def _save(path: Path, name: str) -> BaseException | None:
    """Save `path`; what it raised. A save that never ends fails the test."""
    return bounded(lambda: Client().save_artifact(path, name), HANG_S)[1]


def _written(config_dir: Path, name: str) -> list[Path]:
    return [p for p in (config_dir / "local_stores").rglob("*") if name in p.parts]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "kept.txt").write_text("kept")
    return folder


@pytest.mark.parametrize("kind", ["fifo", "device", "dangling", "loop"])
def test_a_link_that_could_not_come_back_is_refused_before_anything_is_written(
    kind: str, tmp_path: Path, config_dir: Path
) -> None:
    folder = _folder(tmp_path)
    Client().save_artifact(b"the store exists", "first")
    link = folder / "link"
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        link.symlink_to(tmp_path / "pipe")  # reading it would wait for a writer for ever
    elif kind == "device":
        link.symlink_to("/dev/zero")  # reading it would never end
    elif kind == "dangling":
        link.symlink_to(tmp_path / "nowhere")
    else:
        (folder / "inner").mkdir()
        (folder / "inner" / "up").symlink_to(folder)  # data/inner/up/inner/up/...
    error = _save(folder, f"linked-{kind}")
    assert isinstance(error, HoldallError), repr(error)
    assert "fix:" in str(error) and str(folder) in str(error), str(error)
    assert _written(config_dir, f"linked-{kind}") == []
    with pytest.raises(HoldallError, match=f"no artifact called 'linked-{kind}'"):
        Client().get_artifact_version(f"linked-{kind}")


def test_links_to_files_and_folders_are_stored_as_what_they_lead_to(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "weights.bin").write_bytes(b"\x00\x01" * 1000)
    (outside / "deep" / "notes.txt").write_text("deep")
    (folder / "weights.bin").symlink_to(outside / "weights.bin")  # as a model cache links
    (folder / "shared").symlink_to(outside)  # a folder, outside the saved one
    (folder / "again.txt").symlink_to("kept.txt")  # relative, inside
    assert _save(folder, "linked") is None
    loaded = Client().load_artifact("linked")
    files = sorted(str(p.relative_to(loaded)) for p in loaded.rglob("*") if p.is_file())
    assert files == [
        "again.txt",
        "kept.txt",
        "shared/deep/notes.txt",
        "shared/weights.bin",
        "weights.bin",
    ]
    assert not any(p.is_symlink() for p in loaded.rglob("*"))  # copies, not links
    assert (loaded / "weights.bin").read_bytes() == b"\x00\x01" * 1000
    assert (loaded / "again.txt").read_text() == "kept"
    assert (loaded / "shared" / "deep" / "notes.txt").read_text() == "deep"


def test_a_saved_path_that_is_itself_a_link_is_stored_as_its_target(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (tmp_path / "alias").symlink_to(folder)
    assert _save(tmp_path / "alias", "aliased") is None
    loaded = Client().load_artifact("aliased")
    assert (loaded / "kept.txt").read_text() == "kept"
