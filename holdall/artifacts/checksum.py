"""holdall's checksums, and how they are taken fast.

A file's checksum is the SHA-256 of the SHA-256 digests of its consecutive 8 MiB blocks.
Blocks hash independently, so they hash on every core at once, beside the thread moving the
bytes (hashlib and file I/O both release the GIL): a checksum then costs about nothing next
to the I/O. An artifact's checksum is the SHA-256 of its files' paths, sizes and checksums.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache

BLOCK = 8 * 1024 * 1024

FileDigests = dict[str, tuple[int, str]]  # relative path -> (size, checksum)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="holdall-hash")


def _digest(block: memoryview | bytearray) -> bytes:
    return hashlib.sha256(block).digest()


class BlockHasher:
    """Feed it the bytes of one file in order; `update` returns once it no longer needs them."""

    def __init__(self) -> None:
        self.size = 0
        self._partial = bytearray()
        self._blocks: list[Future[bytes]] = []

    def update(
        self,
        data: bytes | bytearray | memoryview,
        alongside: Callable[[], object] | None = None,
        wait: bool = True,
    ) -> None:
        """Hash `data`; `alongside` (the write of the same bytes) runs while the blocks hash.

        With wait=False the caller keeps `data` unchanged until it calls `wait()`.
        """
        view = memoryview(data).cast("B")
        self.size += view.nbytes
        submitted = len(self._blocks)
        if self._partial:
            take = min(BLOCK - len(self._partial), view.nbytes)
            self._partial += view[:take]
            view = view[take:]
            if len(self._partial) == BLOCK:
                block, self._partial = self._partial, bytearray()
                self._blocks.append(_pool().submit(_digest, block))
        while view.nbytes >= BLOCK:
            self._blocks.append(_pool().submit(_digest, view[:BLOCK]))
            view = view[BLOCK:]
        if view.nbytes:
            self._partial += view
        if alongside is not None:
            alongside()
        if wait:
            # The caller may reuse its buffer once we return: the blocks that point into it
            # must be hashed by then.
            self.wait(submitted)

    def wait(self, since: int = 0) -> None:
        for future in self._blocks[since:]:
            future.result()

    def hexdigest(self) -> str:
        digests = [future.result() for future in self._blocks]
        if self._partial or not digests:
            digests.append(_digest(self._partial))
        return hashlib.sha256(b"".join(digests)).hexdigest()


def manifest_digest(files: FileDigests) -> str:
    lines = "".join(f"{path}\0{size}\0{sha}\n" for path, (size, sha) in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()
