"""Checksums taken while data is written, and checked while it is read.

A materializer sees the store through `RecordingStore` (on save) or `VerifyingStore` (on
load): every file it writes is hashed on the way out, and every file it reads from start to
end is checked on the way in, so the data is touched once. A file read out of order (parquet
seeks) is checked with a second pass after the materializer is done.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifacts.checksum import BLOCK, BlockHasher, FileDigests
from holdall.errors import HoldallError


class CorruptArtifactError(HoldallError):
    pass


def encode_files(files: FileDigests) -> str:
    return json.dumps({path: list(value) for path, value in sorted(files.items())})


def decode_files(text: str) -> FileDigests:
    return {path: (int(size), str(sha)) for path, (size, sha) in json.loads(text).items()}


def hash_file(store: BaseArtifactStore, path: str) -> tuple[int, str]:
    hasher = BlockHasher()
    with store.open(path, "rb") as handle:
        while chunk := handle.read(BLOCK):
            hasher.update(chunk)
    return hasher.size, hasher.hexdigest()


class _Wrapper:
    """Passes everything it does not define to the file it wraps."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class _HashingWriter(_Wrapper):
    def __init__(self, handle: Any, on_close: Callable[[BlockHasher], None]) -> None:
        super().__init__(handle)
        self._hasher = BlockHasher()
        self._on_close = on_close

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        # Read-only data cannot change under us: its hashing may go on after write returns,
        # beside the writes and the fsync that follow. Writable buffers are hashed before
        # we hand them back, since the caller may refill them.
        self._hasher.update(
            view, alongside=lambda: self._handle.write(view), wait=not view.readonly
        )
        return view.nbytes

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()
            self._on_close(self._hasher)


class _VerifyingReader(_Wrapper):
    """Hashes what is read, as long as it is read in order; says at close what it saw."""

    def __init__(self, handle: Any, size: int, on_close: Callable[[tuple[int, str] | None], None]):
        super().__init__(handle)
        self._hasher = BlockHasher()
        self._position = 0
        self._sequential = True
        self._size = size
        self._on_close = on_close

    def _seen(self, data: Any) -> None:
        if self._sequential:
            self._hasher.update(data)
        self._position += len(data)

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._handle.read(size)
        self._seen(data)
        return data

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` a block at a time, each block hashing while the next one is read."""
        view = memoryview(buffer).cast("B")
        total = 0
        try:
            while total < view.nbytes:
                count = int(self._handle.readinto(view[total : total + BLOCK]) or 0)
                if not count:
                    break
                if self._sequential:
                    self._hasher.update(view[total : total + count], wait=False)
                total += count
        finally:
            self._hasher.wait()
        self._position += total
        return total

    def seek(self, offset: int, whence: int = 0) -> int:
        target = int(self._handle.seek(offset, whence))
        if target != self._position:
            self._sequential = False
        self._position = target
        return target

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if self._handle.closed:
            return
        self._handle.close()
        whole = self._sequential and self._position == self._size
        self._on_close((self._hasher.size, self._hasher.hexdigest()) if whole else None)


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
    def __init__(self, store: BaseArtifactStore, root: str) -> None:
        super().__init__(store, root)
        self.hashers: dict[str, BlockHasher] = {}

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        handle = self.store.open(path, mode, **kwargs)
        if "b" not in mode or not any(flag in mode for flag in "wax"):
            return handle  # text writes are hashed by the read-back pass in `digests`
        relative = self.relative(path)

        def record(hasher: BlockHasher) -> None:
            self.hashers[relative] = hasher

        return _HashingWriter(handle, record)

    def digests(self) -> FileDigests:
        """Every file under the version's directory, hashed on write or read back now."""
        found: FileDigests = {}
        for directory, _dirs, names in self.store.walk(self.root):
            for name in names:
                relative = self.relative(f"{directory}/{name}")
                hasher = self.hashers.get(relative)
                found[relative] = (
                    (hasher.size, hasher.hexdigest())
                    if hasher
                    else hash_file(self.store, f"{directory}/{name}")
                )
        return found


class VerifyingStore(_StoreView):
    def __init__(self, store: BaseArtifactStore, root: str, files: FileDigests) -> None:
        super().__init__(store, root)
        self.expected = files
        self.verified: set[str] = set()

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        handle = self.store.open(path, mode, **kwargs)
        relative = self.relative(path)
        if mode != "rb" or relative not in self.expected:
            return handle

        def check(seen: tuple[int, str] | None) -> None:
            if seen is not None:
                self._compare(relative, seen)
                self.verified.add(relative)

        return _VerifyingReader(handle, self.expected[relative][0], check)

    def verify_rest(self) -> None:
        """Check every file that was not read start to end through `open`."""
        for relative in sorted(set(self.expected) - self.verified):
            path = f"{self.root}/{relative}"
            try:
                actual = hash_file(self.store, path)
            except FileNotFoundError:
                raise CorruptArtifactError(
                    f"artifact data is missing: {self.store.uri(self.store.resolve(path))}",
                    fix="the files were removed from the store; this version cannot be loaded",
                ) from None
            self._compare(relative, actual)
            self.verified.add(relative)

    def _compare(self, relative: str, actual: tuple[int, str]) -> None:
        if actual != self.expected[relative]:
            uri = self.store.uri(self.store.resolve(f"{self.root}/{relative}"))
            raise CorruptArtifactError(
                f"checksum mismatch: {uri} is not what was saved "
                f"(size {actual[0]}, expected {self.expected[relative][0]})",
                fix="the stored data was changed or damaged; save the artifact again",
            )
