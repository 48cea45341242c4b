"""The read-through cache, on S3 (moto): a second load needs nothing from the bucket; damaged,
linked and unwritable caches; eviction; fills left by dead processes; what is never cached."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from holdall import Client
from holdall.artifacts.integrity import CorruptArtifactError
from tests.fixtures.disks import small_disk
from tests.fixtures.integrations import require
from tests.fixtures.moto import CREDENTIALS, S3Server
from tests.fixtures.stores import active_stack
from tests.integrations.s3.test_s3_store import s3_stack

require("holdall_s3")
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("HOLDALL_CACHE_DIR", str(folder))
    return folder


def _entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in (cache_dir / "entries").rglob("*") if p.is_file())


def _remove_from_bucket(server: S3Server, bucket: str, version) -> None:
    prefix = version.uri.removeprefix(f"s3://{bucket}/")
    for name in version.files:
        server.client().delete_object(Bucket=bucket, Key=f"{prefix}/{name}")


def test_a_second_load_needs_nothing_from_the_bucket(
    s3_server: S3Server, cache_dir: Path, cli
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    version = client.save_artifact(PAYLOAD, "blob")
    assert client.load_artifact("blob") == PAYLOAD  # fetched, and cached on the way
    (entry,) = _entries(cache_dir)
    assert entry.name == version.files["data.bin"][1].split(":")[1]
    assert not list((cache_dir / "filling").iterdir())
    _remove_from_bucket(s3_server, bucket, version)
    assert client.load_artifact("blob") == PAYLOAD  # the bucket has it no more
    with pytest.raises(CorruptArtifactError, match="missing"):
        client.load_artifact("blob", cache=False)  # per call: the store itself
    info = cli("cache", "info", "-o", "json")
    assert info.code == 0 and '"entries": 1' in info.out, info.out
    cleared = cli("cache", "clear")
    assert cleared.code == 0 and "Removed 1 entry" in cleared.out
    assert _entries(cache_dir) == []


@pytest.mark.parametrize("damage", ["flipped", "link"])
def test_a_damaged_entry_is_dropped_and_fetched_again(
    s3_server: S3Server, cache_dir: Path, tmp_path: Path, damage: str
) -> None:
    client = s3_stack(s3_server, s3_server.new_bucket())
    client.save_artifact(PAYLOAD, "blob")
    client.load_artifact("blob")
    (entry,) = _entries(cache_dir)
    if damage == "flipped":
        data = bytearray(entry.read_bytes())
        data[1000] ^= 0xFF
        entry.write_bytes(bytes(data))
    else:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_bytes(b"\0" * len(PAYLOAD))  # the right size, the wrong bytes
        entry.unlink()
        entry.symlink_to(elsewhere)
    assert client.load_artifact("blob") == PAYLOAD
    assert not entry.is_symlink() and entry.read_bytes() == PAYLOAD  # filled anew
    if damage == "link":
        assert (tmp_path / "elsewhere").read_bytes() == b"\0" * len(PAYLOAD)


def _loaded_in_a_process(script: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """`script` run in a process of its own (whose cache warns once) with `cache` as its
    cache folder; it must succeed."""
    env = {**os.environ, "HOLDALL_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out


def test_a_cache_that_cannot_be_written_warns_once_and_loads_go_on(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = s3_stack(s3_server, s3_server.new_bucket())
    client.save_artifact(PAYLOAD, "one")
    client.save_artifact(PAYLOAD[::-1], "two")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    script = (
        "import hashlib\nfrom holdall import Client\nc = Client()\n"
        "for name in ('one', 'two', 'one'):\n"
        "    print(hashlib.sha256(c.load_artifact(name)).hexdigest())\n"
    )
    out = _loaded_in_a_process(script, blocker / "cache")
    one, two = hashlib.sha256(PAYLOAD).hexdigest(), hashlib.sha256(PAYLOAD[::-1]).hexdigest()
    assert out.stdout.split() == [one, two, one]
    assert out.stderr.count("cannot be written") == 1, out.stderr


def test_the_least_recently_used_entries_go_first(
    s3_server: S3Server, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOLDALL_CACHE_SIZE", str(int(2.5 * len(PAYLOAD))))
    client = s3_stack(s3_server, s3_server.new_bucket())
    values = {name: bytes([n]) * len(PAYLOAD) for n, name in enumerate("abc")}
    checksums = {}
    for name, value in values.items():
        checksums[name] = client.save_artifact(value, name).files["data.bin"][1].split(":")[1]
    client.load_artifact("a")
    client.load_artifact("b")
    os.utime(_entries(cache_dir)[0], (1, 1))  # whichever: made the oldest, then used again
    client.load_artifact("a")
    client.load_artifact("b")
    client.load_artifact("c")  # over the limit: the entry used least recently goes
    kept = {path.name for path in _entries(cache_dir)}
    assert len(kept) == 2 and checksums["c"] in kept, kept


def test_fills_left_by_a_dead_process_are_cleared_and_live_ones_kept(cache_dir: Path, cli) -> None:
    tag = "from holdall.processes import process_tag; print(process_tag())"
    dead = subprocess.run([sys.executable, "-c", tag], capture_output=True, text=True)
    filling = cache_dir / "filling"
    filling.mkdir(parents=True)
    (filling / f"{dead.stdout.strip()}~abc").write_bytes(b"half")
    from holdall.processes import process_tag

    (filling / f"{process_tag()}~def").write_bytes(b"under way")
    pruned = cli("cache", "prune")
    assert pruned.code == 0 and "1 abandoned fill(s)" in pruned.out, pruned.out
    assert [p.name.split("~")[1] for p in filling.iterdir()] == ["def"]


def test_what_is_never_cached(
    s3_server: S3Server, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    local = Client()
    local.save_artifact(PAYLOAD, "local")
    assert local.load_artifact("local") == PAYLOAD  # a local store: never
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, cache="false")
    client.save_artifact(PAYLOAD, "uncached")
    assert client.load_artifact("uncached") == PAYLOAD  # a store whose cache is off
    assert _entries(cache_dir) == []
    monkeypatch.setenv("HOLDALL_CACHE_SIZE", "0")
    settings = {"endpoint_url": s3_server.endpoint, **CREDENTIALS}
    where = f"s3://{s3_server.new_bucket()}/artifacts"
    client = active_stack("cached", "cached_store", "s3", where, settings)
    client.save_artifact(PAYLOAD, "off")
    assert client.load_artifact("off") == PAYLOAD  # turned off for the machine
    assert _entries(cache_dir) == []
    off = cli("cache", "info")
    assert off.code == 1 and "the cache is turned off" in off.err


def test_two_processes_loading_at_once_fill_one_whole_entry(
    s3_server: S3Server, cache_dir: Path
) -> None:
    client = s3_stack(s3_server, s3_server.new_bucket())
    value = os.urandom(8 * len(PAYLOAD))
    client.save_artifact(value, "shared")
    script = (
        "import hashlib\nfrom holdall import Client\n"
        "print(hashlib.sha256(Client().load_artifact('shared')).hexdigest())\n"
    )
    loads = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    expected = hashlib.sha256(value).hexdigest()
    assert [load.communicate(timeout=120)[0].strip() for load in loads] == [expected] * 3
    (entry,) = _entries(cache_dir)
    assert entry.read_bytes() == value
    assert list((cache_dir / "filling").iterdir()) == []


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def _same_inode(one: Path, other: Path) -> bool:
    return (one.stat().st_dev, one.stat().st_ino) == (other.stat().st_dev, other.stat().st_ino)


def test_a_folder_is_served_from_the_cache_as_links_to_its_entries(
    s3_server: S3Server, cache_dir: Path, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    files = {"a.bin": PAYLOAD, "sub/b.bin": PAYLOAD[::-1], "c.txt": b"three\n"}
    first = client.save_artifact(_folder(tmp_path / "v1", files), "dataset")
    loaded = client.load_artifact("dataset", version=first.version)
    entries = {path.name: path for path in _entries(cache_dir)}
    assert len(entries) == 4  # one entry a file (the marker of its kind too)
    for name, data in files.items():
        assert (loaded / name).read_bytes() == data
        digest = first.files[f"files/{name}"][1].split(":")[1]
        assert _same_inode(loaded / name, entries[digest]), name  # no second copy

    # The next version changes one file: the two it shares come from the cache alone. In
    # the bucket they are made garbage of their size: a read from there would be refused.
    changed = {**files, "c.txt": b"four\n"}
    second = client.save_artifact(_folder(tmp_path / "v2", changed), "dataset")
    prefix = second.uri.removeprefix(f"s3://{bucket}/")
    for name in ("a.bin", "sub/b.bin"):
        s3_server.client().put_object(
            Bucket=bucket, Key=f"{prefix}/files/{name}", Body=b"\0" * len(PAYLOAD)
        )
    again = client.load_artifact("dataset", version=second.version)
    assert {name: (again / name).read_bytes() for name in changed} == changed
    assert _same_inode(again / "a.bin", loaded / "a.bin")


def test_a_damaged_entry_is_never_linked_into_a_tree(
    s3_server: S3Server, cache_dir: Path, tmp_path: Path
) -> None:
    client = s3_stack(s3_server, s3_server.new_bucket())
    files = {"a.bin": PAYLOAD, "b.bin": PAYLOAD[::-1]}
    first = client.save_artifact(_folder(tmp_path / "v1", files), "dataset")
    loaded = client.load_artifact("dataset", version=first.version)
    # Edited in place where it was loaded: the cache entry is the same file, so it changes.
    with (loaded / "a.bin").open("r+b") as handle:
        handle.write(b"edited")
    second = client.save_artifact(_folder(tmp_path / "v2", {**files, "c": b"new"}), "dataset")
    again = client.load_artifact("dataset", version=second.version)
    assert (again / "a.bin").read_bytes() == PAYLOAD  # the entry was refused and fetched anew
    assert not _same_inode(again / "a.bin", loaded / "a.bin")
    reloaded = client.load_artifact("dataset", version=first.version)
    assert (reloaded / "a.bin").read_bytes() == PAYLOAD  # the edited copy was replaced


def test_a_cache_on_another_file_system_serves_a_folder_as_copies(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with small_disk(tmp_path / "other-disk", 16 * len(PAYLOAD)) as disk:
        monkeypatch.setenv("HOLDALL_CACHE_DIR", str(disk / "cache"))
        client = s3_stack(s3_server, s3_server.new_bucket())
        files = {"a.bin": PAYLOAD, "b.bin": PAYLOAD[::-1]}
        version = client.save_artifact(_folder(tmp_path / "v1", files), "dataset")
        loaded = client.load_artifact("dataset")
        assert {name: (loaded / name).read_bytes() for name in files} == files
        assert [(loaded / name).stat().st_nlink for name in files] == [1, 1]  # copies
        assert {p.name for p in _entries(disk / "cache")} == {
            digest.split(":")[1] for _size, digest in version.files.values()
        }


def test_a_cache_on_a_full_disk_warns_once_and_loads_go_on(
    s3_server: S3Server, tmp_path: Path
) -> None:
    client = s3_stack(s3_server, s3_server.new_bucket())
    big = os.urandom(4 * len(PAYLOAD))
    client.save_artifact(big, "big")
    client.save_artifact(_folder(tmp_path / "v1", {"a.bin": big, "b.bin": PAYLOAD}), "dataset")
    with small_disk(tmp_path / "tiny-disk", 2 * len(PAYLOAD)) as disk:
        # Room for the small file, not for the large one, which fills the disk midway.
        script = (
            "import hashlib, sys\nfrom holdall import Client\nc = Client()\n"
            "print(hashlib.sha256(c.load_artifact('big')).hexdigest())\n"
            "tree = c.load_artifact('dataset')\n"
            "for name in ('a.bin', 'b.bin'):\n"
            "    print(hashlib.sha256((tree / name).read_bytes()).hexdigest())\n"
        )
        out = _loaded_in_a_process(script, disk / "cache")
        digests = [hashlib.sha256(value).hexdigest() for value in (big, big, PAYLOAD)]
        assert out.stdout.split() == digests
        assert out.stderr.count("cannot be written") == 1, out.stderr
        assert "No space left on device" in out.stderr, out.stderr
        assert list((disk / "cache" / "filling").iterdir()) == []  # nothing half-written
        kept = _entries(disk / "cache")  # the small file's, and the marker of its kind
        assert sorted(path.stat().st_size for path in kept) == [len(b"directory\n"), len(PAYLOAD)]
