"""Checksums taken while data is written, and checked while it is read.

A materializer sees the store through `RecordingStore` (on save) or `VerifyingStore` (on
load). The files they hand out are whole binary files (seek, tell, truncate, readline,
readinto, peek ...). Bytes written in order are hashed on the way out, and bytes read in
order are checked on the way in, so the data is touched once. A file whose bytes were not
written in order (a zip patching its headers) is hashed from what was stored, before the
version commits; one read out of order (parquet) is checked in a second pass.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifact_stores.staged import is_write_mode, text_writer
from holdall.artifacts.buffers import fillable_bytes
from holdall.artifacts.cache import Cache, FileId, Teeing, file_id
from holdall.artifacts.checksum import (
    BLOCK,
    Blake3Hasher,
    FileDigests,
    Hasher,
    UnknownChecksumError,
    hasher_for,
)
from holdall.artifacts.codecs import (
    DecidingWriter,
    SpooledWriter,
    compress,
    decompress,
    worth_compressing,
)
from holdall.artifacts.streams import InOrderReader, KeptOrDiscarded
from holdall.compression import Codec, Compression, codec_named
from holdall.errors import HoldallError

# From this size up, a whole-file read fills its bytes in place while it hashes.
FILL_IN_PLACE = 16 * 1024 * 1024


class CorruptArtifactError(HoldallError):
    pass


class DamagedCacheEntry(CorruptArtifactError):
    """A cache entry was not what its name says; it was dropped, and the store still has
    the file."""


class Cached(io.BufferedReader):
    """A file served from the cache (its entry is dropped if it is found damaged)."""


class Packing(NamedTuple):
    """How a stored file was compressed: its codec, and the size and checksum of the bytes
    it decompresses to (None in manifests written before they were recorded)."""

    codec: str
    plain: tuple[int, str] | None = None


def encode_files(files: FileDigests, packings: dict[str, Packing] | None = None) -> str:
    """The manifest: each stored file's [size, checksum], and if it is compressed its codec
    and the [size, checksum] it decompresses to, flattened: [size, checksum, codec, size,
    checksum]."""
    packings = packings or {}

    def entry(path: str) -> list[Any]:
        packing = packings.get(path)
        if packing is None:
            return list(files[path])
        return [*files[path], packing.codec, *(packing.plain or ())]

    return json.dumps({path: entry(path) for path in sorted(files)})


def decode_files(text: str) -> FileDigests:
    return {path: (int(entry[0]), str(entry[1])) for path, entry in json.loads(text).items()}


def decode_codecs(text: str) -> dict[str, Packing]:
    """The stored files that are compressed, and how."""
    return {
        path: Packing(str(entry[2]), (int(entry[3]), str(entry[4])) if len(entry) > 4 else None)
        for path, entry in json.loads(text).items()
        if len(entry) > 2
    }


def hash_file(store: BaseArtifactStore, path: str, hasher: Hasher) -> tuple[int, str]:
    with store.open(path, "rb") as handle:
        return hash_handle(handle, hasher)


def hash_handle(handle: IO[bytes], hasher: Hasher) -> tuple[int, str]:
    while chunk := handle.read(BLOCK):
        hasher.update(chunk)
    return hasher.size, hasher.checksum()


def _local_files(folder: Path) -> set[str] | None:
    """The regular files under a local folder, as relative POSIX paths; None if it holds
    anything else (a link, a FIFO) or cannot be read."""
    found: set[str] = set()
    try:
        for directory, dirs, names in os.walk(folder):
            for name in [*dirs, *names]:
                entry = Path(directory, name)
                mode = entry.lstat().st_mode
                if stat.S_ISREG(mode):
                    found.add(entry.relative_to(folder).as_posix())
                elif not stat.S_ISDIR(mode):
                    return None
    except OSError:
        return None
    return found


def _same_file(local: Path, digest: tuple[int, str]) -> bool:
    """Whether the local file (a regular file, not a link) holds the bytes of `digest`."""
    try:
        descriptor = os.open(local, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    with open(descriptor, "rb") as handle:
        details = os.fstat(descriptor)
        if not stat.S_ISREG(details.st_mode) or details.st_size != digest[0]:
            return False
        try:
            return hash_handle(handle, hasher_for(digest[1])) == digest
        except (OSError, UnknownChecksumError):
            return False


COPIES_IN_KERNEL = hasattr(os, "copy_file_range")
COPY_PIECE = 16 * 1024 * 1024  # a multiple of mmap's granularity: each piece maps alone


def _mapped(descriptor: int, offset: int, count: int) -> memoryview:
    """Bytes of a local file, mapped from the page cache rather than read into a copy;
    unmapped once the last view of them goes."""
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    mapped = mmap.mmap(descriptor, offset + count - start, offset=start, access=mmap.ACCESS_READ)
    return memoryview(mapped)[offset - start :]


def _view(data: Any) -> memoryview:
    return memoryview(data).cast("B")


class _HashedReads:
    """A file whose reads are hashed on their way (the plain bytes a compressor reads)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.hasher = Blake3Hasher()

    def read(self, size: int = -1, /) -> bytes:
        data = self._handle.read(size)
        self.hasher.update(data)
        return data


