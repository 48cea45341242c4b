"""Keep every path inside a store's root: the one check all flavors share."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from holdall.artifact_stores.config import split_scheme
from holdall.errors import PathOutsideStoreError


@dataclass(frozen=True)
class StoreRoot:
    """A store's root, as a URI (`s3://bucket/prefix`, `/abs/dir`) and as an fsspec path."""

    scheme: str  # "" for plain local paths
    fs_root: str  # what fsspec calls the root: "bucket/prefix", "/abs/dir"
    aliases: frozenset[str]  # every scheme that names this store's filesystem
    root_uri: str = ""  # the root as configured, which URIs inside it start with
    # The part of a URI after its scheme, as the filesystem names it: Azure's
    # "container@account/path" is "container/path" to adlfs.
    to_fs: Callable[[str], str] = str

    @classmethod
    def parse(
        cls, uri: str, aliases: frozenset[str], to_fs: Callable[[str], str] = str
    ) -> StoreRoot:
        scheme, rest = split_scheme(uri)
        fs_root = _normalize(to_fs(rest)) if rest else rest
        root_uri = scheme + (_normalize(rest) if rest else rest)
        return cls(scheme, fs_root, aliases | {scheme}, root_uri, to_fs)

    def resolve(self, path: str) -> str:
        """The fsspec path for `path` (a URI in the store, or relative to its root)."""
        scheme, rest = split_scheme(str(path))
        if scheme:
            if scheme not in self.aliases:
                raise self._outside(path)
            candidate = self.to_fs(rest)
        elif rest.startswith("/") and not self.scheme:
            candidate = rest
        else:
            candidate = f"{self.fs_root}/{rest}"
        resolved = _normalize(candidate)
        if not self.contains(resolved):
            raise self._outside(path)
        return resolved

    def contains(self, fs_path: str) -> bool:
        prefix = self.fs_root.rstrip("/") + "/"
        return fs_path == self.fs_root or fs_path.startswith(prefix)

    def enclosing(self) -> list[str]:
        """The fsspec paths of the folders that hold the root, nearest first: up to "/" for a
        local folder, up to the bucket (or container) for one inside a bucket."""
        found: list[str] = []
        path = self.fs_root
        while (parent := posixpath.dirname(path)) and parent != path:
            found.append(parent)
            path = parent
        return found

    def uri(self, fs_path: str) -> str:
        if self.root_uri and self.contains(fs_path):
            return self.root_uri + fs_path[len(self.fs_root) :]
        return f"{self.scheme}{fs_path}"

    def _outside(self, path: str) -> PathOutsideStoreError:
        return PathOutsideStoreError(
            f"'{path}' is outside the artifact store root '{self.root_uri or self.fs_root}'"
        )


def _normalize(path: str) -> str:
    normalized = posixpath.normpath(path)
    # POSIX keeps a leading "//"; one slash is what every filesystem here means.
    return re.sub(r"^/+", "/", normalized)
