"""`holdall integration install NAME` in a fresh environment pulls that cloud's dependencies
and no other's (the s3 one, with the installer's own options, is in s3/test_install.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.core.test_install import tracked_copy
from tests.fixtures.venvs import FreshVenv
from tests.integrations.s3.test_install import packages

# What each cloud's integration brings, by distribution name.
CLOUD_PACKAGES = {
    "s3": re.compile(r"^(boto3|botocore|aiobotocore|s3fs)$"),
    "gcp": re.compile(r"^(gcsfs|google-.*)$"),
    "azure": re.compile(r"^(adlfs|azure-.*|msal.*)$"),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("integration", "flavor", "path", "expected", "modules"),
    [
        (
            "gcp",
            "gcs",
            "gs://a-bucket/x",
            {"holdall-gcp", "gcsfs", "google-auth"},
            ("gcsfs", "google"),
        ),
        (
            "azure",
            "azure",
            "az://a-container/x",
            {"holdall-azure", "adlfs", "azure-identity", "azure-storage-blob"},
            ("adlfs", "azure"),
        ),
    ],
)
def test_installing_one_cloud_into_a_core_only_environment(
    tmp_path: Path,
    integration: str,
    flavor: str,
    path: str,
    expected: set[str],
    modules: tuple[str, ...],
) -> None:
    checkout = tracked_copy(tmp_path / "checkout")
    environment = FreshVenv.create(tmp_path)
    environment.pip_install(str(checkout))
    before = packages(environment)
    register = (
        "holdall",
        "artifact-store",
        "register",
        "s",
        f"--flavor={flavor}",
        f"--path={path}",
    )
    refused = environment.run(*register, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"fix: holdall integration install {integration}" in refused.stderr

    environment.run("holdall", "integration", "install", integration, "-y")
    added = packages(environment) - before
    assert expected <= added, added
    others = [pattern for name, pattern in CLOUD_PACKAGES.items() if name != integration]
    assert not {p for p in added if any(other.match(p) for other in others)}, added
    listed = json.loads(environment.run("holdall", "integration", "list", "-o", "json").stdout)
    installed = {i["name"]: i["installed"] for i in listed}
    assert installed == {name: name in ("local", integration) for name in installed}
    assert set(installed) == {"local", "zenml", *CLOUD_PACKAGES}
    environment.run(*register)  # the flavor loads now
    light = environment.run(
        "python",
        "-c",
        "import sys; from holdall.cli.main import run; run(['integration', 'list']); "
        f"run(['artifact-store', 'flavor', 'describe', '{flavor}']); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {modules!r}))",
    ).stdout
    assert light.strip().endswith("[]")
