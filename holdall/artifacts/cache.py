"""A read-through cache, on this machine, of files loaded from cloud stores.

An entry is a stored file's bytes (compressed ones as stored), named by the checksum the
manifest records for it: any version, in any store, holding the same bytes shares it. An
entry is filled as a load reads the file from its store (a copy of each block on its way),
and published by a rename only once the load found the whole file to match its checksum:
an entry is never half-written, and a fill killed midway leaves a file in `filling/` that
`prune` (and `clear`) removes once its process is gone.

A hit is read through the same verification as a read from the store (BLAKE3 over every
byte, at several GB/s a core, as it is read), so a damaged entry is never handed out as
data: the load that finds it drops it and reads the store again. A hit first checks the
entry's size and that it is a plain file (not a link). Entries are never changed in place,
only replaced whole or removed, so a process reading one while another evicts it keeps
reading what it opened. Least recently used entries go first when the cache outgrows its
limit (`HOLDALL_CACHE_SIZE`, 5 GiB by default; 0 turns it off). The cache is walked to
measure it once a process, then again only when what that process added passes the limit.

A `Path` artifact's files are served as a tree of hard links to their entries (one rule:
a link where the cache and the loaded copies share a file system, a copy where they do not),
so a folder loaded from the cache takes no second copy of its bytes, and versions that share
files share their entries. A file edited where it was loaded changes its entry too: the next
load that links or reads that entry finds it damaged and fetches the file again.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifact_stores.object_store import ObjectArtifactStore
from holdall.artifacts.streams import InOrderReader
from holdall.errors import ConfigError
from holdall.processes import process_alive, process_tag
from holdall.settings import config_dir

CACHE_DIR_ENV = "HOLDALL_CACHE_DIR"
CACHE_SIZE_ENV = "HOLDALL_CACHE_SIZE"
DEFAULT_LIMIT = 5 * 1024**3
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_HEX = re.compile(r"^[0-9a-f]{16,128}$")

logger = logging.getLogger(__name__)


def parse_size(text: str, what: str) -> int:
    """`5G`, `500M`, `1024` (bytes): a size as a user writes one."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not found:
        raise ConfigError(
            f"{what} {text!r} is not a size", fix=f"{what} 5G (or 500M, or a number of bytes)"
        )
    return int(float(found.group(1)) * _UNITS[found.group(2)])


FileId = tuple[int, int]  # a file's device and inode: the file itself, whatever its name


def file_id(details: os.stat_result) -> FileId:
    return details.st_dev, details.st_ino


@dataclass(frozen=True)
class CacheUsage:
    entries: int
    size: int
    filling: int  # fills under way, or left by a process that was killed


