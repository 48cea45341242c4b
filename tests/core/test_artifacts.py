"""Saving and loading artifacts outside pipelines: versions, integrity, races, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from holdall import Client
from holdall.artifacts.integrity import CorruptArtifactError
from holdall.errors import ConfigError, NotFoundError
from holdall.materializers import registry
from holdall.materializers.base import BaseMaterializer
from holdall.materializers.registry import UnsupportedTypeError
from holdall.metadata.tables import ArtifactVersionRow
from holdall.processes import SPOOL_PREFIX
from tests.conftest import assert_interrupted, holdall_process
from tests.core.test_cli_artifact_store import error_of
from tests.fixtures.integrations import require
from tests.fixtures.plugins import install_fake_distribution


@pytest.fixture(autouse=True)
def clean_materializer_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "_registered", [])
    monkeypatch.setattr(registry, "_pickle", {"enabled": False})
    monkeypatch.delenv(registry.PICKLE_ENV, raising=False)
    yield


def test_save_and_load_outside_a_pipeline() -> None:
    client = Client()
    first = client.save_artifact({"a": 1}, "config")
    second = client.save_artifact({"a": 2}, "config")
    assert (first.version, second.version) == (1, 2)
    assert client.load_artifact("config") == {"a": 2}
    assert client.load_artifact("config", version=1) == {"a": 1}
    assert client.load_artifact("config", version="1") == {"a": 1}
    assert first.producer_step is None and first.run is None
    assert first.uri.endswith("/_saved/config/1")
    assert first.size == len('{"a": 1}')
    assert_checksums_independently(first)


def assert_checksums_independently(version: Any) -> None:
    """Each recorded file digest is the hex b3sum prints for the stored bytes (computed here
    from the file itself), and the version's checksum is BLAKE3 over the list of its files
    (path, size, digest), as the README says."""
    import blake3

    root = Path(version.uri)
    stored = {
        p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }
    assert set(version.files) == set(stored)
    for path, data in stored.items():
        assert version.files[path] == (len(data), f"blake3:{blake3.blake3(data).hexdigest()}")
    listing = "".join(
        f"{path}\0{len(data)}\0blake3:{blake3.blake3(data).hexdigest()}\n"
        for path, data in sorted(stored.items())
    )
    assert version.checksum == f"blake3:{blake3.blake3(listing.encode()).hexdigest()}"


def test_checksums_match_b3sum_of_what_was_stored(tmp_path: Path) -> None:
    folder = tmp_path / "tree"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 7))  # several BLAKE3 chunks
    (folder / "sub" / "b.txt").write_text("b")
    client = Client()
    for value, name in ((folder, "tree"), (b"\x00" * 10_000, "raw"), ({"k": [1, 2]}, "doc")):
        assert_checksums_independently(client.save_artifact(value, name))


@pytest.mark.parametrize("name", ["a/b", "..", "", "../x", ".hidden", "x" * 129])
def test_bad_artifact_names(name: str) -> None:
    with pytest.raises(ConfigError, match="invalid artifact name"):
        Client().save_artifact(1, name)


def test_versions_that_do_not_exist() -> None:
    client = Client()
    client.save_artifact(1, "thing")
    with pytest.raises(NotFoundError, match="artifact 'thing' has no version 7; it has 1"):
        client.get_artifact_version("thing", 7)
    with pytest.raises(NotFoundError, match="no artifact called 'other'"):
        client.load_artifact("other")
    with pytest.raises(ConfigError, match="invalid version 'latest'"):
        client.get_artifact_version("thing", "latest")


def _data_file(version: Any) -> Path:
    files = [p for p in Path(version.uri).rglob("*") if p.is_file()]
    assert len(files) == 1
    return files[0]


@pytest.mark.parametrize("value", [b"\x00" * 4096, {"k": list(range(100))}])
def test_corrupted_data_is_refused_naming_the_uri(value: Any) -> None:
    version = Client().save_artifact(value, "fragile")
    path = _data_file(version)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(CorruptArtifactError) as caught:
        version.load()
    assert f"checksum mismatch: {path}" in caught.value.message


def test_corrupted_parquet_is_refused_though_it_is_read_out_of_order() -> None:
    pandas = require("pandas")
    version = Client().save_artifact(pandas.DataFrame({"a": range(1000)}), "frame")
    path = _data_file(version)
    content = bytearray(path.read_bytes())
    content[200] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(CorruptArtifactError, match="checksum mismatch"):
        version.load()


def test_files_deleted_by_hand(cli) -> None:
    version = Client().save_artifact(b"gone soon", "ephemeral")
    _data_file(version).unlink()
    with pytest.raises(CorruptArtifactError, match=f"missing: {version.uri}/data.bin"):
        version.load()


CONTENDING_SAVES = """
import sys
from holdall import save_artifact
worker = int(sys.argv[1])
for i in range(25):
    save_artifact({"worker": worker, "i": i}, "shared")
