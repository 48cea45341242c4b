"""Run every conformance test once per installed artifact-store flavor."""

from __future__ import annotations

import pytest

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.client import Client
from holdall.registry import Registry


def installed_flavors() -> list[str]:
    # Broken ones included: a flavor that is installed but cannot load fails every test here,
    # so that a broken integration never passes CI untested.
    return [f.name for f in Registry.discover().flavors() if f.installed]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "flavor" in metafunc.fixturenames:
        metafunc.parametrize("flavor", installed_flavors())


@pytest.fixture
def store(flavor: str, request: pytest.FixtureRequest) -> BaseArtifactStore:
    problem = {f.name: f.error for f in Registry.discover().flavors()}.get(flavor)
    if problem:
        pytest.fail(f"flavor '{flavor}' is installed but cannot load: {problem}")
    # A flavor installed without a fixture fails here, loudly, rather than going untested.
    fixture = request.getfixturevalue(f"{flavor}_artifact_store")
    assert isinstance(fixture, BaseArtifactStore)
    return fixture


@pytest.fixture
def client(store: BaseArtifactStore) -> Client:
    """A client whose active stack saves into `store`."""
    client = Client()
    client.register_stack(f"stack-{store.name}", store.name)
    client.activate_stack(f"stack-{store.name}")
    return client
