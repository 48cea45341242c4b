"""Reading one object over several connections at once.

A file is read in windows of `concurrency` parts, the parts of a window fetched together
(each on its own connection), and the next window fetched while this one is read: a load is
as fast as the connections together, not as one. Seeking starts a window where it lands, so
a reader that jumps (a Parquet footer first) costs one part, not the whole object.

A reader asked for everything left (`read()`) fetches it in bigger parts, up to
`WHOLE_PART_LIMIT`: fewer requests, each with a cost of its own on every service, and held in
memory the result needs anyway.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

# (start, end) byte ranges in, their bytes out, in order; fetched concurrently.
FetchRanges = Callable[[Sequence[tuple[int, int]]], Sequence[bytes]]

WHOLE_PART_LIMIT = 64 * 1024 * 1024


@dataclass
class _Window:
    start: int
    parts: list[bytes]

    @property
    def end(self) -> int:
        return self.start + sum(len(part) for part in self.parts)

    def covers(self, position: int) -> bool:
        return self.start <= position < self.end


class RangedReader(io.RawIOBase):
    def __init__(self, fetch: FetchRanges, size: int, part_size: int, concurrency: int) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._part_size = max(part_size, 1)
        self._concurrency = max(concurrency, 1)
        self._position = 0
        self._window: _Window | None = None
        self._ahead: tuple[int, Future[_Window]] | None = None
        self._pool: ThreadPoolExecutor | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._position >= self._size or not len(buffer):
            return 0
        window = self._window_at(self._position)
        target = memoryview(buffer).cast("B")
        written = 0
        offset = self._position - window.start
        for part in window.parts:
            if offset >= len(part):
                offset -= len(part)
                continue
            piece = part[offset : offset + len(target) - written]
            target[written : written + len(piece)] = piece
            written += len(piece)
            offset = 0
            if written == len(target):
                break
        self._position += written
        return written

    def readall(self) -> bytes:
        remaining = self._size - self._position
        if remaining <= 0:
            return b""
        part_size = self._part_size  # what reads of a given size keep using afterwards
        whole_part = min(-(-remaining // self._concurrency), WHOLE_PART_LIMIT)
        self._part_size = max(part_size, whole_part)
        pieces: list[memoryview] = []
        try:
            while self._position < self._size:
                window = self._window_at(self._position)
                offset = self._position - window.start
                for part in window.parts:
                    if offset < len(part):
                        pieces.append(memoryview(part)[offset:])
                    offset = max(offset - len(part), 0)
                self._position = window.end
        finally:
            self._part_size = part_size
        return b"".join(pieces)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._window = self._ahead = None
        super().close()

    def _window_at(self, position: int) -> _Window:
        if self._window is not None and self._window.covers(position):
            return self._window
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == position:
            self._window = ahead[1].result()
        else:
            if ahead is not None:
                ahead[1].cancel()
            self._window = self._fetch_window(position)
        if self._window.end < self._size:  # the next window comes while this one is read
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="holdall-read-ahead")
            following = self._window.end
            self._ahead = (following, self._pool.submit(self._fetch_window, following))
        return self._window

    def _fetch_window(self, start: int) -> _Window:
        ranges = []
        for number in range(self._concurrency):
            begin = start + number * self._part_size
            if begin >= self._size:
                break
            ranges.append((begin, min(begin + self._part_size, self._size)))
        parts = list(self._fetch(ranges))
        got = [len(part) for part in parts]
        wanted = [end - begin for begin, end in ranges]
        if got != wanted:  # an object that changed or shrank under the reader
            raise OSError(f"expected parts of {wanted} bytes, got {got}")
        return _Window(start, parts)
