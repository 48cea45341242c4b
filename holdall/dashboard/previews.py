"""What a version's page shows of its value, from its stored files alone: never unpickled,
never imported as its recorded type, read only when small, and checked before it is shown.
JSON pretty-printed, a .npy file's shape and dtype and first values, a parquet file's
columns and first rows, a text file's first lines; anything else says how to load it."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.artifacts.reading import verified_bytes
from holdall.artifacts.views import ArtifactVersion
from holdall.errors import HoldallError

LARGEST = 1024 * 1024  # bytes read to preview one file
LINES = 20
VALUES = 10
TEXT = {".txt", ".csv", ".tsv", ".md", ".yaml", ".yml", ".log", ".jsonl"}


@dataclass
class Preview:
    path: str
    kind: str  # json, array, table, text, or none
    text: str = ""  # what is shown as it is (escaped by the page)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _load_hint(version: ArtifactVersion) -> str:
    return f"holdall.load_artifact({version.name!r}, version={version.version})"


def previews(version: ArtifactVersion, store: BaseArtifactStore, limit: int = 3) -> list[Preview]:
    """Previews of the version's first `limit` files, by name."""
    return [preview(version, store, path) for path in sorted(version.files)[:limit]]


def preview(version: ArtifactVersion, store: BaseArtifactStore, path: str) -> Preview:
    suffix = PurePosixPath(path).suffix.lower()
    size = version.files[path][0]
    if path in version.codecs:
        return Preview(path, "none", f"stored compressed; to see it: {_load_hint(version)}")
    if suffix not in {".json", ".npy", ".parquet", *TEXT}:
        # A pickle runs code as it is read, and other formats need their own library.
        return Preview(path, "none", f"no preview of this kind of file; {_load_hint(version)}")
    if size > LARGEST:
        return Preview(path, "none", f"too large to preview here; {_load_hint(version)}")
    try:
        data = verified_bytes(version, store, path)
    except FileNotFoundError:
        return Preview(path, "none", "the file is missing from the store")
    except HoldallError as exc:
        return Preview(path, "none", str(exc))
    try:
        if suffix == ".json":
            shown = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
            return Preview(path, "json", _first_lines(shown))
        if suffix == ".npy":
            return _array(path, data, version)
        if suffix == ".parquet":
            return _table(path, data)
    except (ValueError, OSError) as exc:
        return Preview(path, "none", f"cannot be previewed: {exc}")
    return Preview(path, "text", _first_lines(data.decode("utf-8", errors="replace")))


def _first_lines(text: str) -> str:
    lines = text.splitlines()
    more = f"\n... ({len(lines) - LINES} more lines)" if len(lines) > LINES else ""
    return "\n".join(lines[:LINES]) + more


def _array(path: str, data: bytes, version: ArtifactVersion) -> Preview:
    import numpy
    from numpy.lib import format as npy

    handle = io.BytesIO(data)
    major, _ = npy.read_magic(handle)
    header = npy.read_array_header_2_0 if major >= 2 else npy.read_array_header_1_0
    shape, fortran, dtype = header(handle)
    described = f"shape {shape}, dtype {dtype}" + (", Fortran order" if fortran else "")
    if dtype.hasobject:  # objects are pickles: never read
        return Preview(path, "array", f"{described}; objects are not shown: {_load_hint(version)}")
    handle.seek(0)
    values = numpy.load(handle, allow_pickle=False).ravel()[:VALUES].tolist()
    return Preview(path, "array", f"{described}\nfirst values: {values}")


def _table(path: str, data: bytes) -> Preview:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        return Preview(path, "none", "a parquet file: install pyarrow to preview it here")
    table = parquet.read_table(io.BytesIO(data))
    head = table.slice(0, LINES).to_pylist()
    columns = [str(name) for name in table.column_names]
    rows = [[str(row.get(name)) for name in table.column_names] for row in head]
    return Preview(path, "table", f"{table.num_rows} rows", columns, rows)
