"""Checksums taken while data is written, and checked while it is read.

A materializer sees the store through `RecordingStore` (on save) or `VerifyingStore` (on
load): every file it writes is hashed on the way out, and every file it reads from start to
end is checked on the way in, so the data is touched once. A file read out of order (parquet
seeks) is checked with a second pass after the materializer is done.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass
from typing import IO, Any

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import HoldallError

CHUNK = 8 * 1024 * 1024

FileDigests = dict[str, tuple[int, str]]  # relative path -> (size, sha256)


class CorruptArtifactError(HoldallError):
    pass


def manifest_digest(files: FileDigests) -> str:
    """The artifact's checksum: sha256 over its files' names, sizes and checksums."""
    lines = "".join(f"{path}\0{size}\0{sha}\n" for path, (size, sha) in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def encode_files(files: FileDigests) -> str:
    return json.dumps({path: list(value) for path, value in sorted(files.items())})


def decode_files(text: str) -> FileDigests:
    return {path: (int(size), str(sha)) for path, (size, sha) in json.loads(text).items()}


def hash_file(store: BaseArtifactStore, path: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with store.open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _HashingWriter:
    def __init__(self, handle: IO[bytes], on_close: Any) -> None:
        self._handle = handle
        self._digest = hashlib.sha256()
        self._size = 0
        self._on_close = on_close

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._digest.update(view)
        self._size += view.nbytes
        self._handle.write(view)
        return view.nbytes

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()
            self._on_close(self._size, self._digest.hexdigest())

    def __enter__(self) -> _HashingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class _VerifyingReader:
    def __init__(self, handle: Any, expected: tuple[int, str], on_close: Any) -> None:
        self._handle = handle
        self._digest = hashlib.sha256()
        self._position = 0
        self._sequential = True
        self._expected = expected
        self._on_close = on_close

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._handle.read(size)
        if self._sequential:
            self._digest.update(data)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count = int(self._handle.readinto(buffer))
        if self._sequential:
            self._digest.update(memoryview(buffer)[:count])
        self._position += count
        return count

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
        fully_read = self._sequential and self._position == self._expected[0]
        self._on_close(fully_read and (self._position, self._digest.hexdigest()))

    def __enter__(self) -> _VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


@dataclass
class _StoreView:
    """The artifact store as a materializer sees it; everything but `open` passes through."""

    store: BaseArtifactStore
    root: str  # the version's directory

    def relative(self, path: str) -> str:
        resolved = self.store.resolve(path)
        root = self.store.resolve(self.root)
        return posixpath.relpath(resolved, root)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class RecordingStore(_StoreView):
    def __init__(self, store: BaseArtifactStore, root: str) -> None:
        super().__init__(store, root)
        self.files: FileDigests = {}

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        handle = self.store.open(path, mode, **kwargs)
        if "b" not in mode or not any(flag in mode for flag in "wax"):
            return handle  # text writes are hashed by the read-back pass in `digests`
        relative = self.relative(path)

        def record(size: int, sha: str) -> None:
            self.files[relative] = (size, sha)

        return _HashingWriter(handle, record)

    def digests(self) -> FileDigests:
        """Every file under the version's directory, hashed on write or read back now."""
        found: FileDigests = {}
        for directory, _dirs, names in self.store.walk(self.root):
            for name in names:
                relative = self.relative(f"{directory}/{name}")
                known = self.files.get(relative)
                found[relative] = known or hash_file(self.store, f"{directory}/{name}")
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
        expected = self.expected[relative]

        def check(result: tuple[int, str] | bool) -> None:
            if result:
                self._compare(relative, result)  # type: ignore[arg-type]
                self.verified.add(relative)

        return _VerifyingReader(handle, expected, check)

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
