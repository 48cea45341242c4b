"""A local file or directory, copied into the store and back out, a chunk at a time."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from holdall.errors import HoldallError
from holdall.materializers.base import BaseMaterializer

CHUNK = 8 * 1024 * 1024
FILES = "files"
KIND = "kind"  # a marker file: "file" or "directory", and for a file its name


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
        target = Path(tempfile.mkdtemp(prefix="holdall-path-"))
        prefix = self.artifact_store.resolve(self.path(FILES))
        for directory, _dirs, names in self.artifact_store.walk(self.path(FILES)):
            for file_name in names:
                remote = f"{directory}/{file_name}"
                relative = self.artifact_store.resolve(remote)[len(prefix) + 1 :]
                local = target / relative
                local.parent.mkdir(parents=True, exist_ok=True)
                with self.artifact_store.open(remote, "rb") as source, local.open("wb") as out:
                    _copy(source, out)
        return target / name if kind == "file" else target

    def _write_marker(self, text: str) -> None:
        with self.artifact_store.open(self.path(KIND), "wb") as handle:
            handle.write(text.encode("utf-8"))

    def _upload(self, local: Path, relative: str) -> None:
        with local.open("rb") as source, self.artifact_store.open(self.path(relative), "wb") as out:
            _copy(source, out)