class _HashedWrites:
    """A file whose writes are hashed on their way (the bytes a decompressor writes)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.hasher = Blake3Hasher()

    def write(self, data: Any, /) -> int:
        view = _view(data)
        self.hasher.update(view, alongside=lambda: self._handle.write(view))
        return view.nbytes


class _HashingWriter(KeptOrDiscarded):
    """Hashes what is written while every write appends at the end; after an overwrite or a
    truncation it says at close that the stored file must be hashed instead."""

    def __init__(self, handle: Any, on_close: Callable[[Hasher | None], None]) -> None:
        super().__init__()
        self._handle = handle
        self._hasher: Hasher | None = Blake3Hasher()
        self._on_close = on_close
        self._position = 0
        self._end = 0

    def seekable(self) -> bool:
        return bool(self._handle.seekable())

    def write(self, data: Any) -> int:
        view = _view(data)
        if self._hasher is not None and self._position != self._end:
            self._hasher = None  # a write that is not an append: hash what was stored
        if self._hasher is None:
            self._handle.write(view)
        else:
            # Read-only data cannot change under us: its hashing may go on after write
            # returns, beside the writes and the fsync that follow. Writable buffers are
            # hashed before we hand them back, since the caller may refill them.
            self._hasher.update(
                view, alongside=lambda: self._handle.write(view), wait=not view.readonly
            )
        self._position += view.nbytes
        self._end = max(self._end, self._position)
        return view.nbytes

    def writelines(self, lines: Iterable[Any]) -> None:
        for line in lines:
            self.write(line)

    def copy_from(self, source: int) -> bool:
        """Whether the rest of the local file open as `source` was appended here by the
        kernel (copy_file_range: no pass through this process), each piece hashed from
        where it landed while the next is copied. False, with nothing copied, where the
        kernel cannot (a target that is no local file, another file system on old kernels):
        the caller copies as usual."""
        if self._hasher is None or self._position != self._end or not COPIES_IN_KERNEL:
            return False
        try:
            self._handle.flush()
            target = self._handle.fileno()
        except (OSError, ValueError, AttributeError):
            return False
        offset = self._position
        while True:
            try:
                count = os.copy_file_range(source, target, COPY_PIECE, offset_dst=offset)
            except OSError:
                if offset == self._position:
                    return False
                raise
            if not count:
                break
            self._hasher.update(_mapped(target, offset, count), wait=False)
            offset += count
        self._hasher.wait()
        self._handle.seek(offset)
        self._position = self._end = offset
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = int(self._handle.seek(offset, whence))
        return self._position

    def tell(self) -> int:
        return self._position

    def truncate(self, size: int | None = None) -> int:
        size = self._position if size is None else size
        if size < self._end:
            self._hasher = None
        self._end = int(self._handle.truncate(size))
        return self._end

    def flush(self) -> None:
        if not self.closed and not self._handle.closed:
            self._handle.flush()

    @property
    def name(self) -> Any:
        return getattr(self._handle, "name", None)

    def close(self) -> None:
        if self.closed:
            return
        if self._hasher is not None:
            self._hasher.wait()
        super().close()  # flushes first
        self._handle.close()
        self._on_close(self._hasher)

    def discard(self) -> None:
        if self.closed:
            return
        if self._hasher is not None:
            self._hasher.wait()
        discard = getattr(self._handle, "discard", None)
        if discard is not None:
            discard()
        else:
            self._handle.close()
        super().close()


class _VerifyingReader(InOrderReader):
    """Hashes what is read, as long as it is read in order; says at close what it saw."""

    def __init__(
        self,
        handle: Any,
        size: int,
        hasher: Hasher,
        on_close: Callable[[tuple[int, str] | None], None],
    ) -> None:
        super().__init__(handle)
        self._hasher = hasher
        self._size = size
        self._on_close = on_close

    def _observe(self, data: Any) -> None:
        self._hasher.update(data)

    def read(self, size: int | None = -1) -> bytes:
        whole = size is None or size < 0
        remaining = self._size - self._position
        if whole and self.sequential and remaining >= FILL_IN_PLACE:
            filled = self._read_in_place(remaining)
            if filled is not None:
                return filled
        return super().read(size)

    def _read_in_place(self, remaining: int) -> bytes | None:
        """The rest of the file in one bytes object, hashed block by block as it is read."""
        fillable = fillable_bytes(remaining)
        if fillable is None:
            return None
        data, view = fillable
        count = self.readinto(view)
        view.release()
        if count < remaining:  # shorter than recorded: the checksum will say so
            return data[:count]
        beyond = self._handle.read()  # longer than recorded: the same
        self._seen(beyond)
        return data + beyond if beyond else data

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` a block at a time, each block hashing while the next one is read."""
        view = _view(buffer)
        total = 0
        try:
            while total < view.nbytes:
                count = int(self._handle.readinto(view[total : total + BLOCK]) or 0)
                if not count:
                    break
                if self.sequential:
                    self._hasher.update(view[total : total + count], wait=False)
                total += count
        finally:
            self._hasher.wait()
        self._position += total
        return total

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        whole = self.sequential and self._position == self._size
        self._on_close((self._hasher.size, self._hasher.checksum()) if whole else None)


