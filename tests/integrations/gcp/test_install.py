"""`holdall integration install gcp` in a fresh environment pulls GCP's dependencies only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.core.test_install import tracked_copy
from tests.fixtures.venvs import FreshVenv
from tests.integrations.s3.test_install import packages

OTHER_CLOUDS = re.compile(r"^(boto3|botocore|aiobotocore|s3fs|adlfs|azure-.*)$")


@pytest.mark.slow
def test_installing_gcp_into_a_core_only_environment(tmp_path: Path) -> None:
    checkout = tracked_copy(tmp_path / "checkout")
    environment = FreshVenv.create(tmp_path)
    environment.pip_install(str(checkout))
    before = packages(environment)
    refused = environment.run(
        "holdall",
        "artifact-store",
        "register",
        "g",
        "--flavor=gcs",
        "--path=gs://a-bucket/x",
        check=False,
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "fix: holdall integration install gcp" in refused.stderr

    environment.run("holdall", "integration", "install", "gcp", "-y")
    added = packages(environment) - before
    assert {"holdall-gcp", "gcsfs", "google-auth"} <= added
    assert not {p for p in added if OTHER_CLOUDS.match(p)}, added
    listed = json.loads(environment.run("holdall", "integration", "list", "-o", "json").stdout)
    assert {i["name"]: i["installed"] for i in listed} == {"local": True, "s3": False, "gcp": True}
    light = environment.run(
        "python",
        "-c",
        "import sys; from holdall.cli.main import run; run(['integration', 'list']); "
        "run(['artifact-store', 'flavor', 'describe', 'gcs']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gcsfs', 'google')))",
    ).stdout
    assert light.strip().endswith("[]")
