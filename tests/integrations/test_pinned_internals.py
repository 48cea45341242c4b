"""Where an integration reaches into its SDK's internals (no public API does the job), its
requirement pins the range it was tested with, and this test names each internal, so that
a release that moves one fails here, in CI, before a user meets it."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.fixtures.integrations import require


def _requirement(integration: str, distribution: str) -> Requirement:
    """What the installed integration requires of `distribution` (its Requires-Dist: what
    pip reads)."""
    for line in importlib.metadata.requires(f"holdall-{integration}") or []:
        requirement = Requirement(line)
        if requirement.name == distribution:
            return requirement
    raise AssertionError(f"holdall-{integration} does not require {distribution}")


@pytest.mark.parametrize(("integration", "distribution"), [("gcp", "gcsfs"), ("azure", "adlfs")])
def test_an_sdk_whose_internals_are_used_is_pinned_below_its_next_major_version(
    integration: str, distribution: str
) -> None:
    require(f"holdall_{integration}")
    requirement = _requirement(integration, distribution)
    uppers = [s for s in requirement.specifier if s.operator == "<"]
    assert uppers, f"{requirement} has no upper bound"
    installed = Version(importlib.metadata.version(distribution))
    assert installed in requirement.specifier, (installed, str(requirement))
    # The bound is the next major version (a year, for fsspec's family): a newer one is
    # refused by pip until it has been tested here.
    assert Version(uppers[0].version).major == installed.major + 1, str(requirement)


def test_the_gcsfs_internals_the_gcs_store_uses_are_there() -> None:
    require("gcsfs")
    import inspect

    from gcsfs import core, retry

    # store.filesystem_class: gcsfs's request without its own retries, wrapped in ours
    assert callable(core.GCSFileSystem._request.__wrapped__)
    assert "retries" in inspect.signature(retry.retry_request).parameters
    # store._upload: a resumable upload, chunk by chunk, through gcsfs's session
    assert list(inspect.signature(core.upload_chunk).parameters)[:6] == [
        "fs", "location", "data", "offset", "size", "content_type",
    ]  # fmt: skip
    filesystem = core.GCSFileSystem(token="anon", skip_instance_cache=True)
    assert inspect.iscoroutinefunction(filesystem._call)
    assert filesystem._location.startswith("https://")
    assert retry.HttpError({"code": 403, "message": "no"}).code == 403  # store.classify


def test_the_adlfs_internal_the_azure_store_uses_is_there() -> None:
    require("adlfs")
    from adlfs import AzureBlobFileSystem
    from holdall_azure.store import filesystem_class

    # store.filesystem_class overrides do_connect, which adlfs's constructor calls to make
    # its service client: the client is then ours (bounded waits, our retries).
    assert callable(AzureBlobFileSystem.do_connect)

    class Client:
        async def close(self) -> None:  # adlfs closes its client with the filesystem
            pass

    ours = Client()
    made: list[Any] = []

    def make_client() -> Any:
        made.append(ours)
        return ours

    filesystem = filesystem_class()(
        make_client=make_client,
        account_name="devstoreaccount1",
        anon=True,
        skip_instance_cache=True,
    )
    assert made == [ours] and filesystem.service_client is ours
