"""The file API written once over an fsspec filesystem: a flavor maps its config to a
filesystem (`make_filesystem`) and gets every method, with paths kept inside its root."""

from __future__ import annotations

import posixpath
import tempfile
from abc import abstractmethod
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from holdall.artifact_stores.base import BaseArtifactStore, FileStat
from holdall.artifact_stores.staged import StagedFile, is_write_mode, text_writer


def _modified(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "mtime_ns"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value
        if isinstance(value, (int, float)):
            seconds = value / 1e9 if key == "mtime_ns" else value
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


class FilesystemArtifactStore(BaseArtifactStore):
    """Subclasses say how to build their filesystem; nothing here touches the network until
    a method is called."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._filesystem: Any = None

    @abstractmethod
    def make_filesystem(self) -> Any:
        """Build the fsspec filesystem for this store's config (imports the SDK here)."""

    @property
    def filesystem(self) -> Any:
        if self._filesystem is None:
            try:
                filesystem = self.make_filesystem()
            except ImportError as exc:
                if self.integration is None:
                    raise
                from holdall.registry import missing_requirement

                raise missing_requirement(self.integration, type(self).__name__, exc) from None
            self.check_access(filesystem)
            self._filesystem = filesystem
        return self._filesystem

    def check_access(self, filesystem: Any) -> None:
        """On first use: raise a HoldallError that says what is wrong if the store's root
        cannot be reached (missing bucket, refused credentials, no network)."""

    # -- the file API ---------------------------------------------------------------------

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """As the built-in open; a file opened to write ('w', 'x') appears when it is closed,
        whole, and an exception inside its `with` block leaves nothing behind."""
        if is_write_mode(mode):
            binary = self.open_staged(self.resolve(path), exclusive=mode.startswith("x"))
            return binary if "b" in mode else text_writer(binary, **kwargs)
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        return self.filesystem.open(self.resolve(path), mode, **kwargs)  # type: ignore[no-any-return]

    def open_staged(self, target: str, exclusive: bool) -> StagedFile:
        """A file that goes up to `target` when closed (object stores: spooled to local disk,
        then uploaded as a whole)."""
        filesystem = self.filesystem  # reach the store before spooling anything
        if exclusive and filesystem.exists(target):
            raise FileExistsError(self.uri(target))
        return StagedFile(
            self.spool_dir(), lambda staging: self.upload(staging, target), store_id=self.id
        )

    def spool_dir(self) -> str:
        """Where a file written to the store waits for its upload."""
        return tempfile.gettempdir()

    def upload(self, local: str, target: str) -> None:
        self.filesystem.put_file(local, target)

    def exists(self, path: str) -> bool:
        return bool(self.filesystem.exists(self.resolve(path)))

    def isdir(self, path: str) -> bool:
        return bool(self.filesystem.isdir(self.resolve(path)))

    def copyfile(self, src: str, dst: str, overwrite: bool = False) -> None:
        source, target = self._file(src), self.resolve(dst)
        self._make_room(target, overwrite)
        self.filesystem.copy(source, target)

    def glob(self, pattern: str) -> list[str]:
        return sorted(self.uri(p) for p in self.filesystem.glob(self.resolve(pattern)))

    def listdir(self, path: str) -> list[str]:
        directory = self._directory(path)
        entries = self.filesystem.ls(directory, detail=False)
        # Some backends list the directory itself among its entries.
        return sorted(
            posixpath.basename(e.rstrip("/")) for e in entries if e.rstrip("/") != directory
        )

    def makedirs(self, path: str) -> None:
        self.filesystem.makedirs(self.resolve(path), exist_ok=True)

    def mkdir(self, path: str) -> None:
        target = self.resolve(path)
        if self.filesystem.isdir(target):
            return
        if not self.filesystem.isdir(posixpath.dirname(target)) and self._has_directories():
            raise FileNotFoundError(f"parent of '{path}' does not exist")
        self.filesystem.makedirs(target, exist_ok=True)

    def remove(self, path: str) -> None:
        self.filesystem.rm_file(self._file(path))

    def rename(self, src: str, dst: str, overwrite: bool = False) -> None:
        source, target = self.resolve(src), self.resolve(dst)
        if not self.filesystem.exists(source):
            raise FileNotFoundError(src)
        self._make_room(target, overwrite)
        if self.filesystem.isdir(source):
            self._move_tree(source, target)
        else:
            self.filesystem.mv(source, target)

    def rmtree(self, path: str) -> None:
        self.filesystem.rm(self._directory(path), recursive=True)

    def stat(self, path: str) -> FileStat:
        target = self.resolve(path)
        info = self.filesystem.info(target)
        is_dir = info.get("type") == "directory"
        size = int(info.get("size") or 0)
        return FileStat(path=self.uri(target), size=size, is_dir=is_dir, modified=_modified(info))

    def size(self, path: str) -> int:
        target = self.resolve(path)
        if self.filesystem.isdir(target):
            return int(self.filesystem.du(target, total=True))
        return int(self.filesystem.size(target))

    def walk(self, top: str) -> Iterator[tuple[str, list[str], list[str]]]:
        for root, dirs, files in self.filesystem.walk(self.resolve(top)):
            yield self.uri(root), sorted(dirs), sorted(files)

    def read_above(self, name: str) -> Iterator[tuple[str, bytes]]:
        for folder in self._root.enclosing():
            try:
                content = self.filesystem.cat_file(posixpath.join(folder, name))
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            except Exception as exc:
                if self._not_for_us(exc):
                    continue
                raise
            yield self.uri(folder), bytes(content)

    # -- what flavors may refine ---------------------------------------------------------

    def _not_for_us(self, exc: Exception) -> bool:
        """Whether `exc`, reading outside the root, says only that these credentials may not
        read there (credentials limited to the store's own folder)."""
        return isinstance(exc, PermissionError)

    def _has_directories(self) -> bool:
        """Whether directories exist on their own (object stores only have key prefixes)."""
        return True

    def _move_tree(self, source: str, target: str) -> None:
        # File by file, since a recursive mv of a prefix is not portable across fsspec
        # backends (s3fs tries to copy the pseudo-directory itself).
        for file in self.filesystem.find(source):
            self.filesystem.mv(file, target + file[len(source) :])
        if self.filesystem.exists(source):
            self.filesystem.rm(source, recursive=True)

    # -- helpers --------------------------------------------------------------------------

    def _file(self, path: str) -> str:
        target = self.resolve(path)
        if self.filesystem.isdir(target):
            raise IsADirectoryError(path)
        if not self.filesystem.exists(target):
            raise FileNotFoundError(path)
        return target

    def _directory(self, path: str) -> str:
        target = self.resolve(path)
        if not self.filesystem.exists(target):
            raise FileNotFoundError(path)
        if not self.filesystem.isdir(target):
            raise NotADirectoryError(path)
        return target

    def _make_room(self, target: str, overwrite: bool) -> None:
        if not self.filesystem.exists(target):
            return
        if not overwrite:
            raise FileExistsError(self.uri(target))
        self.filesystem.rm(target, recursive=True)