"""


def test_many_processes_saving_one_name_get_every_number_once(database_url: str) -> None:
    """8 processes x 25 saves of one name, on SQLite and on PostgreSQL."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDING_SAVES, str(worker)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(8)
    ]
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, errors
    versions = Client().list_artifact_versions("shared")
    assert [v.version for v in versions] == list(range(1, 201))
    saved = sorted((v["worker"], v["i"]) for v in (version.load() for version in versions))
    assert saved == [(w, i) for w in range(8) for i in range(25)]


def kill_when_it_says(folder: Path, source: str, line: str) -> None:
    """Run `source` as a process and SIGKILL it once it prints `line`."""
    script = folder / "victim.py"
    script.write_text(textwrap.dedent(source))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == line
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


SLOW_SAVE = """
    import time
    from holdall import Client
    from holdall.materializers import BaseMaterializer, register_materializer

    @register_materializer
    class Slow(BaseMaterializer):
        ASSOCIATED_TYPES = ("builtins.bytearray",)

        def save(self, data):
            with self.artifact_store.open(self.path("part.bin"), "wb") as handle:
                handle.write(b"x" * 4096)
                handle.flush()
                print("writing", flush=True)
                time.sleep(120)

    Client().save_artifact(bytearray(b"never finished"), "victim")
"""


def test_a_save_killed_midway_leaves_no_version_and_gc_cleans_up(tmp_path: Path) -> None:
    kill_when_it_says(tmp_path, SLOW_SAVE, "writing")

    client = Client()
    with pytest.raises(NotFoundError, match="no artifact called 'victim'"):
        client.get_artifact_version("victim")
    store = client.active_stack.artifact_store
    leftover = f"{store.path}/_saved/victim/1"
    # Killed mid-write: the file was never published, only its staging copy is there.
    assert not store.exists(f"{leftover}/part.bin")
    assert [n for n in store.listdir(leftover) if n.startswith(SPOOL_PREFIX)]

    dry = holdall_process("artifact", "gc", "--dry-run")
    assert f"would remove victim:1: {leftover}" in dry.out and store.exists(leftover)
    collected = holdall_process("artifact", "gc")
    assert collected.code == 0, collected.err
    assert f"removed victim:1: {leftover}" in collected.out and "is gone" in collected.out
    assert not store.exists(leftover)
    assert "0 interrupted save(s)" in holdall_process("artifact", "gc").out

    assert client.save_artifact(b"second try", "victim").version == 2
    assert [v.version for v in client.list_artifact_versions("victim")] == [2]


UNRECORDED_WRITE = """
    import time
    from holdall import Client

    store = Client().active_stack.artifact_store
    with store.open("zenml/step/output/data.bin", "wb") as handle:
        handle.write(b"x" * 4096)
        handle.flush()
        print("writing", flush=True)
        time.sleep(120)
"""


def test_gc_removes_what_a_killed_write_staged_in_a_local_store_outside_any_version(
    tmp_path: Path,
) -> None:
    """A file written into a local store where holdall keeps no record (a ZenML step's
    output, through holdall-zenml), its writer killed: gc finds the staged copy anywhere in
    the store, and leaves a live writer's alone."""
    kill_when_it_says(tmp_path, UNRECORDED_WRITE, "writing")
    store = Client().active_stack.artifact_store
    folder = Path(store.resolve("zenml/step/output"))
    staged = [p for p in folder.iterdir() if p.name.startswith(SPOOL_PREFIX)]
    assert len(staged) == 1 and not (folder / "data.bin").exists()
    with store.open("zenml/live/data.bin", "wb") as live:  # this process: alive
        live.write(b"y")
        live.flush()
        dry = holdall_process("artifact", "gc", "--dry-run")
        assert f"would remove {staged[0]}  [staged by a process that is gone]" in dry.out
        assert staged[0].exists()
        collected = holdall_process("artifact", "gc")
        assert collected.code == 0, collected.err
        assert f"removed {staged[0]}" in collected.out and "zenml/live" not in collected.out
        assert not staged[0].exists()
    assert store.exists("zenml/live/data.bin")


