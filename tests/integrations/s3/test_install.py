"""`holdall integration install s3` in a fresh environment pulls S3's dependencies only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.core.test_install import tracked_copy
from tests.fixtures.venvs import FreshVenv

REGISTER_S3_STORE = (
    "holdall",
    "artifact-store",
    "register",
    "s3_store",
    "--flavor=s3",
    "--path=s3://my-bucket/zenml-artifacts",
)
OTHER_CLOUDS = re.compile(r"^(gcsfs|adlfs|azure-.*|msal.*|google-.*)$")


def packages(environment: FreshVenv) -> set[str]:
    listed = environment.run("python", "-m", "pip", "list", "--format", "json").stdout
    return {p["name"].lower().replace("_", "-") for p in json.loads(listed)}


@pytest.mark.slow
def test_installing_s3_into_a_core_only_environment(tmp_path: Path) -> None:
    checkout = tracked_copy(tmp_path / "checkout")
    environment = FreshVenv.create(tmp_path)
    environment.pip_install(str(checkout))  # the core alone, as `pip install .` gives it
    environment.pip_install("uv")  # for --uv below
    before = packages(environment)
    assert "holdall" in before and "holdall-s3" not in before

    dry = environment.run("holdall", "integration", "install", "s3", "--dry-run").stdout
    assert f"-m pip install {checkout}/integrations/s3" in dry
    assert "would install holdall-s3==0.1.0" in dry
    assert re.search(r"would install s3fs==", dry) and re.search(r"would install botocore==", dry)
    assert "would install boto3" not in dry  # botocore comes with s3fs; boto3 is not needed
    refused = environment.run(*REGISTER_S3_STORE, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "flavor 's3' comes with the 's3' integration, which is not installed" in refused.stderr
    assert "fix: holdall integration install s3" in refused.stderr

    with_uv = environment.run("holdall", "integration", "install", "s3", "--uv", "--dry-run")
    assert f"uv pip install --python {environment.root}/bin/python" in with_uv.stdout
    assert re.search(r"would install s3fs==", with_uv.stdout)
    assert packages(environment) == before  # dry runs install nothing

    environment.run("holdall", "integration", "install", "s3", "-y")
    environment.run(*REGISTER_S3_STORE)
    added = packages(environment) - before
    assert {"holdall-s3", "s3fs", "aiobotocore", "botocore"} <= added and "boto3" not in added
    assert not {p for p in added if OTHER_CLOUDS.match(p)}, added

    listed = json.loads(environment.run("holdall", "integration", "list", "-o", "json").stdout)
    installed = {i["name"]: i["installed"] for i in listed}
    assert installed == {name: name in ("local", "s3") for name in installed}
    assert {"local", "s3", "gcp", "azure"} <= set(installed)
    light = environment.run(
        "python",
        "-c",
        "import sys; from holdall.cli.main import run; run(['integration', 'list']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 's3fs', 'botocore')))",
    ).stdout
    assert light.strip().endswith("[]")

    environment.run("holdall", "integration", "uninstall", "s3", "-y")
    assert "holdall-s3" not in packages(environment)


@pytest.mark.slow
def test_a_core_installed_from_a_wheel_needs_a_wheelhouse(tmp_path: Path) -> None:
    checkout = tracked_copy(tmp_path / "checkout")
    wheels = tmp_path / "wheels"
    environment = FreshVenv.create(tmp_path)
    environment.run(
        "python",
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--wheel-dir",
        str(wheels),
        str(checkout),
        str(checkout / "integrations" / "s3"),
    )
    core_wheel = next(wheels.glob("holdall-*.whl"))
    environment.pip_install(str(core_wheel))

    refused = environment.run("holdall", "integration", "install", "s3", "-y", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "holdall was not installed from a checkout" in refused.stderr
    assert "--find-links DIR" in refused.stderr

    dry = environment.run(
        "holdall", "integration", "install", "s3", "--dry-run", "--find-links", str(wheels)
    ).stdout
    assert f"install holdall-s3 --find-links {wheels}" in dry
    assert "would install holdall-s3==0.1.0" in dry


def _version(environment: FreshVenv, name: str) -> str:
    code = f"from importlib.metadata import version; print(version({name!r}))"
    return environment.run("python", "-c", code).stdout.strip()


@pytest.mark.slow
def test_an_install_that_would_change_installed_versions_says_so(tmp_path: Path) -> None:
    """An old aiobotocore installed beside the core (another tool's pin, say): holdall-s3
    needs a newer one. The install changes nothing and says how to let it; allowed, it
    upgrades."""
    checkout = tracked_copy(tmp_path / "checkout")
    environment = FreshVenv.create(tmp_path)
    environment.pip_install(str(checkout), "aiobotocore==2.4.2")
    kept = environment.run("holdall", "integration", "install", "s3", "-y", check=False)
    assert kept.returncode == 1 and "Traceback" not in kept.stderr
    assert "(keeping every version installed here as it is)" in kept.stderr
    assert "fix: if it needs newer versions of what is installed: holdall integration install " \
        "s3 --allow-upgrades" in kept.stderr  # fmt: skip
    assert _version(environment, "aiobotocore") == "2.4.2"
    assert "holdall-s3" not in packages(environment)
    environment.run("holdall", "integration", "install", "s3", "-y", "--allow-upgrades")
    assert _version(environment, "aiobotocore") != "2.4.2"
    assert "holdall-s3" in packages(environment)
