"""The `local` flavor: a folder on this machine."""

from __future__ import annotations

import os
from typing import ClassVar

from holdall.artifact_stores.config import ArtifactStoreConfig, split_scheme
from holdall.artifact_stores.flavor import ArtifactStoreFlavor
from holdall.settings import config_dir


class LocalConfig(ArtifactStoreConfig):
    SUPPORTED_SCHEMES: ClassVar[frozenset[str]] = frozenset({"file://"})

    @classmethod
    def normalize_path(cls, path: str) -> str:
        scheme, rest = split_scheme(path.strip())
        if scheme and scheme not in cls.SUPPORTED_SCHEMES:
            raise ValueError(f"'{scheme}' paths are not supported; use a folder path or file://")
        if not rest:
            raise ValueError("the path is empty")
        # Stored absolute, so that the store means the same folder from any working directory.
        return os.path.abspath(os.path.expanduser(rest))


class LocalFlavor(ArtifactStoreFlavor):
    name = "local"
    config_class = LocalConfig
    implementation = "holdall.local.store:LocalArtifactStore"

    @classmethod
    def default_path(cls, store_id: str) -> str:
        return str(config_dir() / "local_stores" / store_id)

    @classmethod
    def example_path(cls) -> str:
        return "/path/to/artifacts"