def test_gc_removes_only_its_own_databases_spool_files_from_a_shared_temp_dir(
    tmp_path: Path,
) -> None:
    """Two databases on one machine spool into one temp dir: each gc removes what the dead
    processes of its own stores left, never the other's, nor a file no store is named in."""
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    teams = {team: {"HOLDALL_CONFIG_DIR": str(tmp_path / team), "TMPDIR": str(shared_tmp)}
             for team in ("ours", "theirs")}  # fmt: skip
    spooled = {}
    for team, env in teams.items():
        registered = holdall_process(
            "artifact-store", "register", "s", "-f", "local", f"--path={tmp_path}/{team}-store",
            env=env,
        )  # fmt: skip
        assert registered.code == 0, registered.err
        described = holdall_process("artifact-store", "describe", "s", "-o", "json", env=env)
        store_id = json.loads(described.out)["id"]
        # Named as a process of this store, one that has ended, names its spool files.
        dead = subprocess.run(
            [sys.executable, "-c", f"from holdall.processes import spool_prefix; "
             f"print(spool_prefix({store_id!r})); print(spool_prefix())"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        spooled[team] = shared_tmp / f"{dead[0]}x1y2z3w4"
        spooled[team].write_bytes(b"half an upload")
    unnamed = shared_tmp / f"{dead[1]}x1y2z3w4"  # no store named, as holdall 0.1.0 wrote them
    unnamed.write_bytes(b"whose?")
    collected = holdall_process("artifact", "gc", env=teams["ours"])
    assert collected.code == 0, collected.err
    assert f"removed {spooled['ours']}" in collected.out
    assert not spooled["ours"].exists()
    assert spooled["theirs"].exists() and unnamed.exists()
    collected = holdall_process("artifact", "gc", env=teams["theirs"])
    assert f"removed {spooled['theirs']}" in collected.out and not spooled["theirs"].exists()
    assert unnamed.exists()


SLOW_PIPELINE = """
    import time
    from holdall import pipeline, step

    @step
    def first() -> int:
        return 1

    @step
    def hang(value: int) -> int:
        print("hanging", flush=True)
        time.sleep(120)
        return value

    @pipeline
    def killed():
        hang(first())

    killed()
"""


def test_a_run_killed_midway_is_marked_failed_by_gc(tmp_path: Path) -> None:
    kill_when_it_says(tmp_path, SLOW_PIPELINE, "hanging")

    client = Client()
    (run,) = client.list_pipeline_runs("killed")
    assert run.status == "running"
    result = holdall_process("artifact", "gc")
    assert f"marked run {run.name} failed" in result.out and "is gone" in result.out
    run = client.get_pipeline_run("killed", run.name)
    assert run.status == "failed" and run.end is not None
    assert run.steps["first"].status == "completed"
    assert run.steps["first"].outputs["output"].load() == 1
    assert run.steps["hang"].status == "failed"
    assert "ended before the step finished" in (run.steps["hang"].error or "")


def test_gc_leaves_saves_in_progress_alone() -> None:
    from datetime import timedelta

    from holdall.artifacts.gc import collect
    from holdall.artifacts.versions import Producer, reserve

    client = Client()
    row = reserve(client.database, "in_progress", client.active_stack.artifact_store, Producer())
    # This process is alive: its save is never collected, however old.
    assert collect(client.database, client.stores, timedelta(0), dry_run=False) == []
    # A save on another machine cannot be judged, so only its age counts.
    with client.database.session() as session:
        session.get_one(ArtifactVersionRow, row.id).reserved_by = "elsewhere:42:1:2:3"
    assert collect(client.database, client.stores, timedelta(hours=24), dry_run=True) == []
    found = collect(client.database, client.stores, timedelta(0), dry_run=True)
    assert [c.label for c in found] == ["in_progress:1"]


MANY_KILLED_SAVES = """
    import os, signal
    from holdall import Client
    from holdall.materializers import BaseMaterializer

    class KilledAfterManyFiles(BaseMaterializer):
        ASSOCIATED_TYPES = ("builtins.bytearray",)

        def save(self, data):
            for number in range(300):
                with self.artifact_store.open(self.path(f"{number}.bin"), "wb") as handle:
                    handle.write(b"x")
            os.kill(os.getpid(), signal.SIGKILL)

    Client.close_shared()
    children = []
    for _ in range(40):
        child = os.fork()
        if child == 0:
            Client().save_artifact(bytearray(), "killed")
        children.append(child)
    for child in children:
        os.waitpid(child, 0)
"""


def test_ctrl_c_stops_gc_and_the_next_gc_finishes(tmp_path: Path) -> None:
    client = Client()
    kept = client.save_artifact({"kept": True}, "kept")
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(MANY_KILLED_SAVES))
    subprocess.run([sys.executable, str(script)], check=True, timeout=300)
    store = client.active_stack.artifact_store
    assert len(store.listdir(f"{store.path}/_saved/killed")) == 40

    gc = subprocess.Popen(
        [sys.executable, "-m", "holdall", "artifact", "gc"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert gc.stdout is not None and gc.stdout.readline().startswith("removed killed:")
    gc.send_signal(signal.SIGINT)  # Ctrl-C, with most of the 40 still to go
    out, err = gc.communicate(timeout=60)
    assert_interrupted(gc, err)
    before = 1 + out.count("removed killed:")
    assert before < 40

    again = holdall_process("artifact", "gc")
    assert again.code == 0, again.err
    # The one Ctrl-C stopped is taken up again (unless it was done but not yet said).
    assert before + again.out.count("removed killed:") in (39, 40)
    assert "0 interrupted save(s)" in holdall_process("artifact", "gc").out
    assert list((Path(store.path) / "_saved" / "killed").iterdir()) == []
    assert client.load_artifact("kept", version=kept.version) == {"kept": True}
    with pytest.raises(NotFoundError):
        client.get_artifact_version("killed")


class Opaque:
    def __init__(self, value: int) -> None:
        self.value = value


def test_pickle_only_when_turned_on(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    with pytest.raises(UnsupportedTypeError) as caught:
        client.save_artifact(Opaque(3), "opaque")
    assert "HOLDALL_ALLOW_PICKLE=1" in (caught.value.fix or "")
    registry.enable_pickle()
    client.save_artifact(Opaque(3), "opaque")
    registry.enable_pickle(False)
    with pytest.raises(UnsupportedTypeError, match="pickled, and loading a pickle runs its code"):
        client.load_artifact("opaque")
    monkeypatch.setenv(registry.PICKLE_ENV, "1")
    assert client.load_artifact("opaque").value == 3


def test_a_registered_materializer_comes_first() -> None:
    @registry.register_materializer
    class FractionMaterializer(BaseMaterializer):
        ASSOCIATED_TYPES = ("fractions.Fraction",)

        def save(self, data: Any) -> None:
            with self.artifact_store.open(self.path("fraction.txt"), "wb") as handle:
                handle.write(str(data).encode())

        def load(self, data_type: type) -> Any:
            with self.artifact_store.open(self.path("fraction.txt"), "rb") as handle:
                return data_type(handle.read().decode())

    version = Client().save_artifact(Fraction(1, 3), "third")
    assert version.materializer.endswith("FractionMaterializer")
    assert version.load() == Fraction(1, 3)


def test_register_materializer_checks_what_it_is_given() -> None:
    with pytest.raises(TypeError, match="ASSOCIATED_TYPES"):
        registry.register_materializer(BaseMaterializer)


ENTRY_POINT_MATERIALIZER = {
    "holdall_fraction/__init__.py": """
        from holdall.materializers import BaseMaterializer

        class FractionMaterializer(BaseMaterializer):
            ASSOCIATED_TYPES = ("fractions.Fraction",)

            def save(self, data):
                with self.artifact_store.open(self.path("f.txt"), "wb") as handle:
                    handle.write(str(data).encode())

            def load(self, data_type):
                with self.artifact_store.open(self.path("f.txt"), "rb") as handle:
                    return data_type(handle.read().decode())
    """,
    "holdall_brokenmat/__init__.py": "raise ImportError('missing dependency')",
}


def test_materializers_from_entry_points(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake_distribution(site, "holdall-fraction", {}, ENTRY_POINT_MATERIALIZER)
    info = site / "holdall_fraction-1.0.dist-info"
    (info / "entry_points.txt").write_text(
        "[holdall.materializers]\n"
        "fraction = holdall_fraction:FractionMaterializer\n"
        "broken = holdall_brokenmat:Thing\n"
    )
    script = (
        "from fractions import Fraction; from holdall import Client; c = Client(); "
        "v = c.save_artifact(Fraction(2, 7), 'f'); print(v.materializer, c.load_artifact('f'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "holdall_fraction:FractionMaterializer 2/7"
    assert "materializer entry point 'broken = holdall_brokenmat:Thing' is broken" in result.stderr


def test_cli_errors_for_missing_artifacts(cli) -> None:
    assert "no artifact called 'nope'" in error_of(cli("artifact", "describe", "nope"))
    Client().save_artifact(1, "one")
    assert "has no version 5" in error_of(cli("artifact", "lineage", "one:5"))
    assert "invalid version 'x'" in error_of(cli("artifact", "describe", "one:x"))
