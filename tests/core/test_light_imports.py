"""`import holdall` and the commands that only read the registry import no cloud SDK."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fixtures.integrations import require

CLOUD_SDKS = ("boto3", "botocore", "s3fs", "gcsfs", "adlfs", "azure", "google")
# Heavy libraries that `--help` and `integration list` must not pay for (see benchmarks/).
HEAVY = ("sqlalchemy", "pydantic")
# The extras' libraries: the dashboard's and the zstd codec, imported only where used.
EXTRAS = ("starlette", "uvicorn", "jinja2", "zstandard")

PROBE = """
import json, sys
import holdall
{action}
roots = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps(roots))
"""


def loaded_after(action: str) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(action=action)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "action",
    [
        "pass",
        "from holdall.cli.main import run; run(['integration', 'list'])",
        "from holdall.cli.main import run; run(['--help'])",
    ],
    ids=["import", "integration-list", "help"],
)
def test_no_cloud_sdk_and_nothing_heavy_is_imported(action: str) -> None:
    loaded = loaded_after(action)
    assert not loaded & set(CLOUD_SDKS), loaded & set(CLOUD_SDKS)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert not loaded & set(EXTRAS), loaded & set(EXTRAS)


def test_registering_and_using_the_local_store_imports_no_cloud_sdk() -> None:
    action = (
        "from holdall.cli.main import run\n"
        "run(['artifact-store', 'register', 's', '--flavor=local'])\n"
        "from holdall import Client\n"
        "store = Client().active_stack.artifact_store\n"
        "store.open('x.txt', 'w').close()"
    )
    loaded = loaded_after(action)
    assert "sqlalchemy" in loaded  # the probe did reach the database
    assert not loaded & set(CLOUD_SDKS)


def _installed_flavors() -> list[str]:
    from holdall.registry import Registry

    return sorted(f.name for f in Registry.discover().flavors() if f.installed)


@pytest.mark.parametrize(
    "command",
    [["artifact-store", "flavor", "list"]]
    + [["artifact-store", "flavor", "describe", name] for name in _installed_flavors()],
    ids=lambda command: "-".join(command[2:]),
)
def test_flavor_commands_import_no_cloud_sdk(command: list[str]) -> None:
    loaded = loaded_after(
        f"from holdall.cli.main import run; assert run({command!r}) == 0, {command!r}"
    )
    assert "holdall" in loaded
    assert not loaded & set(CLOUD_SDKS), loaded & set(CLOUD_SDKS)


@pytest.mark.parametrize(
    "command",
    [
        ["service-connector", "list-types"],
        ["service-connector", "describe-type", "aws"],
        ["artifact-store", "flavor", "describe", "s3"],
    ],
    ids=["list-types", "describe-type", "flavor-describe"],
)
def test_connector_types_and_flavors_are_described_without_their_sdk(command: list[str]) -> None:
    require("holdall_s3")
    loaded = loaded_after(f"from holdall.cli.main import run; assert run({command!r}) == 0")
    assert "holdall_s3" in loaded  # the integration's declarations were read
    assert not loaded & set(CLOUD_SDKS), loaded & set(CLOUD_SDKS)
