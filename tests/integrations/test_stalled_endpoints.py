"""Every wait on a cloud is bounded by what its message states.

An endpoint that accepts connections and never answers (a stalled socket, the proxy in
front of each emulator) fails each operation, on every cloud, within the budget its error
names: tries x (connect + read timeout), plus the SDK's sleeps between tries. The test
measures the operation alone, in a thread, and fails rather than hang if it never returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from holdall.client import Client
from holdall.errors import HoldallError
from tests.fixtures.moto import CREDENTIALS
from tests.fixtures.proxy import CuttingProxy, proxy_to
from tests.fixtures.waiting import bounded

CLOUDS = ("s3", "gcs", "azure")
WAITS = {"connect_timeout": "1", "read_timeout": "2", "retries": "1"}
# What a loaded machine adds beyond the waits themselves (threads, imports already done).
SLACK_S = 3.0


@dataclass
class Target:
    """Where a store of `flavor` is, reached through a port (the proxy's)."""

    flavor: str
    port: int
    store: Callable[[int], tuple[str, dict[str, str]]]  # proxy port -> (path, settings)


def _target(cloud: str, request: pytest.FixtureRequest) -> Target:
    if cloud == "s3":
        s3: Any = request.getfixturevalue("s3_server")
        bucket = s3.new_bucket()
        port = int(s3.endpoint.rsplit(":", 1)[1])
        return Target(
            "s3",
            port,
            lambda p: (
                f"s3://{bucket}/a",
                {"endpoint_url": f"http://127.0.0.1:{p}", **CREDENTIALS},
            ),
        )
    if cloud == "gcs":
        gcs: Any = request.getfixturevalue("gcs_server")
        bucket = gcs.new_bucket()
        port = int(gcs.endpoint.rsplit(":", 1)[1])
        return Target(
            "gcs",
            port,
            lambda p: (
                f"gs://{bucket}/a",
                {"endpoint_url": f"http://127.0.0.1:{p}", "token": "anon"},
            ),
        )
    azurite: Any = request.getfixturevalue("azurite")
    container = azurite.new_container()

    def azure(p: int) -> tuple[str, dict[str, str]]:
        connection = azurite.connection_string().replace(azurite.host, azurite.through(p))
        return f"az://{container}/a", {"connection_string": connection}

    return Target("azure", azurite.port, azure)


@contextmanager
def through_proxy(target: Target, stalled: bool) -> Iterator[tuple[CuttingProxy, Client]]:
    with proxy_to(target.port, stall=stalled) as proxy:
        yield proxy, Client()


def register(client: Client, target: Target, proxy: CuttingProxy) -> None:
    path, settings = target.store(proxy.port)
    client.register_artifact_store("stalled", target.flavor, path=path, config=settings | WAITS)
    client.register_stack("stalled", "stalled")
    client.activate_stack("stalled")


def stated_budget(message: str) -> float:
    match = re.search(r"did not answer .* within ([\d.]+) s \(2 tries of up to 1 s", message)
    assert match, message
    return float(match.group(1))


@pytest.mark.parametrize("cloud", CLOUDS)
def test_register_on_a_stalled_endpoint_warns_within_the_stated_budget(
    cloud: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _target(cloud, request)
    with through_proxy(target, stalled=True) as (proxy, client):
        elapsed, error = bounded(lambda: register(client, target, proxy))
    assert error is None, error  # registered: its first write checks the owner again
    warning = capsys.readouterr().err
    assert "warning: could not see who owns" in warning, warning
    assert elapsed <= stated_budget(warning) + SLACK_S, (elapsed, warning)


@pytest.mark.parametrize("operation", ["save", "load"])
@pytest.mark.parametrize("cloud", CLOUDS)
def test_a_save_or_load_on_a_stalled_endpoint_fails_within_the_stated_budget(
    cloud: str, operation: str, request: pytest.FixtureRequest
) -> None:
    target = _target(cloud, request)
    with through_proxy(target, stalled=False) as (proxy, client):
        register(client, target, proxy)
        client.save_artifact(b"before the stall", "kept")
        proxy.stall = True  # open connections too: the next request goes unanswered
        if operation == "save":
            elapsed, error = bounded(lambda: client.save_artifact(b"never", "stalled"))
        else:
            elapsed, error = bounded(lambda: client.load_artifact("kept"))
    assert isinstance(error, HoldallError), repr(error)
    message = str(error)
    assert elapsed <= stated_budget(message) + SLACK_S, (elapsed, message)
    assert "--read_timeout=120" in message


def _connector_settings(cloud: str, request: pytest.FixtureRequest, port: int) -> dict[str, str]:
    """(auth method and its settings) of a connector that reaches its cloud through `port`."""
    if cloud == "s3":
        return {
            "auth_method": "secret-key",
            "endpoint_url": f"http://127.0.0.1:{port}",
            **CREDENTIALS,
        }
    if cloud == "gcs":
        return {
            "auth_method": "oauth2-token",
            "token": "ya29.stalled",
            "endpoint_url": f"http://127.0.0.1:{port}",
        }
    azurite: Any = request.getfixturevalue("azurite")
    connection = azurite.connection_string().replace(azurite.host, azurite.through(port))
    return {"auth_method": "connection-string", "connection_string": connection}


CONNECTOR_TYPES = {
    "s3": ("aws", "s3-bucket"),
    "gcs": ("gcp", "gcs-bucket"),
    "azure": ("azure", "blob-container"),
}


@pytest.mark.parametrize("operation", ["register", "verify", "list-resources"])
@pytest.mark.parametrize("cloud", CLOUDS)
def test_a_connector_on_a_stalled_endpoint_fails_within_the_stated_budget(
    cloud: str, operation: str, request: pytest.FixtureRequest
) -> None:
    target = _target(cloud, request)  # a live bucket or container behind the proxy
    kind, resource_type = CONNECTOR_TYPES[cloud]
    with through_proxy(target, stalled=operation == "register") as (proxy, client):
        settings = _connector_settings(cloud, request, proxy.port)
        method = settings.pop("auth_method")
        container = target.store(proxy.port)[0].split("://", 1)[1].split("/", 1)[0]

        def register() -> object:
            return client.create_service_connector(
                "stalled",
                kind,
                resource_type,
                method,
                settings | WAITS,
                resource_id=container,
            )

        if operation == "register":
            elapsed, error = bounded(register)
        else:
            register()  # reached: the endpoint answers until now
            proxy.stall = True
            if operation == "verify":
                elapsed, error = bounded(lambda: client.verify_service_connector("stalled"))
            else:
                elapsed, error = bounded(lambda: client.get_service_connector_resources("stalled"))
    assert isinstance(error, HoldallError), repr(error)
    message = str(error)
    assert "did not answer service connector 'stalled'" in message, message
    assert elapsed <= stated_budget(message) + SLACK_S, (elapsed, message)
    # Exactly the tries the message states (2), whatever the machine's load: one more was
    # what once made the real wait longer than the stated one.
    assert proxy.unanswered_requests == 2, (proxy.unanswered_requests, message)
    mend = "register stalled ..." if operation == "register" else "update stalled"
    assert f"holdall service-connector {mend} --read_timeout=120" in message, message
