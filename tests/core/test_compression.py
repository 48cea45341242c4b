"""Compression on a local store: what is stored (zstd frames any zstd reads, under the codec's
extension), `auto` on data that does not shrink, damaged and cut frames, unknown codecs, bad
settings, a store's own setting, migration and code that runs what it reads. (Every flavor
round-trips compressed versions in tests/conformance/test_artifact_roundtrip.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import blake3
import numpy
import pytest
import zstandard

from holdall import Client, pipeline, step
from holdall.artifacts.integrity import CorruptArtifactError
from holdall.compression import UnknownCodecError
from holdall.errors import ConfigError, NotFoundError
from holdall.metadata.tables import ArtifactVersionRow
from tests.core.test_migration import two_stores

TEXT = b"the same line of a log, again and again\n" * 50_000


def _stored(client: Client, version) -> Path:
    return Path(client.active_stack.artifact_store.resolve(version.uri))


def test_a_compressed_file_is_a_zstd_frame_under_its_codec_name(tmp_path: Path) -> None:
    client = Client()
    version = client.save_artifact(TEXT, "log", compression="zstd")
    (name,) = version.files
    assert name == "data.bin.zst"
    size, _ = version.files[name]
    stored = _stored(client, version) / name
    assert stored.stat().st_size == size < len(TEXT) // 20  # the checksum is of these bytes
    assert zstandard.ZstdDecompressor().decompress(stored.read_bytes()) == TEXT
    if shutil.which("zstd"):  # the command line tool reads it too, where it is installed
        out = tmp_path / "plain"
        subprocess.run(["zstd", "-q", "-d", str(stored), "-o", str(out)], check=True)
        assert out.read_bytes() == TEXT
    assert client.load_artifact("log") == TEXT


def test_auto_stores_what_does_not_shrink_as_it_is() -> None:
    client = Client()
    noise = os.urandom(3 * 1024 * 1024)
    plain = client.save_artifact(noise, "noise", compression="auto")
    assert list(plain.files) == ["data.bin"] and plain.files["data.bin"][0] == len(noise)
    packed = client.save_artifact(TEXT, "text", compression="auto")
    assert list(packed.files) == ["data.bin.zst"]
    assert client.load_artifact("noise") == noise and client.load_artifact("text") == TEXT


@pytest.mark.parametrize("damage", ["flipped", "cut"])
def test_a_damaged_or_cut_frame_is_named_and_nothing_is_handed_out(damage: str) -> None:
    client = Client()
    version = client.save_artifact(TEXT, "log", compression="zstd")
    stored = _stored(client, version) / "data.bin.zst"
    data = bytearray(stored.read_bytes())
    if damage == "flipped":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[-8:]
    stored.write_bytes(bytes(data))
    with pytest.raises(CorruptArtifactError, match="checksum mismatch"):
        client.load_artifact("log")


def _with_manifest_entry_changed(index: int, value: object) -> Client:
    """TEXT saved compressed as "log", then one field of its manifest entry ([size, checksum,
    codec, size decompressed, checksum decompressed]) changed in the database."""
    client = Client()
    version = client.save_artifact(TEXT, "log", compression="zstd")
    with client.database.session() as session:
        row = session.get_one(ArtifactVersionRow, version.id)
        manifest = json.loads(row.files)
        assert manifest["data.bin.zst"][3] == len(TEXT)
        manifest["data.bin.zst"][index] = value
        row.files = json.dumps(manifest)
    return client


def test_an_unknown_codec_in_a_manifest_is_named_and_nothing_is_imported() -> None:
    client = _with_manifest_entry_changed(2, "lz9")
    with pytest.raises(UnknownCodecError, match="codec 'lz9', which this holdall does not"):
        client.load_artifact("log")
    # In a fresh process: the refusal comes before any codec library is imported.
    script = (
        "import sys\nfrom holdall import Client\n"
        "try:\n    Client().load_artifact('log')\nexcept Exception as exc:\n"
        "    print(type(exc).__name__, 'zstandard' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.split() == ["UnknownCodecError", "False"], out.stderr


def test_a_compressed_folder_loaded_once_is_handed_out_again_as_it_lies(tmp_path: Path) -> None:
    client = Client()
    folder = tmp_path / "logs"
    (folder / "day").mkdir(parents=True)
    (folder / "day" / "one.log").write_bytes(TEXT)
    (folder / "two.log").write_bytes(TEXT[::-1])
    version = client.save_artifact(folder, "logs", compression="zstd")
    assert sorted(version.files) == ["files/day/one.log.zst", "files/two.log.zst", "kind.zst"]
    loaded = client.load_artifact("logs")
    assert sorted(p.name for p in loaded.rglob("*.log")) == ["one.log", "two.log"]
    assert (loaded / "day" / "one.log").read_bytes() == TEXT
    # What it decompressed to was recorded: the copy is checked against that, and the
    # stored file (made garbage of its size here) is not read again.
    stored = _stored(client, version) / "files" / "two.log.zst"
    stored.write_bytes(b"\0" * stored.stat().st_size)
    assert client.load_artifact("logs") == loaded
    assert (loaded / "two.log").read_bytes() == TEXT[::-1]
    (loaded / "two.log").write_bytes(b"edited where it lies")  # now it must be fetched
    with pytest.raises(CorruptArtifactError, match=r"two\.log\.zst is not what was saved"):
        client.load_artifact("logs")


def test_describe_shows_each_files_codec_and_its_size_decompressed(cli) -> None:
    version = Client().save_artifact(TEXT, "log", compression="zstd")
    (size, checksum) = version.files["data.bin.zst"]
    described = json.loads(cli("artifact", "describe", "log", "-o", "json").out)
    assert described["files"]["data.bin.zst"] == {
        "size": size,
        "checksum": checksum,
        "codec": "zstd",
        "plain_size": len(TEXT),
        "plain_checksum": "blake3:" + blake3.blake3(TEXT).hexdigest(),
    }
    text = cli("artifact", "describe", "log").out
    assert f"{checksum}  ({size} bytes, zstd, {len(TEXT)} decompressed)" in text, text


def test_bytes_that_decompress_to_what_was_not_saved_are_refused() -> None:
    # As a codec that decodes wrongly would: the bytes decompressed are not those recorded.
    client = _with_manifest_entry_changed(4, "blake3:" + "0" * 64)
    with pytest.raises(CorruptArtifactError, match="decompresses to bytes that are not what"):
        client.load_artifact("log")


def test_bad_settings_are_refused_in_one_line(cli) -> None:
    where = ("--path", "/tmp/holdall-packed")
    refused = cli("artifact-store", "register", "packed", "-f", "local", *where,
                  "--compression=zstd", "--compression_level=99")  # fmt: skip
    assert refused.code != 0 and "compression_level 99 is out of zstd's range 1 to 22" in (
        refused.err
    ), refused.err
    assert "Traceback" not in refused.err
    unknown = cli("artifact-store", "register", "packed", "-f", "local", *where,
                  "--compression=lz4")  # fmt: skip
    assert unknown.code != 0 and "compression" in unknown.err and "Traceback" not in unknown.err
    with pytest.raises(ConfigError, match="compression 'lz4' is not one of none, zstd, auto"):
        Client().save_artifact(b"x", "x", compression="lz4")


def test_a_store_compresses_by_its_setting_and_a_save_may_say_otherwise(tmp_path: Path) -> None:
    client = Client()
    model = client.register_artifact_store(
        "packed", "local", path=str(tmp_path / "packed"), config={"compression": "zstd"}
    )
    client.activate_stack(client.register_stack("packed", model.name).name)
    assert list(client.save_artifact(TEXT, "by-store").files) == ["data.bin.zst"]
    assert list(client.save_artifact(TEXT, "plain", compression="none").files) == ["data.bin"]
    assert client.load_artifact("by-store") == client.load_artifact("plain") == TEXT


def test_migration_keeps_the_stored_bytes_as_they_are(tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    version = client.save_artifact(TEXT, "log", compression="zstd")
    before = (tmp_path / "old" / "_saved" / "log" / "1" / "data.bin.zst").read_bytes()
    client.migrate_artifact_store("old", "new")
    after = (tmp_path / "new" / "_saved" / "log" / "1" / "data.bin.zst").read_bytes()
    assert after == before
    moved = client.get_artifact_version("log", 1)
    assert moved.files == version.files and moved.load() == TEXT


def test_pickled_values_are_decompressed_from_verified_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOLDALL_ALLOW_PICKLE", "1")
    client = Client()
    value = {frozenset({1, 2}), frozenset({3})}
    assert list(client.save_artifact(value, "sets", compression="zstd").files) == ["data.pkl.zst"]
    assert client.load_artifact("sets") == value


def test_without_zstandard_a_compressed_save_names_the_install() -> None:
    # The module made unimportable in a fresh process, as where it was never installed.
    script = (
        "import sys\nsys.modules['zstandard'] = None\nfrom holdall import Client\n"
        "try:\n    Client().save_artifact(b'x' * 100, 'x', compression='zstd')\n"
        "except Exception as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "compression 'zstd' needs the zstandard package" in out.stdout, out.stderr
    assert "pip install 'holdall[zstd]'" in out.stdout
    with pytest.raises(NotFoundError):  # nothing was committed
        Client().list_artifact_versions("x")


@step(compression="zstd")
def make_log() -> Annotated[bytes, "log"]:
    return TEXT


@step
def count_lines(log: bytes) -> Annotated[int, "lines"]:
    return log.count(b"\n")


@pipeline
def log_pipeline():
    count_lines(make_log())


def test_a_step_stores_its_outputs_as_it_says_and_the_next_step_reads_them() -> None:
    run = log_pipeline()
    log = run.steps["make_log"].outputs["log"]
    lines = run.steps["count_lines"].outputs["lines"]
    assert list(log.files) == ["data.bin.zst"]  # the step's own choice
    assert not any(name.endswith(".zst") for name in lines.files)  # the store's: none
    assert lines.load() == 50_000
    with pytest.raises(ConfigError, match="compression 'fast' is not one of"):
        step(compression="fast")(count_lines.func)


def test_auto_decides_on_the_first_block_and_a_seeking_writer_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from holdall.materializers import registry
    from tests.conformance.test_artifact_roundtrip import Bundle, ZipMaterializer

    monkeypatch.setattr(registry, "_registered", [ZipMaterializer])
    client = Client()
    noise = numpy.frombuffer(os.urandom(3 * 1024 * 1024), dtype="uint8")
    plain = client.save_artifact(Bundle(a=noise, b=noise[:10]), "noisy", compression="auto")
    # The zip of noise goes to the store as it is, past its first block, and its writer
    # seeks back to patch headers; the small notes zip is decided at close.
    assert "bundle.npz" in plain.files and plain.files["bundle.npz"][0] > len(noise)
    loaded = client.load_artifact("noisy")
    numpy.testing.assert_array_equal(loaded["a"], noise)
    zeros = numpy.zeros(3 * 1024 * 1024, dtype="uint8")
    packed = client.save_artifact(Bundle(a=zeros, b=zeros[:10]), "quiet", compression="auto")
    assert "bundle.npz.zst" in packed.files
    numpy.testing.assert_array_equal(client.load_artifact("quiet")["a"], zeros)