def spool_dir(store: BaseArtifactStore) -> str | None:
    """Where a store keeps local copies on their way (its `spool_dir`), if it says."""
    where = getattr(store, "spool_dir", None)
    return str(where()) if where else None


@dataclass
class _StoreView:
    """The artifact store as a materializer sees it; everything but `open` passes through."""

    store: BaseArtifactStore
    root: str  # the version's directory

    def relative(self, path: str) -> str:
        return posixpath.relpath(self.store.resolve(path), self.store.resolve(self.root))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class RecordingStore(_StoreView):
    def __init__(
        self, store: BaseArtifactStore, root: str, compression: Compression | None = None
    ) -> None:
        super().__init__(store, root)
        self.hashers: dict[str, Hasher | None] = {}
        self.compression = compression or Compression()
        self.codecs: dict[str, Packing] = {}  # stored file -> how it was compressed

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        if not is_write_mode(mode):
            return self.store.open(path, mode, **kwargs)
        compressing = self.compression.codec is not None and "a" not in mode
        if compressing and self.compression.mode == "auto":
            writer: Any = DecidingWriter(lambda head: self._writer_for(path, head))
        elif compressing:
            writer = self._packing(path)
        else:
            writer = self._hashing(path, mode.replace("t", "").replace("b", "") + "b")
        return writer if "b" in mode else text_writer(writer, **kwargs)

    def _writer_for(self, path: str, head: bytes) -> Any:
        """`auto`, once a file's first block is known: compressed if that block shrinks
        enough, else stored as it is, with no spool on the way."""
        if worth_compressing(head, self.compression):
            return self._packing(path)
        return self._hashing(path)

    def _packing(self, path: str) -> SpooledWriter:
        return SpooledWriter(lambda spool: self._store(path, spool), spool_dir(self.store))

    def _hashing(self, path: str, binary_mode: str = "wb") -> _HashingWriter:
        relative = self.relative(path)

        def record(hasher: Hasher | None) -> None:
            self.hashers[relative] = hasher

        return _HashingWriter(self.store.open(path, binary_mode), record)

    def _store(self, path: str, spool: IO[bytes]) -> None:
        """A spooled file stored compressed, under its codec's extension."""
        codec = self.compression.codec
        assert codec is not None
        size = spool.seek(0, io.SEEK_END)
        spool.seek(0)
        plain = _HashedReads(spool)  # what a load decompresses is checked against this
        with self._hashing(path + codec.extension) as packed:
            compress(plain, packed, self.compression, size)
        digest = (plain.hasher.size, plain.hasher.checksum())
        self.codecs[self.relative(path + codec.extension)] = Packing(codec.name, digest)

    def digests(self) -> FileDigests:
        """Every file under the version's directory: hashed as it was written, or, where that
        could not be done, from what was stored."""
        found: FileDigests = {}
        for directory, _dirs, names in self.store.walk(self.root):
            for name in names:
                relative = self.relative(f"{directory}/{name}")
                hasher = self.hashers.get(relative)
                found[relative] = (
                    (hasher.size, hasher.checksum())
                    if hasher is not None
                    else hash_file(self.store, f"{directory}/{name}", Blake3Hasher())
                )
        return found


