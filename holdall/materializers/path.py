"""A local file or directory, copied into the store and back out, a chunk at a time.

Symbolic links are followed as `cp -rL` follows them: what a link leads to (a file, or a
folder and all it holds, inside the saved folder or not) is stored, and comes back as a copy.
A link to anything else (a FIFO, a socket, a device), to nothing, or to a folder that holds
the link (a copy that would never end) is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from holdall.errors import HoldallError
from holdall.materializers.base import BaseMaterializer
from holdall.processes import spool_prefix
from holdall.settings import config_dir

CHUNK = 8 * 1024 * 1024
FILES = "files"
KIND = "kind"  # a marker file: "file" or "directory", and for a file its name


# Loaded copies of Path artifacts: <config dir>/loaded/<key of the version's uri>, one per
# version. A load finds the copy there, checks it against the version's checksums (hashed
# locally), and hands it out again; only a copy that no longer matches (changed where it
# lies) is replaced, moved aside first (a caller may still hold its path) as
# <key>.replaced-<id>. Half-done loads are <key>.loading<owner>; gc removes both.
LOADED = "loaded"
LOADING, REPLACED = ".loading", ".replaced-"


@runtime_checkable
class KnowsItsFiles(Protocol):
    """A store view that knows the files a version recorded (holdall.artifacts.integrity's
    VerifyingStore, which loads read through)."""

    def holds_same(self, local: Path, under: str) -> bool: ...

    def fetch(self, path: str, local: Path) -> None: ...


def loaded_copy(uri: str) -> Path:
    import blake3

    folder = config_dir() / LOADED
    folder.mkdir(parents=True, exist_ok=True)
    return folder / blake3.blake3(uri.encode()).hexdigest()[:32]


def _publish(staging: Path, place: Path, good: Callable[[Path], bool]) -> None:
    """`staging` at `place`, unless a `good` copy is there already (another process's, made
    meanwhile): that one stays, under the callers that may hold it."""
    for _ in range(3):
        if good(place):
            break
        with contextlib.suppress(FileNotFoundError):
            place.rename(place.with_name(f"{place.name}{REPLACED}{uuid.uuid4().hex[:12]}"))
        try:
            staging.rename(place)
            return
        except OSError:
            continue
    shutil.rmtree(staging, ignore_errors=True)  # theirs is there, and as good as ours


def _refused(source: Path, entry: Path, why: str, fix: str) -> HoldallError:
    link = f" (a link to {os.readlink(entry)})" if entry.is_symlink() else ""
    return HoldallError(f"cannot save {source}: {entry}{link} {why}", fix=fix)


def _files(source: Path, folder: Path, chain: tuple[str, ...]) -> Iterator[Path]:
    """The files under `folder`, links followed, in name order; raises for what cannot be
    saved. `chain` is the real path of each folder on the way down, to see a loop."""
    for entry in sorted(folder.iterdir()):
        try:
            mode = entry.stat().st_mode  # follows links
        except OSError:  # a dangling link, or one that leads to itself
            raise _refused(
                source, entry, "leads to nothing", "remove the link, or make what it names"
            ) from None
        if stat.S_ISREG(mode):
            yield entry
        elif stat.S_ISDIR(mode):
            real = os.path.realpath(entry)
            if real in chain:
                raise _refused(
                    source,
                    entry,
                    f"leads back to {real}, a folder that holds it: the copy would never end",
                    "remove the link, or save the folder it leads to",
                )
            yield from _files(source, entry, (*chain, real))
        else:
            raise _refused(
                source,
                entry,
                "is not a regular file (a FIFO, socket or device)",
                "remove it from the folder, or save the files it should hold",
            )


def _tree(source: Path) -> list[Path]:
    """Every file a save of `source` stores: itself, or what its folder holds."""
    if source.is_file():
        return [source]
    return list(_files(source, source, (os.path.realpath(source),)))


def _copy(source: Any, target: Any) -> None:
    shutil.copyfileobj(source, target, CHUNK)


class PathMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("pathlib.Path", "pathlib._local.Path")

    @classmethod
    def can_save(cls, data: Any) -> bool:
        return bool(data.is_file() or data.is_dir())

    @classmethod
    def check_savable(cls, data: Any) -> None:
        """Refuse, before anything is written, what could not come back as it was: names
        that are not UTF-8 (store paths are text), and files that are no regular files
        (reading a FIFO or a device would never end)."""
        source = Path(data)
        for entry in _tree(source):
            try:
                str(entry.relative_to(source.parent)).encode("utf-8")
            except UnicodeEncodeError:
                raise HoldallError(
                    f"cannot save {source}: the name {entry.name!r} is not UTF-8, and a store "
                    "keeps names as text",
                    fix="rename the file to a UTF-8 name, or save an archive of the folder",
                ) from None

    def save(self, data: Any) -> None:
        source = Path(data)
        if source.is_file():
            self._write_marker(f"file\n{source.name}")
            self._upload(source, f"{FILES}/{source.name}")
            return
        self._write_marker("directory\n")
        for local in _tree(source):
            self._upload(local, f"{FILES}/{local.relative_to(source).as_posix()}")

    def load(self, data_type: type) -> Any:
        with self.artifact_store.open(self.path(KIND), "rb") as handle:
            kind, _, name = handle.read().decode("utf-8").partition("\n")
        place = loaded_copy(self.uri)
        loaded = place / name if kind == "file" else place
        if self._good(place):
            return loaded
        staging = Path(
            tempfile.mkdtemp(prefix=f"{place.name}{LOADING}{spool_prefix()}", dir=place.parent)
        )
        try:
            self._download(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # a failed load leaves nothing
            raise
        _publish(staging, place, self._good)
        return loaded

    def _good(self, place: Path) -> bool:
        """Whether a loaded copy at `place` holds this version's files as it recorded them."""
        store = self.artifact_store
        return isinstance(store, KnowsItsFiles) and store.holds_same(place, self.path(FILES))

    def _download(self, target: Path) -> None:
        prefix = self.artifact_store.resolve(self.path(FILES))
        for directory, _dirs, names in self.artifact_store.walk(self.path(FILES)):
            for file_name in names:
                remote = f"{directory}/{file_name}"
                relative = self.artifact_store.resolve(remote)[len(prefix) + 1 :]
                local = target / relative
                local.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(self.artifact_store, KnowsItsFiles):
                    self.artifact_store.fetch(remote, local)  # linked from the cache, or not
                    continue
                with self.artifact_store.open(remote, "rb") as source, local.open("wb") as out:
                    _copy(source, out)

    def _write_marker(self, text: str) -> None:
        with self.artifact_store.open(self.path(KIND), "wb") as handle:
            handle.write(text.encode("utf-8"))

    def _upload(self, local: Path, relative: str) -> None:
        # Opened without blocking and checked: a file swapped for a FIFO since the check
        # would otherwise wait for a writer for ever.
        descriptor = os.open(local, os.O_RDONLY | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise HoldallError(
                f"cannot save {local}: it is no longer a regular file",
                fix="save it again once it holds the files it should",
            )
        os.set_blocking(descriptor, True)
        target = self.path(relative)
        with os.fdopen(descriptor, "rb") as source, self.artifact_store.open(target, "wb") as out:
            copy_from = getattr(out, "copy_from", None)  # in the kernel, to a local store
            if copy_from is None or not copy_from(descriptor):
                _copy(source, out)
