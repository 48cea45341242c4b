"""The flavor: what a store is called, how it is configured, and where its code lives."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, ClassVar

from holdall.artifact_stores.config import ArtifactStoreConfig
from holdall.integration import import_object

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore


class ArtifactStoreFlavor:
    """Subclasses set the class attributes; none of them may import a cloud SDK."""

    type: ClassVar[str] = "artifact_store"
    name: ClassVar[str]
    config_class: ClassVar[builtins.type[ArtifactStoreConfig]]
    # "package.module:StoreClass", imported only when a store is used
    implementation: ClassVar[str]

    @classmethod
    def schemes(cls) -> frozenset[str]:
        return cls.config_class.SUPPORTED_SCHEMES

    @classmethod
    def default_path(cls, store_id: str) -> str | None:
        """The path a store gets when --path is not given; None when one is required."""
        return None

    @classmethod
    def example_path(cls) -> str:
        scheme = min(cls.schemes(), default="")
        return f"{scheme}my-bucket/artifacts"

    @classmethod
    def store(cls, config: ArtifactStoreConfig, **identity: Any) -> BaseArtifactStore:
        from holdall.artifact_stores.base import BaseArtifactStore

        store_class = import_object(cls.implementation)
        if not (isinstance(store_class, type) and issubclass(store_class, BaseArtifactStore)):
            raise TypeError(f"{cls.implementation} is not a BaseArtifactStore subclass")
        return store_class(config, **identity)
