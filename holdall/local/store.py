"""The local store: fsspec's LocalFileSystem, with symlinks kept from leading out."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from functools import cached_property, lru_cache
from typing import Any

from holdall.artifact_stores.filesystem import FilesystemArtifactStore
from holdall.artifact_stores.staged import StagedFile
from holdall.errors import PathOutsideStoreError


@lru_cache(maxsize=1)
def _file_mode() -> int:
    """The mode a file gets from open() here (0o666 less the umask), read without os.umask,
    which would change it for every thread for a moment."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o644


def _publish(staging: str, target: str, exclusive: bool) -> None:
    os.chmod(staging, _file_mode())  # staging files are made owner-only
    if exclusive:
        os.link(staging, target)  # fails if the target exists, and never replaces it
    else:
        os.replace(staging, target)


def _fsync(path: str, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LocalArtifactStore(FilesystemArtifactStore):
    OFFLINE = True

    def make_filesystem(self) -> Any:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(auto_mkdir=True)

    @cached_property
    def _real_root(self) -> str:
        return os.path.realpath(self._root.fs_root)

    def resolve(self, path: str) -> str:
        resolved = super().resolve(path)
        if self._has_symlink_below_root(resolved):
            real_root = self._real_root
            real = os.path.realpath(resolved)
            if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
                raise PathOutsideStoreError(
                    f"'{path}' leads outside the artifact store root '{self.path}' through a "
                    "symlink"
                )
        return resolved

    def _has_symlink_below_root(self, resolved: str) -> bool:
        """Whether a folder or file on the way from the root to `resolved` is a symlink: one
        lstat for each below the root (a save resolves eight paths), where realpath takes one
        for each from "/"."""
        root = self._root.fs_root.rstrip("/")
        current = root
        for name in resolved[len(root) :].split("/"):
            if not name:
                continue
            current = f"{current}/{name}"
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    return True
            except OSError:
                return False  # nothing below it can be reached to lead anywhere
        return False

    def remove_versions(self, folders: Mapping[str, Sequence[str]]) -> None:
        # The files the manifest names, then the folder: two calls to the system for a
        # one-file version, where a tree walk opens and lists it first. Only names at the
        # top are unlinked here (a nested path could pass through a symlink); anything
        # left (a subfolder, a stray file) leaves the folder not empty: then the tree walk,
        # which follows no symlink.
        for folder, paths in folders.items():
            top = self.resolve(folder)
            try:
                if not stat.S_ISDIR(os.lstat(top).st_mode):
                    raise NotADirectoryError(folder)
                for name in paths:
                    if "/" not in name and name not in ("", ".", ".."):
                        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                            os.unlink(os.path.join(top, name))
                os.rmdir(top)
            except FileNotFoundError:
                continue
            except OSError as exc:
                if exc.errno != errno.ENOTEMPTY:
                    raise
                shutil.rmtree(top)

    def open_staged(self, target: str, exclusive: bool) -> StagedFile:
        """Staged beside its target, so that publishing it is one rename."""
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        if exclusive and os.path.lexists(target):
            raise FileExistsError(target)
        return StagedFile(
            directory, lambda staging: _publish(staging, target, exclusive), store_id=self.id
        )

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
