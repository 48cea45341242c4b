"""Compression of a version's files, streaming both ways (the codecs themselves and a store's
choice among them: holdall/compression.py).

A compressed file is stored under its name plus the codec's extension (`data.bin.zst`, which
`zstd -d` opens), and the manifest records the codec beside its size and checksum. Both are
of the stored bytes: gc, migration and verification never decompress. The codec's library
is imported on first use only (the core stays light); zstandard is the binding the zstd
authors' format is maintained in for Python (python-zstandard, by a zstd contributor), with
streaming both ways and frames `zstd -d` reads.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from typing import IO, Any, Protocol

from holdall.artifacts.checksum import BLOCK
from holdall.artifacts.streams import KeptOrDiscarded
from holdall.compression import AUTO_BLOCK, AUTO_SHARE, Codec, Compression
from holdall.errors import HoldallError


class Reads(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writes(Protocol):
    def write(self, data: Any, /) -> int: ...


def _zstandard(codec: Codec) -> Any:
    try:
        import zstandard
    except ImportError:
        raise HoldallError(
            f"compression '{codec.name}' needs the {codec.module} package, which is not installed",
            fix=codec.install,
        ) from None
    return zstandard


def worth_compressing(head: bytes, compression: Compression) -> bool:
    """Whether `auto` compresses a file that starts with `head`."""
    codec = compression.codec
    if codec is None or not head:
        return False
    squeezed = _zstandard(codec).ZstdCompressor(level=compression.level).compress(head)
    return len(squeezed) <= AUTO_SHARE * len(head)


def compress(source: Reads, target: Writes, compression: Compression, size: int) -> None:
    """`size` bytes of `source` into one frame that carries that size and its own checksum,
    so that `zstd -d` (and `zstd -l`) need nothing of holdall's."""
    codec = compression.codec
    assert codec is not None
    # Every core (zstd's own threads): a multi-threaded frame is an ordinary frame.
    compressor = _zstandard(codec).ZstdCompressor(
        level=compression.level, write_checksum=True, threads=-1
    )
    compressor.copy_stream(source, target, size=size, read_size=BLOCK, write_size=BLOCK)


def decompress(codec: Codec, source: Reads, target: Writes) -> None:
    """`source` decompressed into `target`, a block at a time (a highly compressed file never
    expands in memory whole). Damaged data raises ValueError; data cut short decompresses
    short, and is caught by the stored bytes' own checksum, which the caller checks."""
    zstandard = _zstandard(codec)
    try:
        decompressor = zstandard.ZstdDecompressor()
        with decompressor.stream_reader(source, read_size=BLOCK, closefd=False) as reader:
            while chunk := reader.read(BLOCK):
                target.write(chunk)
    except zstandard.ZstdError as exc:
        raise ValueError(str(exc)) from None


class SpooledWriter(KeptOrDiscarded):
    """A file written plain into a local spool, where any writer may seek (a zip patching its
    headers), and handed to `finish` whole at close; nothing is stored if the block that
    writes it fails."""

    def __init__(self, finish: Callable[[IO[bytes]], None], spool_dir: str | None) -> None:
        super().__init__()
        self._spool: IO[bytes] = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115 - closed by close()
        self._finish = finish

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._spool.write(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._spool.seek(offset, whence)

    def tell(self) -> int:
        return self._spool.tell()

    def truncate(self, size: int | None = None) -> int:
        return self._spool.truncate(size)

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
            self._spool.seek(0)
            self._finish(self._spool)
        finally:
            self._spool.close()

    def discard(self) -> None:
        if not self.closed:
            self._spool.close()
            super().close()


class DecidingWriter(KeptOrDiscarded):
    """`auto`: the first block is held in memory; once it is full (or at close), `choose`
    gives the writer the file goes on in (a spool to compress, or the store itself, the
    block handed on first), and everything after goes straight there."""

    def __init__(self, choose: Callable[[bytes], Any]) -> None:
        super().__init__()
        self._head = io.BytesIO()
        self._choose = choose
        self._sink: Any = None

    def _decided(self, sample: bytes | None = None) -> Any:
        """The writer chosen on `sample` (by default the block held), the block handed on."""
        if self._sink is None:
            position = self._head.tell()
            head = self._head.getvalue()
            self._sink = self._choose(head if sample is None else sample)
            self._sink.write(head)
            self._sink.seek(position)
        return self._sink

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._sink is not None:
            return int(self._sink.write(data))
        view = memoryview(data).cast("B")
        held = self._head.getbuffer().nbytes
        if held + view.nbytes < AUTO_BLOCK:
            return self._head.write(view)
        # Enough to decide on: what is held and the start of this write. The rest of a large
        # write goes straight on, never copied into memory.
        sink = self._decided(self._head.getvalue() + bytes(view[: AUTO_BLOCK - held]))
        return int(sink.write(view))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int((self._sink or self._head).seek(offset, whence))

    def tell(self) -> int:
        return int((self._sink or self._head).tell())

    def truncate(self, size: int | None = None) -> int:
        return int((self._sink or self._head).truncate(size))

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self._decided().close()

    def discard(self) -> None:
        if not self.closed:
            if self._sink is not None:
                self._sink.discard()
            super().close()
