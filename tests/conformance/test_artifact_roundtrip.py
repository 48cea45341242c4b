"""Every materializer saves and loads through every installed flavor's real backend."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy
import pandas
import pydantic
import pytest

from holdall import Client
from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import NotFoundError
from holdall.materializers import BaseMaterializer, registry


class Settings(pydantic.BaseModel):
    name: str
    rate: float
    tags: list[str]


VALUES: dict[str, Any] = {
    "bool": True,
    "int": 42,
    "float": 0.25,
    "str": "héllo wörld",
    "none": None,
    "list": [1, "two", [3.0]],
    "dict": {"a": {"b": [1, 2]}, "c": None},
    "tuple": (1, ("nested", 2.5)),
    "bytes": bytes(range(256)) * 10,
    "numpy": numpy.arange(1000, dtype="float32").reshape(10, 100),
    "pandas": pandas.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}),
    "pydantic": Settings(name="s", rate=0.5, tags=["a"]),
}


def _same(loaded: Any, value: Any) -> None:
    if isinstance(value, numpy.ndarray):
        numpy.testing.assert_array_equal(loaded, value)
        assert loaded.dtype == value.dtype
    elif isinstance(value, pandas.DataFrame):
        pandas.testing.assert_frame_equal(loaded, value)
    else:
        assert loaded == value and type(loaded) is type(value)


def _stored_as(version: Any, compression: str) -> None:
    """zstd: every file the version wrote is stored compressed, under the codec's name."""
    if compression == "zstd":
        assert version.files and all(name.endswith(".zst") for name in version.files)
    elif compression == "none":
        assert not any(name.endswith(".zst") for name in version.files)


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_each_materializer_round_trips(client: Client, store: BaseArtifactStore, kind: str) -> None:
    version = client.save_artifact(VALUES[kind], f"value-{kind}")
    assert version.uri.startswith(store.path + "/")
    _stored_as(version, "none")
    _same(client.load_artifact(f"value-{kind}"), VALUES[kind])


def test_every_materializer_round_trips_compressed(client: Client) -> None:
    # One test for all of them: what differs from the test above is the store's files.
    for kind, value in sorted(VALUES.items()):
        version = client.save_artifact(value, f"packed-{kind}", compression="zstd")
        _stored_as(version, "zstd")
        _same(client.load_artifact(f"packed-{kind}"), value)
        _same(client.load_artifact(f"packed-{kind}", cache=False), value)


@pytest.mark.parametrize("compression", ["none", "zstd"])
def test_a_path_to_a_file_and_to_a_directory(
    client: Client, tmp_path: Path, compression: str
) -> None:
    file = tmp_path / "model.bin"
    file.write_bytes(b"weights" * 1000)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    _stored_as(client.save_artifact(file, "a-file", compression=compression), compression)
    _stored_as(client.save_artifact(tree, "a-tree", compression=compression), compression)
    loaded_file = client.load_artifact("a-file")
    assert loaded_file.name == "model.bin" and loaded_file.read_bytes() == file.read_bytes()
    loaded_tree = client.load_artifact("a-tree")
    assert (loaded_tree / "a.txt").read_text() == "a"
    assert (loaded_tree / "sub" / "b.txt").read_text() == "b"


class Bundle(dict):
    """Named arrays, kept as one zip file (as np.savez, torch.save and joblib write them)."""


