"""A local file or directory, copied into the store and back out, a chunk at a time."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import uuid
from pathlib import Path
from typing import Any

from holdall.errors import HoldallError
from holdall.materializers.base import BaseMaterializer
from holdall.processes import spool_prefix
from holdall.settings import config_dir

CHUNK = 8 * 1024 * 1024
FILES = "files"
KIND = "kind"  # a marker file: "file" or "directory", and for a file its name


# Loaded copies of Path artifacts: <config dir>/loaded/<key of the version's uri>, one per
# version. A newer load moves the older copy aside (a caller may still hold its path) as
# <key>.replaced-<id>; half-done loads are <key>.loading<owner>; gc removes both.
LOADED = "loaded"
LOADING, REPLACED = ".loading", ".replaced-"


def loaded_copy(uri: str) -> Path:
    import blake3

    folder = config_dir() / LOADED
    folder.mkdir(parents=True, exist_ok=True)
    return folder / blake3.blake3(uri.encode()).hexdigest()[:32]


def _publish(staging: Path, place: Path) -> None:
    for _ in range(3):  # another process may publish its own copy of the version meanwhile
        with contextlib.suppress(FileNotFoundError):
            place.rename(place.with_name(f"{place.name}{REPLACED}{uuid.uuid4().hex[:12]}"))
        try:
            staging.rename(place)
            return
        except OSError:
            continue
    shutil.rmtree(staging, ignore_errors=True)  # theirs is there, and as good as ours


def _entries(folder: Path) -> list[Path]:
    found = []
    for directory, dirs, names in os.walk(folder):
        found += [Path(directory, name) for name in [*dirs, *names]]
    return found


def _copy(source: Any, target: Any) -> None:
    shutil.copyfileobj(source, target, CHUNK)


class PathMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("pathlib.Path", "pathlib._local.Path")

    @classmethod
    def can_save(cls, data: Any) -> bool:
        return bool(data.is_file() or data.is_dir())

    @classmethod
    def check_savable(cls, data: Any) -> None:
        """Refuse, before anything is written, what could not come back as it was: names
        that are not UTF-8 (store paths are text), and files that are no regular files
        (reading a FIFO or a device would never end)."""
        source = Path(data)
        entries = [source] if source.is_file() else _entries(source)
        for entry in entries:
            try:
                str(entry.relative_to(source.parent)).encode("utf-8")
            except UnicodeEncodeError:
                raise HoldallError(
                    f"cannot save {source}: the name {entry.name!r} is not UTF-8, and a store "
                    "keeps names as text",
                    fix="rename the file to a UTF-8 name, or save an archive of the folder",
                ) from None
            mode = entry.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                raise HoldallError(
                    f"cannot save {source}: {entry} is not a regular file (a FIFO, socket or "
                    "device)",
                    fix="remove it from the folder, or save the files it should hold",
                )

    def save(self, data: Any) -> None:
        source = Path(data)
        if source.is_file():
            self._write_marker(f"file\n{source.name}")
            self._upload(source, f"{FILES}/{source.name}")
            return
        self._write_marker("directory\n")
        for directory, _dirs, names in os.walk(source):
            for name in sorted(names):
                local = Path(directory) / name
                self._upload(local, f"{FILES}/{local.relative_to(source).as_posix()}")

    def load(self, data_type: type) -> Any:
        with self.artifact_store.open(self.path(KIND), "rb") as handle:
            kind, _, name = handle.read().decode("utf-8").partition("\n")
        place = loaded_copy(self.uri)
        staging = Path(
            tempfile.mkdtemp(prefix=f"{place.name}{LOADING}{spool_prefix()}", dir=place.parent)
        )
        try:
            self._download(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # a failed load leaves nothing
            raise
        _publish(staging, place)
        return place / name if kind == "file" else place

    def _download(self, target: Path) -> None:
        prefix = self.artifact_store.resolve(self.path(FILES))
        for directory, _dirs, names in self.artifact_store.walk(self.path(FILES)):
            for file_name in names:
                remote = f"{directory}/{file_name}"
                relative = self.artifact_store.resolve(remote)[len(prefix) + 1 :]
                local = target / relative
                local.parent.mkdir(parents=True, exist_ok=True)
                with self.artifact_store.open(remote, "rb") as source, local.open("wb") as out:
                    _copy(source, out)

    def _write_marker(self, text: str) -> None:
        with self.artifact_store.open(self.path(KIND), "wb") as handle:
            handle.write(text.encode("utf-8"))

    def _upload(self, local: Path, relative: str) -> None:
        with local.open("rb") as source, self.artifact_store.open(self.path(relative), "wb") as out:
            _copy(source, out)
