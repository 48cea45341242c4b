"""The object-store machinery of the core, where it needs no server: part sizes, and the
ranged reader over a real byte source."""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from holdall.artifact_stores.object_store import (
    GiB,
    KiB,
    MiB,
    ObjectArtifactStore,
    ObjectStoreConfig,
)
from holdall.artifact_stores.ranged import RangedReader
from holdall.errors import ConfigError, HoldallError


class BucketConfig(ObjectStoreConfig):  # S3's limits: the defaults
    SUPPORTED_SCHEMES: ClassVar[frozenset[str]] = frozenset({"mem://"})


class AlignedConfig(BucketConfig):  # a service whose parts are multiples of 256 KiB
    PART_ALIGN: ClassVar[int] = 256 * KiB
    MIN_PART_SIZE: ClassVar[int] = 256 * KiB


class BucketStore(ObjectArtifactStore):
    def make_filesystem(self) -> Any:
        raise AssertionError("part sizes need no filesystem")


def _store(config_class: type[ObjectStoreConfig] = BucketConfig, **settings: Any) -> BucketStore:
    return BucketStore(config_class(path="mem://bucket/prefix", **settings), name="bucket")


SIZES = [0, 1, 8 * MiB, 8 * MiB * 10_000, 8 * MiB * 10_000 + 1, 100 * 10**9, 5 * 1024 * GiB]


@pytest.mark.parametrize("size", SIZES)
def test_no_upload_needs_more_parts_than_the_limit(size: int) -> None:
    store = _store()
    part = store.part_size_for(size)
    assert part >= 8 * MiB  # never below the configured (default) size
    assert -(-size // part) <= 10_000
    if size <= 8 * MiB * 10_000:
        assert part == 8 * MiB  # grows only when it must


def test_a_100_gb_model_goes_up_in_parts_of_about_10_mb() -> None:
    part = _store().part_size_for(100 * 10**9)
    assert part == 10**7 and 100 * 10**9 // part == 10_000


def test_an_object_larger_than_the_service_takes_is_refused_before_upload() -> None:
    with pytest.raises(HoldallError, match="larger than the object store takes in one object"):
        _store().part_size_for(5 * GiB * 10_000 + 1)


def test_grown_parts_keep_the_service_alignment() -> None:
    store = _store(AlignedConfig, part_size=256 * KiB)
    for size in (1, 3 * GiB + 7, 30 * GiB + 12345):
        part = store.part_size_for(size)
        assert part % (256 * KiB) == 0 and -(-size // part) <= 10_000


def test_part_size_bounds_are_the_services() -> None:
    from pydantic import ValidationError

    from holdall.artifact_stores.config import describe_validation_error

    for size in (5 * MiB - 1, 5 * GiB + 1):
        with pytest.raises(ValidationError) as caught:
            BucketConfig(path="mem://b/p", part_size=size)
        error: ConfigError = describe_validation_error("mem", BucketConfig, caught.value)
        assert "part_size must be between 5242880 and 5368709120 bytes" in error.message


class Source:
    """A byte source read by range, recording each batch and the thread that asked."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.batches: list[tuple[str, list[tuple[int, int]]]] = []

    def fetch(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        self.batches.append((threading.current_thread().name, list(ranges)))
        return [self.data[start:end] for start, end in ranges]


def test_the_ranged_reader_reads_windows_of_parts_and_the_next_one_ahead() -> None:
    data = os.urandom(10 * MiB + 123)
    source = Source(data)
    with io.BufferedReader(RangedReader(source.fetch, len(data), MiB, 4)) as reader:
        chunks = []
        while chunk := reader.read(300 * KiB):
            chunks.append(chunk)
    assert b"".join(chunks) == data
    assert all(len(ranges) <= 4 for _, ranges in source.batches)
    assert [len(ranges) for _, ranges in source.batches] == [4, 4, 3]
    assert any(name.startswith("holdall-read-ahead") for name, _ in source.batches)
    covered = sorted(r for _, ranges in source.batches for r in ranges)
    assert covered[0][0] == 0 and covered[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))  # no gap, no overlap


def test_a_seek_to_the_footer_costs_one_part() -> None:
    data = os.urandom(32 * MiB)
    source = Source(data)
    reader = RangedReader(source.fetch, len(data), MiB, 4)
    reader.seek(-100, io.SEEK_END)
    assert reader.read(100) == data[-100:]
    assert source.batches[0][1] == [(len(data) - 100, len(data))]
    reader.seek(5)
    assert reader.read(10) == data[5:15]
    assert reader.read(0) == b"" and reader.tell() == 15
    reader.close()


def test_reading_everything_left_takes_bigger_parts_in_fewer_requests() -> None:
    data = os.urandom(20 * MiB + 7)
    source = Source(data)
    with io.BufferedReader(RangedReader(source.fetch, len(data), MiB, 4)) as reader:
        head = reader.read(300 * KiB)  # one window of 1 MiB parts, the next fetched ahead
        rest = reader.read()
    assert head + rest == data
    sizes = [end - start for _, ranges in source.batches for start, end in ranges]
    # The window read and the one fetched ahead in 1 MiB parts; the 12 MiB after them in 3.
    assert sizes[:8] == [MiB] * 8
    assert len(sizes) == 11 and min(sizes[8:-1]) > 4 * MiB
    covered = sorted(r for _, ranges in source.batches for r in ranges)
    assert covered[0][0] == 0 and covered[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))


def test_whole_reads_keep_their_parts_under_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from holdall.artifact_stores import ranged

    monkeypatch.setattr(ranged, "WHOLE_PART_LIMIT", 3 * MiB)
    data = os.urandom(40 * MiB)
    source = Source(data)
    reader = RangedReader(source.fetch, len(data), MiB, 4)
    reader.seek(5)
    assert reader.readall() == data[5:]
    assert reader.readall() == b"" and reader.tell() == len(data)
    sizes = [end - start for _, ranges in source.batches for start, end in ranges]
    assert max(sizes) == 3 * MiB and len(sizes) == 14
    reader.seek(0)  # a read of a given size, after: the parts it was given again
    before = len(source.batches)
    assert reader.read(10) == data[:10]
    # Its own window; the read-ahead thread may have asked for the next one already.
    assert source.batches[before][1] == [(i * MiB, (i + 1) * MiB) for i in range(4)]
    reader.close()


def test_an_object_that_shrank_under_the_reader_is_an_error() -> None:
    def short(ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        return [b"x" * (end - start - 1) for start, end in ranges]

    with pytest.raises(OSError, match="expected parts of"):
        RangedReader(short, 3 * MiB, MiB, 2).read(10)