class VerifyingStore(_StoreView):
    def __init__(
        self,
        store: BaseArtifactStore,
        root: str,
        files: FileDigests,
        codecs: dict[str, Packing] | None = None,
        cache: Cache | None = None,
    ) -> None:
        super().__init__(store, root)
        self.expected = files
        self.verified: set[str] = set()
        self.cache = cache
        self.filled: dict[str, FileId] = {}  # cache entries this load filled, and checked
        # A compressed file, by the name it was written under: its stored name, its codec
        # and what it decompresses to.
        self.packed: dict[str, tuple[str, Codec, tuple[int, str] | None]] = {}
        for stored, packing in (codecs or {}).items():
            codec = codec_named(packing.codec)
            self.packed[stored.removesuffix(codec.extension)] = (stored, codec, packing.plain)
        # A compressed file's stored name -> the name it was written under.
        self.written_as = {stored: name for name, (stored, *_) in self.packed.items()}

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        relative = self.relative(path)
        reading = mode.replace("t", "").replace("b", "") == "r"
        if reading and relative in self.packed:
            unpacked = self._unpacked(relative)
            return unpacked if "b" in mode else _text(unpacked, kwargs)
        if not reading or relative not in self.expected:
            return self.store.open(path, mode, **kwargs)

        try:
            hasher = hasher_for(self.expected[relative][1])
        except UnknownChecksumError as exc:
            raise self._unverifiable(relative, exc) from None
        source, checked = self._source(path, relative)

        def check(seen: tuple[int, str] | None) -> None:
            if seen is None:
                checked(None)
                return
            try:
                self._compare(relative, seen)
            except CorruptArtifactError as exc:
                checked(False)
                if isinstance(source, Cached):
                    raise DamagedCacheEntry(exc.message, fix=exc.fix) from None
                raise
            checked(True)
            self.verified.add(relative)

        reader = _VerifyingReader(source, self.expected[relative][0], hasher, check)
        return reader if "b" in mode else _text(reader, kwargs)

    def _source(self, path: str, relative: str) -> tuple[Any, Callable[[bool | None], None]]:
        """Where a file's bytes are read from (a cache entry, or the store, filling an entry
        on the way), and what is done once they were checked: True, they matched; False,
        they did not; None, they were not read whole in order."""
        if self.cache is None:
            return self.store.open(path, "rb"), lambda matched: None
        cache = self.cache
        size, checksum = self.expected[relative]
        hit = cache.open(checksum, size)
        if hit is not None:
            return Cached(hit), lambda matched: cache.drop(checksum) if matched is False else None
        handle = self.store.open(path, "rb")
        fill = cache.filling(checksum)
        if fill is None:
            return handle, lambda matched: None
        teeing = Teeing(handle, fill)

        def checked(matched: bool | None) -> None:
            if matched and teeing.fill is not None:
                published = fill.publish()
                if published is not None:
                    self.filled[checksum] = published
            else:
                fill.abandon()

        return teeing, checked

    def _unpacked(self, relative: str) -> IO[bytes]:
        """A compressed file, read and verified whole before a byte of it is handed out,
        then served decompressed from a local spool (in which any reader may seek)."""
        spool = tempfile.TemporaryFile(dir=spool_dir(self.store))  # noqa: SIM115
        try:
            self._unpack_into(relative, spool)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def _unpack_into(self, relative: str, target: IO[bytes]) -> None:
        """A compressed file decompressed into `target`, which is not handed out unless this
        returns: the stored bytes checked whole, and what they decompressed to as well."""
        stored, codec, plain = self.packed[relative]
        unpacked = _HashedWrites(target)
        with self.open(f"{self.root}/{stored}", "rb") as packed:
            try:
                decompress(codec, packed, unpacked)
            except ValueError as exc:
                packed.read()  # to its end: its checksum is checked as it closes
                damage: ValueError | None = exc
            else:
                damage = None
        if stored not in self.verified:  # read short, or out of order: checked here
            self._verify_file(stored)
        if damage is not None:  # the bytes are what was stored, yet do not decompress
            raise CorruptArtifactError(
                f"cannot decompress {self._uri(stored)} ({codec.name}): {damage}",
                fix="the file was written damaged; save the artifact again",
            )
        seen = (unpacked.hasher.size, unpacked.hasher.checksum())
        if plain is not None and seen != plain:
            raise CorruptArtifactError(
                f"{self._uri(stored)} decompresses to bytes that are not what was saved "
                f"(size {seen[0]}, expected {plain[0]})",
                fix="upgrade holdall (pip install --upgrade holdall), or save the artifact again",
            )

    def walk(self, top: str) -> Iterator[tuple[str, list[str], list[str]]]:
        """The store's walk, refusing files the version did not record: a load never hands
        out what was added to a version's folder later."""
        for directory, dirs, names in self.store.walk(top):
            shown = []
            for name in names:
                relative = self.relative(f"{directory}/{name}")
                if relative not in self.expected:
                    raise CorruptArtifactError(
                        f"{directory}/{name} is not part of this version: it was added to the "
                        "version's folder after the version was saved",
                        fix=f"remove it: it is not holdall's ({directory}/{name})",
                    )
                shown.append(posixpath.basename(self.written_as.get(relative, relative)))
            yield directory, dirs, sorted(shown)

    def exists(self, path: str) -> bool:
        """Answered from the version's manifest: what was added to its folder later is not
        part of it."""
        relative = self.relative(path)
        names = [*self.expected, *self.packed]
        return relative in names or any(
            name.startswith(relative.rstrip("/") + "/") for name in names
        )

    def holds_same(self, local: Path, under: str) -> bool:
        """Whether the local folder `local` holds exactly the version's files under `under`
        (a folder of the version), each as recorded: its size, and its checksum, hashed here
        (a compressed file's, of what it decompresses to). If so, they count as verified:
        they need not be read from the store again."""
        prefix = self.relative(under).rstrip("/") + "/"
        # Each local name: what it must hold, and the stored file that is then verified.
        wanted: dict[str, tuple[tuple[int, str] | None, str]] = {
            relative[len(prefix) :]: (digest, relative)
            for relative, digest in self.expected.items()
            if relative.startswith(prefix) and relative not in self.written_as
        }
        for name, (stored, _codec, plain) in self.packed.items():
            if stored.startswith(prefix):  # a plain digest not recorded: fetched again
                wanted[name[len(prefix) :]] = (plain, stored)
        if not local.is_dir() or _local_files(local) != set(wanted):
            return False
        for name, (digest, _stored) in sorted(wanted.items()):
            if digest is None or not _same_file(local / name, digest):
                return False
        self.verified.update(stored for _digest, stored in wanted.values())
        return True

    def fetch(self, path: str, local: Path) -> None:
        """The file at `path`, verified, placed at `local` (a new file): from the cache, a
        hard link to its entry where the two share a file system (a copy otherwise), so a
        tree loaded from the cache takes no second copy of its bytes; a compressed file is
        decompressed there."""
        relative = self.relative(path)
        if relative in self.packed:
            with local.open("wb") as out:
                self._unpack_into(relative, out)
            return
        if self.cache is not None and relative in self.expected:
            if self._linked(relative, local):
                return
            checksum = self.expected[relative][1]
            if not self.cache.holds(checksum):
                with self.open(path, "rb") as source:  # a miss: fills the entry as it reads
                    while source.read(BLOCK):
                        pass
                if self._linked(relative, local, self.filled.pop(checksum, None)):
                    return
        # No cache, or one on another file system: a copy (from the entry, if there is one).
        with self.open(path, "rb") as source, local.open("wb") as out:
            shutil.copyfileobj(source, out, BLOCK)

    def _linked(self, relative: str, local: Path, filled: FileId | None = None) -> bool:
        """Whether `local` is now a link to the file's cache entry, checked as a hit is,
        unless it is the very file this load just `filled` (and checked as it filled it)."""
        assert self.cache is not None
        size, checksum = self.expected[relative]
        if not self.cache.link(checksum, local):
            return False
        if file_id(local.lstat()) != filled and not _same_file(local, (size, checksum)):
            local.unlink()
            self.cache.drop(checksum)
            return False
        self.verified.add(relative)
        return True

    def verified_in_memory(self) -> _VerifiedInMemory:
        """Every file read once, verified, and kept in memory: for code that runs what it
        reads, which must see the very bytes that were checked."""
        contents: dict[str, bytes] = {}
        for relative in sorted(self.expected):
            name = self.written_as.get(relative, relative)  # a compressed file: its own name
            with self.open(f"{self.root}/{name}", "rb") as handle:
                contents[name] = handle.read()  # checked as it is read, at close
        self.verify_rest()  # a file that was not what its size said is named here
        return _VerifiedInMemory(self.store, self.root, contents)

    def verify_rest(self) -> None:
        """Check every file that was not read start to end through `open`."""
        for relative in sorted(set(self.expected) - self.verified):
            self._verify_file(relative)

    def _verify_file(self, relative: str) -> None:
        path = f"{self.root}/{relative}"
        try:
            actual = hash_file(self.store, path, hasher_for(self.expected[relative][1]))
        except FileNotFoundError:
            raise CorruptArtifactError(
                f"artifact data is missing: {self._uri(relative)}",
                fix="the files were removed from the store; this version cannot be loaded",
            ) from None
        except (IsADirectoryError, NotADirectoryError):
            raise CorruptArtifactError(
                f"artifact data is damaged: {self._uri(relative)} is no longer a file",
                fix="the store was changed by hand; this version cannot be loaded",
            ) from None
        except UnknownChecksumError as exc:
            raise self._unverifiable(relative, exc) from None
        self._compare(relative, actual)
        self.verified.add(relative)

    def _unverifiable(self, relative: str, exc: Exception) -> CorruptArtifactError:
        return CorruptArtifactError(
            f"cannot verify {self._uri(relative)}: {exc}",
            fix="upgrade holdall: pip install --upgrade holdall",
        )

    def _uri(self, relative: str) -> str:
        return self.store.uri(self.store.resolve(f"{self.root}/{relative}"))

    def _compare(self, relative: str, actual: tuple[int, str]) -> None:
        if actual != self.expected[relative]:
            raise CorruptArtifactError(
                f"checksum mismatch: {self._uri(relative)} is not what was saved "
                f"(size {actual[0]}, expected {self.expected[relative][0]})",
                fix="the stored data was changed or damaged; save the artifact again",
            )


def _text(binary: Any, kwargs: dict[str, Any]) -> IO[str]:
    return io.TextIOWrapper(
        binary,
        encoding=kwargs.get("encoding") or "utf-8",
        errors=kwargs.get("errors"),
        newline=kwargs.get("newline"),
    )


class _VerifiedInMemory(_StoreView):
    """Files that were verified, served from memory; nothing else can be opened."""

    def __init__(self, store: BaseArtifactStore, root: str, contents: dict[str, bytes]) -> None:
        super().__init__(store, root)
        self.contents = contents

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        relative = self.relative(path)
        if mode.replace("t", "").replace("b", "") != "r" or relative not in self.contents:
            raise PermissionError(f"{path}: only the verified files of this version can be read")
        binary = io.BytesIO(self.contents[relative])
        return binary if "b" in mode else io.TextIOWrapper(binary, encoding="utf-8")

    def exists(self, path: str) -> bool:
        return self.relative(path) in self.contents
