"""The local store: fsspec's LocalFileSystem, with symlinks kept from leading out."""

from __future__ import annotations

import os
from typing import Any

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import PathOutsideStoreError


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

    def _move_tree(self, source: str, target: str) -> None:
        # One rename on a local disk: atomic, and no copy.
        self.filesystem.mv(source, target)
