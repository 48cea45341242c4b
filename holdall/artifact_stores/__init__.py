"""Artifact stores: the flavor and config contract, and the file API every store shares.

The names a custom store is written with, as ZenML spells them
(`from holdall.artifact_stores import BaseArtifactStore, BaseArtifactStoreConfig`); each is
imported on first use, so that importing this package stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore
    from holdall.artifact_stores.config import ArtifactStoreConfig
    from holdall.artifact_stores.config import ArtifactStoreConfig as BaseArtifactStoreConfig
    from holdall.artifact_stores.filesystem import FilesystemArtifactStore
    from holdall.artifact_stores.flavor import ArtifactStoreFlavor
    from holdall.artifact_stores.flavor import ArtifactStoreFlavor as BaseArtifactStoreFlavor

__all__ = [
    "ArtifactStoreConfig",
    "ArtifactStoreFlavor",
    "BaseArtifactStore",
    "BaseArtifactStoreConfig",
    "BaseArtifactStoreFlavor",
    "FilesystemArtifactStore",
]

_LAZY = {
    "BaseArtifactStore": ("holdall.artifact_stores.base", "BaseArtifactStore"),
    "ArtifactStoreConfig": ("holdall.artifact_stores.config", "ArtifactStoreConfig"),
    "BaseArtifactStoreConfig": ("holdall.artifact_stores.config", "ArtifactStoreConfig"),
    "ArtifactStoreFlavor": ("holdall.artifact_stores.flavor", "ArtifactStoreFlavor"),
    "BaseArtifactStoreFlavor": ("holdall.artifact_stores.flavor", "ArtifactStoreFlavor"),
    "FilesystemArtifactStore": ("holdall.artifact_stores.filesystem", "FilesystemArtifactStore"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'holdall.artifact_stores' has no attribute {name!r}")
