"""The file API every artifact store must honour, run against each flavor's real backend:
the suite holdall ships for every store (holdall.testing.conformance)."""

from holdall.testing.conformance import ArtifactStoreConformance


class TestFileAPI(ArtifactStoreConformance):
    """`store` is conftest.py's: one per installed flavor."""