class Cache:
    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self._warned = False
        # What the cache held when this process last walked it, plus what it added since:
        # the whole cache is walked again only when that passes the limit, not at each fill.
        self._known_size: int | None = None

    @classmethod
    def from_environment(cls) -> Cache | None:
        """The cache this environment asks for (one per folder in a process, so that a cache
        it cannot write warns once), or None when it is turned off."""
        limit = DEFAULT_LIMIT
        if os.environ.get(CACHE_SIZE_ENV, "").strip():
            limit = parse_size(os.environ[CACHE_SIZE_ENV], CACHE_SIZE_ENV)
        if limit == 0:
            return None
        configured = os.environ.get(CACHE_DIR_ENV)
        root = Path(configured).expanduser().absolute() if configured else config_dir() / "cache"
        cache = _CACHES.setdefault(root, cls(root, limit))
        cache.limit = limit
        return cache

    # -- entries ------------------------------------------------------------------------

    def _entry(self, checksum: str) -> Path | None:
        algorithm, _, digest = checksum.partition(":")
        if not algorithm.isalnum() or not _HEX.match(digest):
            return None  # not a checksum this cache can name a file by
        return self.root / "entries" / algorithm / digest[:2] / digest

    def open(self, checksum: str, size: int) -> io.FileIO | None:
        """The entry for these bytes, opened, or None (a miss, or an entry that was not what
        it should be, which is dropped)."""
        path = self._entry(checksum)
        if path is None:
            return None
        try:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError:  # a link put in its place, or unreadable: not to be trusted
            self.drop(checksum)
            return None
        details = os.fstat(descriptor)
        if not stat.S_ISREG(details.st_mode) or details.st_size != size:
            os.close(descriptor)
            self.drop(checksum)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return io.FileIO(descriptor, "rb")

    def holds(self, checksum: str) -> bool:
        path = self._entry(checksum)
        return path is not None and os.path.lexists(path)

    def link(self, checksum: str, target: Path) -> bool:
        """Whether `target` (a new name) is now a hard link to the entry for these bytes; not
        where there is none, or the cache is on another file system. What the link leads to
        is the caller's to check (a link put in an entry's place is linked as a link)."""
        path = self._entry(checksum)
        if path is None:
            return False
        try:
            os.link(path, target, follow_symlinks=False)
        except OSError:  # a miss, another file system, or one that allows no links
            return False
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return True

    def drop(self, checksum: str) -> None:
        path = self._entry(checksum)
        if path is not None:
            with contextlib.suppress(OSError):  # gone already, or a cache it cannot change
                path.unlink()

    def filling(self, checksum: str) -> Fill | None:
        """A new entry to write, published by `Fill.publish`; None where the cache cannot
        be written (a full disk, a folder not writable): the load goes on without it."""
        path = self._entry(checksum)
        if path is None:
            return None
        try:
            folder = self.root / "filling"
            folder.mkdir(parents=True, exist_ok=True)
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the Fill
                dir=folder, prefix=f"{process_tag()}~", delete=False
            )
        except OSError as exc:
            self.cannot_write(exc)
            return None
        return Fill(self, handle, path)

    def cannot_write(self, exc: OSError) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                "holdall: the cache %s cannot be written (%s); loading without it",
                self.root,
                exc.strerror or exc,
            )

    # -- upkeep ---------------------------------------------------------------------------

    def _entries(self) -> Iterator[tuple[Path, os.stat_result]]:
        for directory, _dirs, names in os.walk(self.root / "entries"):
            for name in names:
                path = Path(directory, name)
                with contextlib.suppress(FileNotFoundError):
                    yield path, path.lstat()

    def _stale_fills(self) -> Iterator[Path]:
        for path in (self.root / "filling").glob("*"):
            tag = path.name.split("~", 1)[0]  # the process filling it
            if process_alive(tag) is False:
                yield path

    def usage(self) -> CacheUsage:
        sizes = [details.st_size for _, details in self._entries()]
        filling = len(list((self.root / "filling").glob("*")))
        return CacheUsage(len(sizes), sum(sizes), filling)

    def added(self, size: int) -> None:
        """An entry of `size` bytes was published: the cache kept within its limit (walked
        the first time in a process, and then when what it knows of passes the limit)."""
        if self._known_size is not None:
            self._known_size += size
        if self._known_size is None or self._known_size > self.limit:
            self.prune()

    def prune(self, max_size: int | None = None) -> CacheUsage:
        """Least recently used entries removed until the rest fit in `max_size` (the limit
        by default), with fills whose process is gone; what was removed."""
        keep = self.limit if max_size is None else max_size
        entries = sorted(self._entries(), key=lambda entry: entry[1].st_mtime)
        total = sum(details.st_size for _, details in entries)
        removed, freed = 0, 0
        for path, details in entries:
            if total <= keep:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
                freed += details.st_size
            total -= details.st_size
        self._known_size = total
        stale = 0
        for path in self._stale_fills():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                stale += 1
        return CacheUsage(removed, freed, stale)

    def clear(self) -> CacheUsage:
        """Every entry, and every fill whose process is gone."""
        usage = self.prune(max_size=0)
        shutil.rmtree(self.root / "entries", ignore_errors=True)
        return usage


_CACHES: dict[Path, Cache] = {}


def cache_for(store: BaseArtifactStore) -> Cache | None:
    """The cache a load from `store` reads through: a cloud store's, unless its `cache`
    setting is off; never a local store's (its files are on this machine already)."""
    if not isinstance(store, ObjectArtifactStore) or not store.config.cache:
        return None
    return Cache.from_environment()


class Fill:
    """An entry being written as a load reads its file."""

    def __init__(self, cache: Cache, handle: IO[bytes], final: Path) -> None:
        self._cache = cache
        self._handle: IO[bytes] | None = handle
        self._final = final

    def write(self, data: Any) -> None:
        if self._handle is None:
            return
        try:
            self._handle.write(data)
        except OSError as exc:  # a full disk: the load goes on, uncached
            self._cache.cannot_write(exc)
            self.abandon()

    def abandon(self) -> None:
        if self._handle is not None:
            name = self._handle.name
            with contextlib.suppress(OSError):
                self._handle.close()
            with contextlib.suppress(OSError):
                os.unlink(name)
            self._handle = None

    def publish(self) -> FileId | None:
        """The whole file, verified: made an entry in one rename, then the cache kept within
        its limit. The entry's file id, unless it could not be kept."""
        if self._handle is None:
            return None
        handle, self._handle = self._handle, None
        try:
            details = os.fstat(handle.fileno())
            handle.close()
            self._final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(handle.name, self._final)
        except OSError as exc:
            self._cache.cannot_write(exc)
            with contextlib.suppress(OSError):
                os.unlink(handle.name)
            return None
        with contextlib.suppress(OSError):
            self._cache.added(details.st_size)
        return file_id(details)


class Teeing(InOrderReader):
    """A file read from a store, each block read in order also written to a cache fill; the
    fill is abandoned at the first read out of order."""

    def __init__(self, handle: Any, fill: Fill) -> None:
        super().__init__(handle)
        self.fill: Fill | None = fill

    def _observe(self, data: Any) -> None:
        if self.fill is not None:
            self.fill.write(data)

    def _left_order(self) -> None:
        if self.fill is not None:
            self.fill.abandon()
            self.fill = None