class ZipMaterializer(BaseMaterializer):
    # Registered for this test only, not built in: a zip writer seeks back to patch headers.
    SKIP_REGISTRATION = True
    ASSOCIATED_TYPES = (Bundle,)

    def save(self, data: Bundle) -> None:
        with self.artifact_store.open(self.path("bundle.npz"), "wb") as handle:
            numpy.savez(handle, **data)
        with (
            self.artifact_store.open(self.path("notes.zip"), "wb") as handle,
            zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for name in data:
                archive.writestr(f"{name}.txt", f"array {name}")

    def load(self, data_type: type) -> Bundle:
        with (
            self.artifact_store.open(self.path("notes.zip"), "rb") as handle,
            zipfile.ZipFile(handle) as archive,
        ):
            assert sorted(archive.namelist()) == sorted(f"{n}.txt" for n in ("a", "b"))
        with (
            self.artifact_store.open(self.path("bundle.npz"), "rb") as handle,
            numpy.load(handle) as loaded,
        ):
            return Bundle({name: loaded[name] for name in loaded.files})


@pytest.mark.parametrize("compression", ["none", "zstd", "auto"])
def test_a_zip_written_through_the_store_loads_back(
    client: Client, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    monkeypatch.setattr(registry, "_registered", [ZipMaterializer])
    value = Bundle(a=numpy.arange(100_000), b=numpy.ones((50, 50)))
    version = client.save_artifact(value, "bundle", compression=compression)
    _stored_as(version, compression)
    assert version.materializer.endswith("ZipMaterializer")
    for loaded in (client.load_artifact("bundle"), version.load()):
        assert sorted(loaded) == ["a", "b"]
        numpy.testing.assert_array_equal(loaded["a"], value["a"])
        numpy.testing.assert_array_equal(loaded["b"], value["b"])


SLOW_SAVER = """
import sys
from pathlib import Path
from holdall import save_artifact
folder = Path(sys.argv[1])
for _ in range(3):
    print(save_artifact(folder, "busy").version, flush=True)
"""


def test_gc_in_a_loop_never_takes_a_save_that_succeeds(client: Client, tmp_path: Path) -> None:
    from datetime import timedelta

    from holdall.artifacts.gc import collect

    folder = tmp_path / "many-files"
    folder.mkdir()
    for i in range(60):
        (folder / f"part-{i:03}.txt").write_text(f"part {i}\n" * 50)
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", SLOW_SAVER, str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    sweeps = 0
    while any(saver.poll() is None for saver in savers):
        # --older-than 0, as hard as it gets
        collect(client.database, client.stores, timedelta(0), dry_run=False)
        sweeps += 1
    outputs = [saver.communicate(timeout=60) for saver in savers]
    assert [saver.returncode for saver in savers] == [0, 0, 0], [err for _, err in outputs]
    reported = sorted(int(line) for out, _ in outputs for line in out.split())
    assert reported == list(range(1, 10)) and sweeps > 1
    for number in reported:
        loaded = client.get_artifact_version("busy", number).load()
        assert sorted(p.name for p in loaded.iterdir()) == sorted(p.name for p in folder.iterdir())
        assert (loaded / "part-059.txt").read_text() == "part 59\n" * 50


def test_a_save_that_gc_took_meanwhile_reports_it(client: Client) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from holdall.artifacts.gc import collect
    from holdall.errors import HoldallError
    from holdall.metadata.tables import ArtifactVersionRow

    class Overtaken(BaseMaterializer):
        """Mid-save, its process is made to look dead and gc sweeps."""

        SKIP_REGISTRATION = True
        ASSOCIATED_TYPES = (bytearray,)

        def save(self, data: bytearray) -> None:
            with self.artifact_store.open(self.path("data.bin"), "wb") as handle:
                handle.write(bytes(data))
            with client.database.session() as session:
                session.execute(
                    update(ArtifactVersionRow)
                    .where(ArtifactVersionRow.uri == self.uri)
                    .values(reserved_by="dead-host:1:1:1:1")
                )
            taken = collect(client.database, client.stores, timedelta(0), dry_run=False)
            assert [c.label for c in taken] == ["taken:1"]

    with pytest.raises(HoldallError, match="was collected by `holdall artifact gc`"):
        client.save_artifact(bytearray(b"late"), "taken", materializer=Overtaken)
    with pytest.raises(NotFoundError):
        client.get_artifact_version("taken")
