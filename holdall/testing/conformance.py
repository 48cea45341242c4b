"""The conformance suite every artifact store passes: ZenML's file API, kept inside the
store's root, whole-or-nothing writes, streaming reads and writes. holdall runs it against
every flavor it ships (tests/conformance); a store written elsewhere runs it with one class:

    import pytest
    from holdall.testing.conformance import ArtifactStoreConformance

    class TestMyStore(ArtifactStoreConformance):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(MyConfig(path=f"my://{tmp_path}/root"))

It needs pytest, which the core does not install.
"""

from __future__ import annotations

import hashlib
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import PathOutsideStoreError
from holdall.processes import SPOOL_PREFIX

MiB = 1024 * 1024


def write(store: BaseArtifactStore, path: str, data: bytes = b"data") -> None:
    with store.open(path, "wb") as handle:
        handle.write(data)


def read(store: BaseArtifactStore, path: str) -> bytes:
    with store.open(path, "rb") as handle:
        return bytes(handle.read())


def _block(index: int) -> bytes:
    return index.to_bytes(8, "big") * (MiB // 8)


def _escapes(store: BaseArtifactStore) -> list[str]:
    return [
        "../escape.txt",
        "a/../../escape.txt",
        f"{store.path}/../escape.txt",
        f"{store.path}-sibling/escape.txt",
        "memory://elsewhere/escape.txt",
    ]


class Halfway(Exception):
    pass


class ArtifactStoreConformance:
    """Every test takes a `store` fixture: a fresh, empty store of the flavor under test."""

    def test_open_writes_and_reads_text_and_bytes(self, store: BaseArtifactStore) -> None:
        with store.open("notes/hello.txt", "w") as handle:
            handle.write("héllo\n")
        with store.open("notes/hello.txt") as handle:
            assert handle.read() == "héllo\n"
        write(store, "blob.bin", bytes(range(256)))
        assert read(store, "blob.bin") == bytes(range(256))

    def test_relative_paths_and_uris_name_the_same_file(self, store: BaseArtifactStore) -> None:
        write(store, "a/b.txt", b"same")
        uri = f"{store.path}/a/b.txt"
        assert read(store, uri) == b"same"
        assert store.exists(uri) and store.exists("a/b.txt")
        assert store.glob("a/*.txt") == [uri]

    def test_missing_paths_raise_file_not_found(self, store: BaseArtifactStore) -> None:
        with pytest.raises(FileNotFoundError):
            store.open("missing.txt", "rb")
        for call in (store.remove, store.rmtree, store.listdir, store.stat, store.size):
            with pytest.raises(FileNotFoundError):
                call("missing/thing")
        with pytest.raises(FileNotFoundError):
            store.copyfile("missing.txt", "copy.txt")
        with pytest.raises(FileNotFoundError):
            store.rename("missing.txt", "moved.txt")
        assert not store.exists("missing.txt")
        assert not store.isdir("missing")

    def test_exists_and_isdir(self, store: BaseArtifactStore) -> None:
        write(store, "dir/file.txt")
        assert store.exists("dir/file.txt") and not store.isdir("dir/file.txt")
        assert store.exists("dir") and store.isdir("dir")

    def test_makedirs_and_mkdir_are_idempotent(self, store: BaseArtifactStore) -> None:
        store.makedirs("deep/er/est")
        store.makedirs("deep/er/est")
        store.mkdir("deep/er/est")
        write(store, "deep/er/est/f.txt")
        assert store.isdir("deep/er/est")
        assert store.listdir("deep/er") == ["est"]

    def test_copyfile_refuses_to_overwrite_unless_asked(self, store: BaseArtifactStore) -> None:
        write(store, "src.txt", b"one")
        store.copyfile("src.txt", "copies/dst.txt")
        assert read(store, "copies/dst.txt") == b"one"
        write(store, "src.txt", b"two")
        with pytest.raises(FileExistsError):
            store.copyfile("src.txt", "copies/dst.txt")
        assert read(store, "copies/dst.txt") == b"one"
        store.copyfile("src.txt", "copies/dst.txt", overwrite=True)
        assert read(store, "copies/dst.txt") == b"two"
        assert read(store, "src.txt") == b"two"

    def test_glob_and_listdir(self, store: BaseArtifactStore) -> None:
        for name in ("a.txt", "b.txt", "c.json"):
            write(store, f"g/{name}")
        write(store, "g/sub/d.txt")
        assert store.listdir("g") == ["a.txt", "b.txt", "c.json", "sub"]
        assert store.glob("g/*.txt") == [f"{store.path}/g/a.txt", f"{store.path}/g/b.txt"]
        with pytest.raises(NotADirectoryError):
            store.listdir("g/a.txt")

    def test_remove_deletes_a_file_not_a_directory(self, store: BaseArtifactStore) -> None:
        write(store, "r/file.txt")
        with pytest.raises(IsADirectoryError):
            store.remove("r")
        store.remove("r/file.txt")
        assert not store.exists("r/file.txt")

    def test_rename_a_file(self, store: BaseArtifactStore) -> None:
        write(store, "old.txt", b"content")
        write(store, "taken.txt", b"other")
        with pytest.raises(FileExistsError):
            store.rename("old.txt", "taken.txt")
        store.rename("old.txt", "new/place.txt")
        assert not store.exists("old.txt")
        assert read(store, "new/place.txt") == b"content"
        store.rename("new/place.txt", "taken.txt", overwrite=True)
        assert read(store, "taken.txt") == b"content"

    def test_rename_a_directory(self, store: BaseArtifactStore) -> None:
        write(store, "tree/a.txt", b"a")
        write(store, "tree/sub/b.txt", b"b")
        write(store, "other/x.txt", b"x")
        with pytest.raises(FileExistsError):
            store.rename("tree", "other")
        store.rename("tree", "moved/tree")
        assert not store.exists("tree")
        assert read(store, "moved/tree/a.txt") == b"a"
        assert read(store, "moved/tree/sub/b.txt") == b"b"
        store.rename("moved/tree", "other", overwrite=True)
        assert store.listdir("other") == ["a.txt", "sub"]

    def test_rmtree(self, store: BaseArtifactStore) -> None:
        write(store, "t/a.txt")
        write(store, "t/s/b.txt")
        write(store, "keep.txt")
        with pytest.raises(NotADirectoryError):
            store.rmtree("keep.txt")
        store.rmtree("t")
        assert not store.exists("t/a.txt") and not store.exists("t/s/b.txt")
        assert not store.isdir("t")
        assert store.exists("keep.txt")

    def test_stat_and_size(self, store: BaseArtifactStore) -> None:
        write(store, "s/one.bin", b"x" * 1000)
        write(store, "s/two.bin", b"y" * 24)
        info = store.stat("s/one.bin")
        assert (info.size, info.is_dir, info.path) == (1000, False, f"{store.path}/s/one.bin")
        assert info.modified is not None
        assert store.stat("s").is_dir
        assert store.size("s/one.bin") == 1000
        assert store.size("s") == 1024

    def test_walk(self, store: BaseArtifactStore) -> None:
        write(store, "w/a.txt")
        write(store, "w/x/b.txt")
        write(store, "w/x/y/c.txt")
        walked = {root: (dirs, files) for root, dirs, files in store.walk("w")}
        base = f"{store.path}/w"
        assert walked == {
            base: (["x"], ["a.txt"]),
            f"{base}/x": (["y"], ["b.txt"]),
            f"{base}/x/y": ([], ["c.txt"]),
        }

    def test_unicode_names(self, store: BaseArtifactStore) -> None:
        names = ["données.txt", "模型 权重.bin", "emoji-🤖.json", "Ünïcödé space.csv"]
        for name in names:
            write(store, f"uni/{name}", name.encode())
        assert store.listdir("uni") == sorted(names)
        for name in names:
            assert read(store, f"uni/{name}") == name.encode()
        store.rename("uni/données.txt", "uni/résumé.txt")
        assert store.exists("uni/résumé.txt")

    def test_many_small_files(self, store: BaseArtifactStore) -> None:
        count = 300
        for i in range(count):
            write(store, f"many/{i % 3}/file-{i:04d}.txt", str(i).encode())
        assert sum(len(store.listdir(f"many/{d}")) for d in "012") == count
        assert len(store.glob("many/*/file-*.txt")) == count
        assert sum(len(files) for _, _, files in store.walk("many")) == count
        assert read(store, "many/1/file-0100.txt") == b"100"
        store.rmtree("many")
        assert store.glob("many/*/*") == []

    def test_a_128_mib_file_streams_without_being_held_in_memory(
        self, store: BaseArtifactStore
    ) -> None:
        blocks = 128
        expected = hashlib.sha256()
        tracemalloc.start()
        try:
            with store.open("big/file.bin", "wb") as handle:
                for index in range(blocks):
                    block = _block(index)
                    expected.update(block)
                    handle.write(block)
                    del block
            _, write_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            actual = hashlib.sha256()
            with store.open("big/file.bin", "rb") as handle:
                while chunk := handle.read(MiB):
                    actual.update(chunk)
            _, read_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert store.size("big/file.bin") == blocks * MiB
        assert actual.hexdigest() == expected.hexdigest()
        # A store that held the whole file would peak at 64 MiB or more. An object store holds
        # a few parts instead (the s3 flavor: two 8 MiB parts in flight and the copies botocore
        # makes of them, about 53 MiB whatever the file's size); a local file, almost nothing.
        limit = blocks * MiB
        assert write_peak < limit, f"writing peaked at {write_peak / MiB:.1f} MiB"
        assert read_peak < limit, f"reading peaked at {read_peak / MiB:.1f} MiB"

    def test_no_path_leaves_the_root(self, store: BaseArtifactStore) -> None:
        write(store, "inside.txt")
        for path in _escapes(store):
            calls: list[Callable[..., object]] = [
                lambda p=path: store.open(p, "wb"),
                lambda p=path: store.open(p, "rb"),
                lambda p=path: store.exists(p),
                lambda p=path: store.isdir(p),
                lambda p=path: store.glob(p),
                lambda p=path: store.listdir(p),
                lambda p=path: store.makedirs(p),
                lambda p=path: store.mkdir(p),
                lambda p=path: store.remove(p),
                lambda p=path: store.rmtree(p),
                lambda p=path: store.stat(p),
                lambda p=path: store.size(p),
                lambda p=path: list(store.walk(p)),
                lambda p=path: store.copyfile("inside.txt", p),
                lambda p=path: store.copyfile(p, "copied.txt"),
                lambda p=path: store.rename("inside.txt", p),
                lambda p=path: store.rename(p, "moved.txt"),
            ]
            for call in calls:
                with pytest.raises(PathOutsideStoreError):
                    call()
        assert store.exists("inside.txt")
        assert not store.exists("copied.txt") and not store.exists("moved.txt")

    @pytest.mark.parametrize("mode", ["wb", "w", "xb", "x"])
    def test_an_exception_inside_a_write_leaves_nothing(
        self, store: BaseArtifactStore, mode: str
    ) -> None:
        spools = set(Path(tempfile.gettempdir()).glob(SPOOL_PREFIX + "*"))
        data: Any = b"partial data " * 1000 if "b" in mode else "partial text " * 1000
        with pytest.raises(Halfway), store.open("failed/file", mode) as handle:
            handle.write(data)
            handle.flush()
            raise Halfway
        assert not store.exists("failed/file")
        assert store.glob("failed/*") == [] and store.glob("failed/.*") == []
        assert set(Path(tempfile.gettempdir()).glob(SPOOL_PREFIX + "*")) <= spools
        with store.open("failed/file", mode) as handle:  # and the name is free to write
            handle.write(data[:10])
        assert store.size("failed/file") == 10

    def test_a_write_appears_only_when_closed(self, store: BaseArtifactStore) -> None:
        handle = store.open("late/file.bin", "wb")
        handle.write(b"x" * 4096)
        handle.flush()
        assert not store.exists("late/file.bin")
        handle.close()
        assert store.size("late/file.bin") == 4096

    def test_a_file_opened_to_write_is_a_whole_binary_file(self, store: BaseArtifactStore) -> None:
        with store.open("whole/file.bin", "wb") as handle:
            assert handle.writable() and handle.seekable()
            handle.writelines([b"header--", b"body" * 10])
            assert handle.tell() == 48
            handle.seek(0)
            handle.write(b"HEADER")
            handle.seek(0, 2)
            handle.write(b"tail-to-cut")
            handle.truncate(handle.tell() - 4)
        with store.open("whole/file.bin", "rb") as reader:
            assert reader.readline() == b"HEADER--" + b"body" * 10 + b"tail-to"
        with pytest.raises(FileExistsError):
            store.open("whole/file.bin", "xb")

    def test_a_file_opened_to_read_is_a_whole_binary_file(self, store: BaseArtifactStore) -> None:
        with store.open("lines.txt", "wb") as handle:
            handle.write(b"one\ntwo\nthree\n")
        reader: Any
        with store.open("lines.txt", "rb") as reader:
            assert reader.readline() == b"one\n"
            buffer = bytearray(4)
            assert reader.readinto(buffer) == 4 and bytes(buffer) == b"two\n"
            assert reader.seek(0) == 0 and reader.read(3) == b"one"
            assert list(reader) == [b"\n", b"two\n", b"three\n"]
