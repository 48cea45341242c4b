"""The flavor and its config: `--path=sqlite:///abs/path/blobs.db`."""

from typing import ClassVar

from holdall.artifact_stores.config import ArtifactStoreConfig
from holdall.artifact_stores.flavor import ArtifactStoreFlavor


class SQLiteConfig(ArtifactStoreConfig):
    SUPPORTED_SCHEMES: ClassVar[frozenset[str]] = frozenset({"sqlite://"})


class SQLiteFlavor(ArtifactStoreFlavor):
    name = "sqlite"
    config_class = SQLiteConfig
    implementation = "holdall_sqlite.store:SQLiteBlobStore"

    @classmethod
    def example_path(cls) -> str:
        return "sqlite:///data/artifacts.db"
