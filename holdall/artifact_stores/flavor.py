"""The flavor: what a store is called, how it is configured, and where its code lives."""

from __future__ import annotations

import builtins
from typing import ClassVar

from holdall.artifact_stores.config import ArtifactStoreConfig


class ArtifactStoreFlavor:
    """Subclasses set the class attributes; none of them may import a cloud SDK."""

    type: ClassVar[str] = "artifact_store"
    name: ClassVar[str]
    config_class: ClassVar[builtins.type[ArtifactStoreConfig]]
    # "package.module:StoreClass", imported only when a store is used
    implementation: ClassVar[str]
    # The service connector type that can hand this flavor's stores their credentials, and
    # the resource type a store is to it ("aws", "s3-bucket"); None: it takes no connector.
    connector_type: ClassVar[str | None] = None
    connector_resource_type: ClassVar[str] = ""

    @classmethod
    def schemes(cls) -> frozenset[str]:
        return cls.config_class.SUPPORTED_SCHEMES

    @classmethod
    def default_path(cls, store_id: str) -> str | None:
        """The path a store gets when --path is not given; None when one is required."""
        return None

    @classmethod
    def example_path(cls) -> str:
        container = getattr(cls.config_class, "CONTAINER", "bucket")
        return f"{cls.config_class.usual_scheme()}my-{container}/artifacts"
