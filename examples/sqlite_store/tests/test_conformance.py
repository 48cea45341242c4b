"""The store passes the conformance suite holdall ships for every store: one class."""

from __future__ import annotations

from pathlib import Path

import pytest
from holdall_sqlite.flavor import SQLiteConfig
from holdall_sqlite.store import SQLiteBlobStore

from holdall.testing.conformance import ArtifactStoreConformance


class TestSQLiteBlobStore(ArtifactStoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> SQLiteBlobStore:
        return SQLiteBlobStore(SQLiteConfig(path=f"sqlite://{tmp_path}/blobs.db"))
