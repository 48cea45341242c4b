"""The local store: fsspec's LocalFileSystem, with symlinks kept from leading out."""

from __future__ import annotations

import os
from typing import Any

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import PathOutsideStoreError


def _fsync(path: str, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LocalArtifactStore(BaseArtifactStore):
    def make_filesystem(self) -> Any:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(auto_mkdir=True)

    def resolve(self, path: str) -> str:
        resolved = super().resolve(path)
        real_root = os.path.realpath(self._root.fs_root)
        real = os.path.realpath(resolved)
        if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
            raise PathOutsideStoreError(
                f"'{path}' leads outside the artifact store root '{self.path}' through a symlink"
            )
        return resolved

    def sync(self, path: str) -> None:
        """fsync every file under `path` and the folders that lead to them from the root."""
        top = self.resolve(path)
        folders = {top}
        for directory, _dirs, names in os.walk(top):
            folders.add(directory)
            for name in names:
                _fsync(os.path.join(directory, name), os.O_RDONLY)
        parent = os.path.dirname(top)
        while self._root.contains(parent) and parent not in folders:
            folders.add(parent)
            parent = os.path.dirname(parent)
        for folder in folders:
            _fsync(folder, os.O_RDONLY | os.O_DIRECTORY)

    def _move_tree(self, source: str, target: str) -> None:
        # One rename on a local disk: atomic, and no copy.
        self.filesystem.mv(source, target)
