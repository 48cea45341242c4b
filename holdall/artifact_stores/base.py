"""What every artifact store is: ZenML's file API over a root that no path leaves.

Most flavors get the file API from `FilesystemArtifactStore` (filesystem.py), written once over
fsspec; a store over any other client implements these methods itself.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from holdall.artifact_stores.config import ArtifactStoreConfig
from holdall.artifact_stores.paths import StoreRoot

if TYPE_CHECKING:
    from holdall.registry import IntegrationInfo


@dataclass(frozen=True)
class FileStat:
    path: str
    size: int
    is_dir: bool
    modified: datetime | None


class BaseArtifactStore(ABC):
    """Every path given to these methods is a URI inside the store or relative to its root
    (`resolve` turns it into the store's own path, or refuses it). Constructing a store
    touches no network."""

    # Whether it can be looked at without a network (at registration, say).
    OFFLINE: bool = False

    def __init__(
        self,
        config: ArtifactStoreConfig,
        *,
        name: str = "",
        id: str = "",
        integration: IntegrationInfo | None = None,
        credentials: Callable[[], Any] | None = None,
        connector: str = "",
    ) -> None:
        self.config = config
        self.name = name
        self.id = id
        self.integration = integration  # named when its SDK turns out to be missing
        # From the store's service connector (`connector`, its name), if it has one: asked at
        # first use, and what it gives is the SDK's own credentials object (None: the SDK's
        # chain on this machine).
        self.credentials = credentials
        self.connector = connector
        self._root = StoreRoot.parse(config.path, config.SUPPORTED_SCHEMES, self.filesystem_path)

    @property
    def path(self) -> str:
        return self.config.path

    def filesystem_path(self, location: str) -> str:
        """A URI's part after its scheme, as this store's filesystem names it (a flavor whose
        URIs carry more than the filesystem's paths, an account say, maps them here)."""
        return location

    def resolve(self, path: str) -> str:
        """The filesystem path for `path`; PathOutsideStoreError when it leaves the root."""
        return self._root.resolve(path)

    def uri(self, fs_path: str) -> str:
        return self._root.uri(fs_path)

    # -- the file API (ZenML's): every store implements it -----------------------------------

    @abstractmethod
    def open(self, path: str, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """As the built-in open. A file opened to write ('w', 'x') must appear when it is
        closed, whole, and an exception inside its `with` block must leave nothing behind
        (staged.py has a StagedFile for that)."""

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def isdir(self, path: str) -> bool: ...

    @abstractmethod
    def copyfile(self, src: str, dst: str, overwrite: bool = False) -> None: ...

    @abstractmethod
    def glob(self, pattern: str) -> list[str]: ...

    @abstractmethod
    def listdir(self, path: str) -> list[str]:
        """The names (not paths) of the entries of a directory, sorted."""

    @abstractmethod
    def makedirs(self, path: str) -> None: ...

    @abstractmethod
    def mkdir(self, path: str) -> None: ...

    @abstractmethod
    def remove(self, path: str) -> None: ...

    @abstractmethod
    def rename(self, src: str, dst: str, overwrite: bool = False) -> None: ...

    @abstractmethod
    def rmtree(self, path: str) -> None: ...

    def remove_files(self, paths: Sequence[str]) -> None:
        """Remove many files at once (a store whose service deletes in batches says so); one
        already gone is no error."""
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                self.remove(path)

    def remove_versions(self, folders: Mapping[str, Sequence[str]]) -> None:
        """Remove each folder (a version's, with the files its manifest names) and anything
        else in it; one already gone is no error. Stores that can do it in fewer calls say
        so."""
        for folder in folders:
            with contextlib.suppress(FileNotFoundError):
                self.rmtree(folder)

    @abstractmethod
    def stat(self, path: str) -> FileStat: ...

    @abstractmethod
    def size(self, path: str) -> int:
        """A file's size, or the total of a directory's files."""

    @abstractmethod
    def walk(self, top: str) -> Iterator[tuple[str, list[str], list[str]]]: ...

    # -- what stores may refine -----------------------------------------------------------

    def sync(self, path: str) -> None:  # noqa: B027 - a no-op unless the flavor buffers
        """Make what was written under `path` survive a crash before it is relied on.

        Object stores hold an object durably once its upload completes: nothing to do.
        """

    def read_above(self, name: str) -> Iterator[tuple[str, bytes]]:
        """The file `name` in each folder that holds the store's root, nearest first, where
        there is one to read: (the folder's URI, the file's bytes). A folder the store's
        credentials may not read is passed over; a store that cannot look above its root
        finds none."""
        return iter(())

    def discard_incomplete_uploads(self, path: str) -> int:
        """Abort uploads left unfinished under `path` (by a killed process); how many."""
        return 0
