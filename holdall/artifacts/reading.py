"""A version's stored files read as they are, each checked against its recorded checksum: for
what hands them on as they arrive (a download), the last piece is held back until the whole
file matched, so a damaged file never arrives whole."""

from __future__ import annotations

from collections.abc import Iterator

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifacts.integrity import CorruptArtifactError, VerifyingStore
from holdall.artifacts.views import ArtifactVersion
from holdall.errors import NotFoundError

PIECE = 1024 * 1024


def stored_file(version: ArtifactVersion, path: str) -> tuple[int, str]:
    """A file of the version's manifest (its size and checksum); only those are read, so no
    name, `../..` or otherwise, reaches anything else."""
    if path not in version.files:
        raise NotFoundError(f"{version.label} has no file '{path}'")
    return version.files[path]


def verified_pieces(
    version: ArtifactVersion, store: BaseArtifactStore, path: str, piece: int = PIECE
) -> Iterator[bytes]:
    stored_file(version, path)
    verifying = VerifyingStore(store, version.uri, version.files)  # stored bytes, as they are
    reader = verifying.open(f"{version.uri}/{path}", "rb")
    try:
        held = reader.read(piece)
        while following := reader.read(piece):
            yield held
            held = following
    finally:
        reader.close()  # checks the file, if it was read whole
    if path not in verifying.verified:
        raise CorruptArtifactError(
            f"{path} of {version.label} does not match its checksum (its size or its bytes)",
            fix=f"holdall artifact describe {version.label} shows what was recorded",
        )
    yield held


def verified_bytes(version: ArtifactVersion, store: BaseArtifactStore, path: str) -> bytes:
    return b"".join(verified_pieces(version, store, path))
