"""Root confinement: the lexical check every flavor shares, and symlinks on local disks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from holdall.artifact_stores.paths import StoreRoot
from holdall.errors import PathOutsideStoreError
from tests.fixtures.stores import registered_store

BUCKET_ROOT = StoreRoot.parse("s3://bucket/prefix", frozenset({"s3://"}))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b.txt", "bucket/prefix/a/b.txt"),
        ("s3://bucket/prefix/a", "bucket/prefix/a"),
        ("S3://bucket/prefix/a", "bucket/prefix/a"),
        ("a/./b/../c", "bucket/prefix/a/c"),
        ("", "bucket/prefix"),
        ("s3://bucket/prefix", "bucket/prefix"),
    ],
)
def test_paths_inside_a_bucket_root_resolve(path: str, expected: str) -> None:
    assert BUCKET_ROOT.resolve(path) == expected


@pytest.mark.parametrize(
    "path",
    [
        "..",
        "../other",
        "a/../../other",
        "s3://bucket/prefix-other/a",
        "s3://bucket/other",
        "s3://other-bucket/prefix/a",
        "gs://bucket/prefix/a",
        "s3://bucket/prefix/../x",
    ],
)
def test_paths_outside_a_bucket_root_are_refused(path: str) -> None:
    with pytest.raises(PathOutsideStoreError, match="outside the artifact store root"):
        BUCKET_ROOT.resolve(path)


def test_a_local_root_takes_absolute_and_file_uris() -> None:
    root = StoreRoot.parse("/data/store", frozenset({"file://"}))
    assert root.resolve("/data/store/x") == "/data/store/x"
    assert root.resolve("file:///data/store/x") == "/data/store/x"
    assert root.resolve("//data/store/x") == "/data/store/x"
    for outside in ("/data/other", "/etc/passwd", "file:///etc/passwd", "/data/store/../x"):
        with pytest.raises(PathOutsideStoreError):
            root.resolve(outside)


def test_symlinks_out_of_a_local_store_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    store = registered_store("local", str(tmp_path / "store"))
    store.makedirs("inside")
    os.symlink(outside, tmp_path / "store" / "link")
    os.symlink(outside / "secret.txt", tmp_path / "store" / "inside" / "file-link")
    for path in ("link/secret.txt", "inside/file-link", "link/new.txt"):
        with pytest.raises(PathOutsideStoreError, match="symlink"):
            store.open(path, "rb")
    with pytest.raises(PathOutsideStoreError):
        store.open("link/new.txt", "wb")
    assert not (outside / "new.txt").exists()


def test_a_symlink_that_stays_inside_is_followed(tmp_path: Path) -> None:
    store = registered_store("local", str(tmp_path / "store"))
    with store.open("real/file.txt", "w") as handle:
        handle.write("here")
    os.symlink(tmp_path / "store" / "real", tmp_path / "store" / "alias")
    with store.open("alias/file.txt") as handle:
        assert handle.read() == "here"


def test_a_flavor_maps_its_uris_onto_the_filesystem_paths() -> None:
    # Azure's abfs://container@account/path is container/path to its filesystem.
    def without_account(location: str) -> str:
        head, _, tail = location.partition("/")
        return f"{head.split('@', 1)[0]}/{tail}".rstrip("/")

    root = StoreRoot.parse(
        "abfs://data@myaccount/artifacts", frozenset({"abfs://", "az://"}), without_account
    )
    assert root.fs_root == "data/artifacts"
    assert root.resolve("abfs://data@myaccount/artifacts/run/1") == "data/artifacts/run/1"
    assert root.resolve("run/1") == "data/artifacts/run/1"
    assert root.uri("data/artifacts/run/1") == "abfs://data@myaccount/artifacts/run/1"
    with pytest.raises(PathOutsideStoreError, match="abfs://data@myaccount/artifacts"):
        root.resolve("abfs://data@myaccount/elsewhere")


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ("s3://bucket//a//b/", "s3://bucket/a/b"),
        ("s3://bucket///a", "s3://bucket/a"),
        ("gs://bucket/a//", "gs://bucket/a"),
    ],
)
def test_doubled_slashes_are_recorded_as_the_objects_are_reached(given: str, recorded: str) -> None:
    from holdall.registry import get_registry

    flavor = "s3" if given.startswith("s3") else "gcs"
    config = get_registry().flavor(flavor).config_class.model_validate({"path": given})
    assert config.path == recorded
