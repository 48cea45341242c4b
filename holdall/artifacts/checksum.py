"""holdall's checksums, recorded with their algorithm ("blake3:<hex>"), and taken fast.

A file's checksum is the BLAKE3 of its bytes: `b3sum` computes the same hex. BLAKE3 runs at
several GB/s a core, and here it runs in a thread beside the caller's I/O (it releases the
GIL), with its own threads over large inputs. An artifact's checksum is the BLAKE3 of its
files' paths, sizes and checksums.

Versions saved by holdall 0.1.0 carry "sha256-tree:<hex>": the SHA-256 of the SHA-256 of
each 8 MiB block. They keep verifying.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache

import blake3

ALGORITHM = "blake3"
LEGACY = "sha256-tree"
BLOCK = 8 * 1024 * 1024
# Below this, handing the bytes to another thread costs more than hashing them here.
INLINE = 256 * 1024

FileDigests = dict[str, tuple[int, str]]  # relative path -> (size, "algorithm:hex")


class UnknownChecksumError(ValueError):
    pass


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="holdall-hash")


class Hasher(ABC):
    """Feed it one file's bytes in order. `update` hashes them (in pool threads) while
    `alongside` (the write of the same bytes) runs here, and returns once it no longer needs
    them; with wait=False the caller keeps them unchanged until `wait()`."""

    def __init__(self) -> None:
        self.size = 0

    def update(
        self,
        data: bytes | bytearray | memoryview,
        alongside: Callable[[], object] | None = None,
        wait: bool = True,
    ) -> None:
        view = memoryview(data).cast("B")
        self.size += view.nbytes
        self._feed(view)
        if alongside is not None:
            alongside()
        if wait:
            self.wait()

    @abstractmethod
    def _feed(self, view: memoryview) -> None:
        """Start hashing `view`, which stays unchanged until `wait()`."""

    @abstractmethod
    def wait(self) -> None: ...

    @abstractmethod
    def checksum(self) -> str: ...


class Blake3Hasher(Hasher):
    def __init__(self) -> None:
        super().__init__()
        self._hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        self._pending: Future[None] | None = None

    def _feed(self, view: memoryview) -> None:
        self.wait()  # BLAKE3 takes its input in order
        if view.nbytes < INLINE:
            self._hasher.update(view)
        else:
            self._pending = _pool().submit(self._hasher.update, view)  # type: ignore[arg-type]

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def checksum(self) -> str:
        self.wait()
        return f"{ALGORITHM}:{self._hasher.hexdigest()}"


def _sha256(block: memoryview | bytearray) -> bytes:
    return hashlib.sha256(block).digest()


class Sha256TreeHasher(Hasher):
    """holdall 0.1.0's checksum, kept to verify what it saved: blocks hash on every core."""

    def __init__(self) -> None:
        super().__init__()
        self._partial = bytearray()
        self._blocks: list[Future[bytes]] = []

    def _feed(self, view: memoryview) -> None:
        if self._partial:
            take = min(BLOCK - len(self._partial), view.nbytes)
            self._partial += view[:take]
            view = view[take:]
            if len(self._partial) == BLOCK:
                block, self._partial = self._partial, bytearray()
                self._blocks.append(_pool().submit(_sha256, block))
        while view.nbytes >= BLOCK:
            self._blocks.append(_pool().submit(_sha256, view[:BLOCK]))
            view = view[BLOCK:]
        if view.nbytes:
            self._partial += view

    def wait(self) -> None:
        for future in self._blocks:
            future.result()

    def checksum(self) -> str:
        digests = [future.result() for future in self._blocks]
        if self._partial or not digests:
            digests.append(_sha256(self._partial))
        return f"{LEGACY}:{hashlib.sha256(b''.join(digests)).hexdigest()}"


HASHERS: dict[str, Callable[[], Hasher]] = {ALGORITHM: Blake3Hasher, LEGACY: Sha256TreeHasher}


def hasher_for(checksum: str) -> Hasher:
    """A hasher of the algorithm `checksum` was taken with."""
    algorithm = checksum.partition(":")[0]
    if algorithm not in HASHERS:
        raise UnknownChecksumError(
            f"checksum algorithm '{algorithm}' is not one this holdall knows "
            f"({', '.join(sorted(HASHERS))})"
        )
    return HASHERS[algorithm]()


def manifest_checksum(files: FileDigests) -> str:
    lines = "".join(f"{path}\0{size}\0{digest}\n" for path, (size, digest) in sorted(files.items()))
    return f"{ALGORITHM}:{blake3.blake3(lines.encode()).hexdigest()}"
