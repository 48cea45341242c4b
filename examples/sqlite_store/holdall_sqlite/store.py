"""Files as blobs in one SQLite database: the file API implemented directly over sqlite3.

A directory is a row without data (made by mkdir) or the prefix of a file's path. A write is
staged on local disk and inserted in one transaction when the file is closed: whole, or not
at all. Reads stream from the blob.
"""

import fnmatch
import io
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from holdall.artifact_stores.base import BaseArtifactStore, FileStat
from holdall.artifact_stores.staged import StagedFile, is_write_mode, text_writer

SCHEMA = "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, data BLOB, modified REAL)"
CHUNK = 1024 * 1024


class _BlobReader(io.RawIOBase):
    def __init__(self, blob: Any) -> None:
        self._blob = blob

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._blob.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        self._blob.seek(offset, whence)
        return int(self._blob.tell())

    def tell(self) -> int:
        return int(self._blob.tell())

    def close(self) -> None:
        self._blob.close()
        super().close()


class SQLiteBlobStore(BaseArtifactStore):
    OFFLINE = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:  # on first use, never at construction
            database = self.config.path.removeprefix("sqlite://")
            os.makedirs(os.path.dirname(database), exist_ok=True)
            self._connection = sqlite3.connect(database, check_same_thread=False, timeout=60)
            self._connection.execute(SCHEMA)
        return self._connection

    def _key(self, path: str) -> str:
        resolved = self.resolve(path)  # refuses a path that leaves the root
        return resolved[len(self._root.fs_root) :].strip("/")

    def _row(self, key: str) -> tuple[Any, ...] | None:
        with self._lock:
            query = "SELECT rowid, data IS NULL, length(data), modified FROM entries WHERE key=?"
            return self._db().execute(query, (key,)).fetchone()  # type: ignore[no-any-return]

    def _keys_under(self, key: str) -> list[str]:
        prefix = f"{key}/" if key else ""
        with self._lock:
            rows = self._db().execute(
                "SELECT key FROM entries WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
            )
            return [row[0] for row in rows]

    # -- the file API ----------------------------------------------------------------------

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> IO[Any]:
        key = self._key(path)
        if is_write_mode(mode):
            if mode.startswith("x") and self.exists(path):
                raise FileExistsError(path)
            staged = StagedFile(tempfile.gettempdir(), lambda f: self._insert(key, f, mode))
            return staged if "b" in mode else text_writer(staged, **kwargs)
        row = self._row(key)
        if row is None or row[1]:
            raise FileNotFoundError(path) if row is None else IsADirectoryError(path)
        with self._lock:
            blob = self._db().blobopen("entries", "data", row[0], readonly=True)
        reader = io.BufferedReader(_BlobReader(blob), CHUNK)
        return reader if "b" in mode else io.TextIOWrapper(reader, encoding="utf-8")

    def _insert(self, key: str, staged: str, mode: str) -> None:
        size = os.path.getsize(staged)
        verb = "INSERT" if mode.startswith("x") else "INSERT OR REPLACE"
        with self._lock, self._db() as db, open(staged, "rb") as source:
            try:
                cursor = db.execute(
                    f"{verb} INTO entries VALUES (?, zeroblob(?), ?)", (key, size, time.time())
                )
            except sqlite3.IntegrityError:
                raise FileExistsError(key) from None
            with db.blobopen("entries", "data", cursor.lastrowid or 0) as blob:
                while chunk := source.read(CHUNK):
                    blob.write(chunk)

    def exists(self, path: str) -> bool:
        key = self._key(path)
        return self._row(key) is not None or bool(self._keys_under(key))

    def isdir(self, path: str) -> bool:
        key = self._key(path)
        row = self._row(key)
        return bool(row[1]) if row else bool(self._keys_under(key))

    def copyfile(self, src: str, dst: str, overwrite: bool = False) -> None:
        if self.isdir(src) or not self.exists(src):
            raise IsADirectoryError(src) if self.exists(src) else FileNotFoundError(src)
        if self.exists(dst) and not overwrite:
            raise FileExistsError(dst)
        with self._lock, self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO entries SELECT ?, data, ? FROM entries WHERE key=?",
                (self._key(dst), time.time(), self._key(src)),
            )

    def glob(self, pattern: str) -> list[str]:
        key = self._key(pattern)
        depth = key.count("/")
        with self._lock:
            keys = [row[0] for row in self._db().execute("SELECT key FROM entries")]
        found = {k for k in keys if k.count("/") == depth and fnmatch.fnmatchcase(k, key)}
        return sorted(self._uri(k) for k in found)

    def listdir(self, path: str) -> list[str]:
        key = self._key(path)
        if not self.exists(path):
            raise FileNotFoundError(path)
        if not self.isdir(path):
            raise NotADirectoryError(path)
        start = len(key) + 1 if key else 0
        return sorted({k[start:].split("/", 1)[0] for k in self._keys_under(key)})

    def makedirs(self, path: str) -> None:
        key = self._key(path)
        with self._lock, self._db() as db:
            db.execute("INSERT OR IGNORE INTO entries VALUES (?, NULL, ?)", (key, time.time()))

    def mkdir(self, path: str) -> None:
        self.makedirs(path)

    def remove(self, path: str) -> None:
        if self.isdir(path):
            raise IsADirectoryError(path)
        if not self.exists(path):
            raise FileNotFoundError(path)
        with self._lock, self._db() as db:
            db.execute("DELETE FROM entries WHERE key=?", (self._key(path),))

    def rename(self, src: str, dst: str, overwrite: bool = False) -> None:
        old, new = self._key(src), self._key(dst)
        if not self.exists(src):
            raise FileNotFoundError(src)
        if self.exists(dst):
            if not overwrite:
                raise FileExistsError(dst)
            self._delete_tree(new)
        with self._lock, self._db() as db:
            for key in [old, *self._keys_under(old)]:
                db.execute("UPDATE entries SET key=? WHERE key=?", (new + key[len(old) :], key))

    def rmtree(self, path: str) -> None:
        if not self.exists(path):
            raise FileNotFoundError(path)
        if not self.isdir(path):
            raise NotADirectoryError(path)
        self._delete_tree(self._key(path))

    def _delete_tree(self, key: str) -> None:
        with self._lock, self._db() as db:
            for each in [key, *self._keys_under(key)]:
                db.execute("DELETE FROM entries WHERE key=?", (each,))

    def stat(self, path: str) -> FileStat:
        key = self._key(path)
        row = self._row(key)
        if row is None and not self._keys_under(key):
            raise FileNotFoundError(path)
        modified = datetime.fromtimestamp(row[3], tz=timezone.utc) if row else None
        size = 0 if row is None or row[1] else int(row[2])
        return FileStat(self._uri(key), size, self.isdir(path), modified)

    def size(self, path: str) -> int:
        key = self._key(path)
        if not self.exists(path):
            raise FileNotFoundError(path)
        with self._lock:
            total = 0
            for each in [key, *self._keys_under(key)]:
                row = self._row(each)
                total += int(row[2] or 0) if row else 0
            return total

    def walk(self, top: str) -> Iterator[tuple[str, list[str], list[str]]]:
        key = self._key(top)
        if not self.isdir(top):
            return
        dirs: list[str] = []
        files: list[str] = []
        for name in self.listdir(top):
            child = f"{key}/{name}" if key else name
            (dirs if self.isdir(self._uri(child)) else files).append(name)
        yield self._uri(key), dirs, files
        for name in dirs:
            yield from self.walk(self._uri(f"{key}/{name}" if key else name))

    def _uri(self, key: str) -> str:
        return f"{self.path}/{key}" if key else self.path
