"""What is loaded is exactly what was saved, or a clear error; damage is always named."""

from __future__ import annotations

import collections
import enum
import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy
import pandas
import pytest
from blake3 import blake3
from sqlalchemy import func, select, update

from holdall import Client, load_artifact, save_artifact
from holdall.artifacts.integrity import COPY_PIECE, CorruptArtifactError
from holdall.errors import HoldallError, NotFoundError
from holdall.materializers import registry
from holdall.materializers.registry import UnsupportedTypeError
from holdall.metadata.tables import ArtifactVersionRow


@pytest.fixture(autouse=True)
def no_pickle(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "_pickle", {"enabled": False})
    monkeypatch.delenv(registry.PICKLE_ENV, raising=False)
    yield


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize(
    "value",
    [
        {"__tuple__": [1, 2]},
        {"x": {"__tuple__": [1, 2]}},
        [{"__tuple__": [1]}, (1, {"__tuple__": []})],
        {"__dict__": {"__tuple__": [3]}},
        {"__dict__": 1},
        {"__tuple__": [1], "other": 2},
        ((), [()], {"t": (None, True, 1.5, "s")}),
        {"": [], "nested": {"deep": [[], {}]}},
    ],
    ids=lambda value: repr(value)[:40],
)
def test_json_values_round_trip_exactly(value: Any) -> None:
    save_artifact(value, "exact")
    assert same(load_artifact("exact"), value)


class Colour(enum.IntEnum):
    RED = 1


Point = collections.namedtuple("Point", "x y")


class Name(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        Colour.RED,
        Point(1, 2),
        collections.OrderedDict(a=1),
        Name("n"),
        [Colour.RED],
        {"p": Point(1, 2)},
    ],
    ids=["IntEnum", "namedtuple", "OrderedDict", "str subclass", "in a list", "in a dict"],
)
def test_values_json_would_change_are_not_stored_as_json(
    value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UnsupportedTypeError, match="no materializer takes"):
        save_artifact(value, "inexact")
    monkeypatch.setenv(registry.PICKLE_ENV, "yes")
    version = save_artifact(value, "inexact")
    assert version.materializer.endswith("PickleMaterializer")
    assert same(load_artifact("inexact"), value)


