"""The file objects a version's bytes pass through, in what they share: a reader that watches
what is read while reads stay in order (verifying, filling the cache), and a writer that
keeps its work when its block ends well and discards it when the block fails."""

from __future__ import annotations

import io
from typing import Any


class InOrderReader(io.BufferedIOBase):
    """A file read through: each piece read goes to `_observe` while the reads follow one
    another; a seek elsewhere ends that (`sequential` turns False, `_left_order` is told)."""

    def __init__(self, handle: Any) -> None:
        super().__init__()
        self._handle = handle
        self._position = 0
        self.sequential = True

    def _observe(self, data: Any) -> None:
        raise NotImplementedError

    def _left_order(self) -> None:
        """The reads stopped following one another."""

    def _seen(self, data: Any) -> None:
        if self.sequential:
            self._observe(data)
        self._position += len(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._handle.seekable())

    def read(self, size: int | None = -1) -> bytes:
        data: bytes = self._handle.read(-1 if size is None else size)
        self._seen(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        read1 = getattr(self._handle, "read1", None)
        data: bytes = read1(size) if read1 else self._handle.read(size)
        self._seen(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data: bytes = self._handle.readline(-1 if size is None else size)
        self._seen(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count = int(self._handle.readinto(buffer) or 0)
        self._seen(memoryview(buffer).cast("B")[:count])
        return count

    def readinto1(self, buffer: Any) -> int:
        return self.readinto(buffer)

    def peek(self, size: int = 0) -> bytes:
        peek = getattr(self._handle, "peek", None)
        if peek is not None:
            return bytes(peek(size))
        data: bytes = self._handle.read(max(size, 1))
        self._handle.seek(-len(data), io.SEEK_CUR)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = int(self._handle.seek(offset, whence))
        if target != self._position and self.sequential:
            self.sequential = False
            self._left_order()
        self._position = target
        return target

    def tell(self) -> int:
        return self._position

    @property
    def name(self) -> Any:
        return getattr(self._handle, "name", None)

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
            super().close()


class KeptOrDiscarded(io.BufferedIOBase):
    """A writer whose `close` keeps what was written (publishes, stores) and whose `discard`
    drops it; as a context manager, a block that fails discards."""

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def discard(self) -> None:
        raise NotImplementedError

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()  # the exception goes on, and nothing is kept