@pytest.mark.parametrize("setting", ["no", "0", "false", "off", ""])
def test_pickle_stays_off_unless_turned_on(setting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(registry.PICKLE_ENV, setting)
    with pytest.raises(UnsupportedTypeError):
        save_artifact(Colour.RED, "off")


def _only_file(version: Any, name: str) -> Path:
    path = Path(version.uri, name)
    assert path.is_file()
    return path


def _damage(path: Path, how: str) -> None:
    content = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(content[: len(content) // 2]))
    elif how == "flip":
        content[10] ^= 0xFF  # inside the header
        path.write_bytes(bytes(content))
    else:  # the file replaced by a folder
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize(
    "value, name, how",
    [
        ({"k": list(range(50))}, "value.json", "truncate"),
        (numpy.arange(100, dtype="int64"), "data.npy", "flip"),
        (numpy.arange(100, dtype="int64"), "data.npy", "truncate"),
        (pandas.DataFrame({"x": range(1000)}), "data.parquet", "flip"),
        (pandas.DataFrame({"x": range(1000)}), "data.parquet", "truncate"),
        (b"bytes" * 100, "data.bin", "folder"),
        ({"k": 1}, "value.json", "folder"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_damaged_data_is_named_as_damage(value: Any, name: str, how: str) -> None:
    version = save_artifact(value, "fragile")
    path = _only_file(version, name)
    _damage(path, how)
    with pytest.raises(CorruptArtifactError) as caught:
        load_artifact("fragile")
    assert f"{version.uri}/{name}" in caught.value.message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_file_dropped_into_a_version_is_not_part_of_it() -> None:
    version = save_artifact({"k": 1}, "kept")
    Path(version.uri, "value.json.bak").write_text("{}")
    Path(version.uri, "data.json").write_text('{"__tuple__": [1]}')  # a 0.1.0 file name
    assert load_artifact("kept") == {"k": 1}


def _versions_of(name: str) -> int:
    with Client().database.session() as session:
        return int(
            session.scalar(
                select(func.count(ArtifactVersionRow.id)).where(
                    ArtifactVersionRow.uri.like(f"%/{name}/%")
                )
            )
            or 0
        )


def test_a_path_with_a_name_that_is_not_utf8_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "fine.txt").write_text("fine")
    bad = os.fsdecode(b"caf\xe9.txt")  # Latin-1, as an old archive might hold
    (folder / bad).write_text("bad")
    with pytest.raises(HoldallError, match=r"the name 'caf\\udce9.txt' is not UTF-8"):
        save_artifact(folder, "latin")
    assert _versions_of("latin") == 0
    store = Client().active_stack.artifact_store
    assert not store.exists("_saved/latin")


def test_a_path_holding_a_fifo_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    os.mkfifo(folder / "pipe")
    with pytest.raises(HoldallError, match="is not a regular file"):
        save_artifact(folder, "fifo")
    assert _versions_of("fifo") == 0


class Loud:
    """Unpickling it leaves a mark: a stand-in for code a pickle runs."""

    def __init__(self, mark: str) -> None:
        self.mark = mark

    def __reduce__(self) -> Any:
        return (Path(self.mark).touch, ())


def test_a_changed_pickle_never_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(registry.PICKLE_ENV, "1")
    mark = tmp_path / "ran"
    version = save_artifact(Loud(str(mark)), "loud")
    assert not mark.exists()
    path = _only_file(version, "data.pkl")
    original = path.read_bytes()
    path.write_bytes(original + pickle.dumps(None))  # still a valid pickle, not what was saved
    with pytest.raises(CorruptArtifactError, match=r"data\.pkl"):
        load_artifact("loud")
    assert not mark.exists()
    path.write_bytes(original)
    load_artifact("loud")
    assert mark.exists()  # the untouched pickle does run, once verified


def run_python(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )


def test_the_recorded_data_type_never_imports_code() -> None:
    version = save_artifact([1, 2], "plain")
    with Client().database.session() as session:
        session.execute(
            update(ArtifactVersionRow)
            .where(ArtifactVersionRow.id == version.id)
            .values(data_type="this:whatever")
        )
    loaded = run_python(
        """
        import sys
        from holdall import load_artifact
        print(load_artifact("plain"), "this" in sys.modules)
        """
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[1, 2] False"  # and no Zen of Python


def test_a_model_whose_module_is_not_imported_is_named(tmp_path: Path) -> None:
    (tmp_path / "my_models.py").write_text(
        "import pydantic\n\nclass Config(pydantic.BaseModel):\n    rate: float\n"
    )
    env_path = f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    saved = subprocess.run(
        [
            sys.executable,
            "-c",
            "import my_models; from holdall import save_artifact; "
            "save_artifact(my_models.Config(rate=0.5), 'cfg')",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": env_path},
        timeout=120,
    )
    assert saved.returncode == 0, saved.stderr
    with pytest.raises(HoldallError, match="this artifact is a my_models:Config model") as caught:
        load_artifact("cfg")
    assert caught.value.fix == "import my_models before loading it"
    sys.path.insert(0, str(tmp_path))
    try:
        import my_models  # type: ignore[import-not-found]

        assert load_artifact("cfg") == my_models.Config(rate=0.5)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("my_models", None)


def test_a_missing_artifact_is_still_not_found() -> None:
    with pytest.raises(NotFoundError):
        load_artifact("never-saved")


@pytest.mark.parametrize("change", ["none", "flip-last", "truncate", "append"])
def test_a_large_bytes_value_is_read_once_and_verified(change: str) -> None:
    value = os.urandom(20 * 1024 * 1024 + 123)  # above the size filled in place
    version = save_artifact(value, "large")
    path = _only_file(version, "data.bin")
    if change == "flip-last":
        content = bytearray(path.read_bytes())
        content[-1] ^= 0x01
        path.write_bytes(bytes(content))
    elif change == "truncate":
        path.write_bytes(value[:-5])
    elif change == "append":
        path.write_bytes(value + b"extra")
    if change == "none":
        loaded = load_artifact("large")
        assert type(loaded) is bytes and loaded == value
    else:
        with pytest.raises(CorruptArtifactError, match=r"data\.bin is not what was saved"):
            load_artifact("large")


def test_a_file_dropped_into_a_path_version_is_named_not_handed_out(tmp_path: Path) -> None:
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    version = save_artifact(folder, "tree")
    intruder = Path(version.uri, "files", "intruder.txt")
    intruder.write_text("not saved")
    with pytest.raises(CorruptArtifactError, match=r"intruder\.txt is not part of this version"):
        load_artifact("tree")
    intruder.unlink()
    assert (load_artifact("tree") / "a.txt").read_text() == "a"


def test_a_save_never_writes_into_a_folder_that_holds_data(config_dir: Path) -> None:
    client = Client()
    store = client.active_stack.artifact_store
    # What another database (or this one before a reset) left at the next version's place.
    with store.open("_saved/model/1/value.json", "wb") as handle:
        handle.write(b'{"theirs": true}')
    with pytest.raises(HoldallError, match="already holds data this database did not write"):
        save_artifact({"ours": True}, "model")
    with store.open("_saved/model/1/value.json", "rb") as handle:
        assert handle.read() == b'{"theirs": true}'  # untouched
    assert save_artifact({"ours": True}, "model").version == 2
    assert load_artifact("model") == {"ours": True}
    from holdall.artifacts.gc import collect

    # nor does gc take what it did not write
    collect(client.database, client.stores, timedelta(0), dry_run=False)
    with store.open("_saved/model/1/value.json", "rb") as handle:
        assert handle.read() == b'{"theirs": true}'


def test_path_loads_reuse_the_one_copy_that_still_matches(tmp_path: Path, config_dir: Path) -> None:
    from holdall.materializers.path import LOADED

    folder = tmp_path / "tree"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.bin").write_bytes(os.urandom(3000))
    save_artifact(folder, "tree")
    first = load_artifact("tree")
    assert first.parent == config_dir / LOADED and (first / "a.txt").read_text() == "a"
    copied = (first / "a.txt").stat().st_ino
    second = load_artifact("tree")
    assert second == first and (second / "a.txt").stat().st_ino == copied  # not copied again
    assert [p.name for p in (config_dir / LOADED).iterdir()] == [first.name]
    # A copy changed where it lies is not handed out again: it is moved aside, and replaced.
    (first / "a.txt").write_text("changed")
    third = load_artifact("tree")
    assert third == first and (third / "a.txt").read_text() == "a"
    assert (third / "sub" / "b.bin").read_bytes() == (folder / "sub" / "b.bin").read_bytes()
    loaded = sorted(p.name for p in (config_dir / LOADED).iterdir())
    assert len(loaded) == 2 and any(".replaced-" in name for name in loaded)
    (third / "extra.txt").write_text("not the version's")  # an added file: no match either
    assert not (load_artifact("tree") / "extra.txt").exists()

    from tests.conftest import holdall_process

    result = holdall_process("artifact", "gc", "--older-than", "0")
    assert result.code == 0 and "a loaded copy, replaced or left half done" in result.out
    assert [p.name for p in (config_dir / LOADED).iterdir()] == [first.name]


LOADER = """
import sys
from holdall import load_artifact
for _ in range(int(sys.argv[1])):
    assert (load_artifact("tree") / "a.txt").read_text() == "a" * 1000
"""


def test_a_reader_of_a_loaded_copy_never_loses_it_to_other_loads(
    tmp_path: Path, config_dir: Path
) -> None:
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.txt").write_text("a" * 1000)
    save_artifact(folder, "tree")
    held = load_artifact("tree") / "a.txt"
    loaders = [
        subprocess.Popen([sys.executable, "-c", LOADER, "60"], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    reads = 0
    while any(loader.poll() is None for loader in loaders):
        assert held.read_text() == "a" * 1000  # FileNotFoundError if a load took it away
        reads += 1
    for loader in loaders:
        assert loader.wait() == 0, loader.stderr.read() if loader.stderr else ""
    assert reads > 0


def test_a_path_load_that_fails_leaves_nothing(tmp_path: Path, config_dir: Path) -> None:
    from holdall.materializers.path import LOADED

    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.txt").write_text("a" * 1000)
    version = save_artifact(folder, "tree")
    Path(version.uri, "files", "a.txt").write_text("b" * 1000)  # damaged in the store
    with pytest.raises(CorruptArtifactError, match=r"a\.txt is not what was saved"):
        load_artifact("tree")
    assert list((config_dir / LOADED).iterdir()) == []


def test_a_large_file_copied_in_by_the_kernel_is_hashed_piece_by_piece(tmp_path: Path) -> None:
    # Pieces of 16 MiB: this one ends mid-piece, and its last piece is a few bytes.
    data = os.urandom(COPY_PIECE) * 2 + os.urandom(4099)
    (tmp_path / "big.bin").write_bytes(data)
    version = save_artifact(tmp_path / "big.bin", "big")
    assert version.files["files/big.bin"] == (len(data), "blake3:" + blake3(data).hexdigest())
    stored = Path(version.uri, "files", "big.bin")
    assert stored.read_bytes() == data
    assert load_artifact("big").read_bytes() == data
