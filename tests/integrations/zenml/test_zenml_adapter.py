"""holdall's stores inside real ZenML: ZenML pip-installed into a fresh environment, its
flavor registered through ZenML's own CLI, a two-step ZenML pipeline on a stack whose artifact
store is holdall-backed, the artifacts loaded back with ZenML's Client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import holdall_process
from tests.core.test_install import tracked_copy
from tests.fixtures.moto import CREDENTIALS, EVERYTHING, S3Server, iam_user, revoke, running_moto
from tests.fixtures.venvs import FreshVenv

PIPELINE = """
from zenml import pipeline, step


@step
def make_numbers() -> dict:
    return {"values": [1, 2, 3]}


@step
def total(numbers: dict) -> int:
    return sum(numbers["values"])


@pipeline
def numbers_pipeline():
    total(make_numbers())


if __name__ == "__main__":
    numbers_pipeline()
"""

LOAD = """
import json
from zenml.client import Client

client = Client()
loaded = {}
for name in ("numbers_pipeline::make_numbers::output", "numbers_pipeline::total::output"):
    version = client.get_artifact_version(name)
    loaded[name.split("::")[1]] = {"uri": version.uri, "value": version.load()}
print(json.dumps(loaded))
"""


@dataclass
class ZenMLWorld:
    environment: FreshVenv
    work: Path
    env: dict[str, str]

    def run(self, program: str, *args: str, check: bool = True) -> str:
        """What the command printed, stdout and stderr together, its lines joined (ZenML
        wraps what it prints to the width of a terminal)."""
        result = self.environment.run(program, *args, check=check, env=self.env, cwd=self.work)
        return " ".join((result.stdout + result.stderr).split())

    def out(self, program: str, *args: str) -> str:
        return self.environment.run(program, *args, env=self.env, cwd=self.work).stdout

    def python(self, source: str) -> str:
        script = self.work / "script.py"
        script.write_text(source)
        return self.environment.run("python", str(script), env=self.env, cwd=self.work).stdout


@pytest.fixture(scope="module")
def zenml_environment(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    """ZenML and holdall as a user installs them: `pip install zenml holdall`, then the
    integrations through holdall."""
    where = tmp_path_factory.mktemp("zenml")
    checkout = tracked_copy(where / "checkout")
    environment = FreshVenv.create(where)
    # ZenML's local database needs its `local` extra.
    environment.pip_install("zenml[local]", str(checkout))
    for integration in ("s3", "zenml"):
        environment.run("holdall", "integration", "install", integration, "-y")
    return environment


@pytest.fixture
def world(zenml_environment: FreshVenv, tmp_path: Path) -> Iterator[ZenMLWorld]:
    work = tmp_path / "project"
    work.mkdir()
    env = {
        "HOLDALL_CONFIG_DIR": str(tmp_path / "holdall"),
        "ZENML_CONFIG_PATH": str(tmp_path / "zenml"),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_COLORS_DISABLED": "true",
        "AUTO_OPEN_DASHBOARD": "false",
    }
    found = ZenMLWorld(zenml_environment, work, env)
    found.run("zenml", "init")
    found.run("zenml", "artifact-store", "flavor", "register",
              "holdall_zenml.flavor.HoldallArtifactStoreFlavor")  # fmt: skip
    yield found


def _run_pipeline_on(world: ZenMLWorld, path: str, holdall_store: str) -> dict[str, dict]:
    world.run("zenml", "artifact-store", "register", "hs", "--flavor=holdall",
              f"--path={path}", f"--holdall_store={holdall_store}")  # fmt: skip
    world.run("zenml", "stack", "register", "hstack", "-o", "default", "-a", "hs", "--set")
    (world.work / "pipeline.py").write_text(PIPELINE)
    world.run("python", "pipeline.py")
    return dict(json.loads(world.python(LOAD).strip().splitlines()[-1]))


@pytest.mark.slow
def test_a_zenml_pipeline_on_a_holdall_s3_store(world: ZenMLWorld, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    path = f"s3://{bucket}/zenml"
    world.run(
        "holdall", "service-connector", "register", "aws_connector", "--type", "aws",
        "--auth-method=secret-key", f"--aws_access_key_id={CREDENTIALS['aws_access_key_id']}",
        f"--aws_secret_access_key={CREDENTIALS['aws_secret_access_key']}",
        f"--endpoint_url={s3_server.endpoint}", "--region=us-east-1",
    )  # fmt: skip
    world.run("holdall", "artifact-store", "register", "s3_store", "--flavor=s3",
              f"--path={path}", "--connector", "aws_connector")  # fmt: skip
    loaded = _run_pipeline_on(world, path, "s3_store")
    assert loaded["make_numbers"]["value"] == {"values": [1, 2, 3]}
    assert loaded["total"]["value"] == 6
    assert all(entry["uri"].startswith(path + "/") for entry in loaded.values())
    # Plain boto3 finds what ZenML wrote through holdall.
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    for entry in loaded.values():
        prefix = entry["uri"].removeprefix(f"s3://{bucket}/")
        assert any(key.startswith(prefix + "/") for key in keys), (prefix, keys)
    # The store's credentials came from the holdall connector: its audit saw them go out.
    audit = json.loads(world.out("holdall", "service-connector", "audit", "aws_connector",
                                 "-o", "json"))  # fmt: skip
    assert any(e["purpose"] == "issued" and e["outcome"] == "ok" for e in audit), audit


@pytest.mark.slow
def test_a_zenml_pipeline_on_a_holdall_local_store(world: ZenMLWorld, tmp_path: Path) -> None:
    folder = tmp_path / "artifacts"
    world.run("holdall", "artifact-store", "register", "local_store", "--flavor=local",
              f"--path={folder}")  # fmt: skip
    loaded = _run_pipeline_on(world, str(folder), "local_store")
    assert loaded["total"]["value"] == 6
    assert Path(loaded["total"]["uri"]).is_relative_to(folder)
    assert list(folder.rglob("*.json"))


@pytest.mark.slow
def test_bad_registrations_are_refused_with_their_fix(world: ZenMLWorld, tmp_path: Path) -> None:
    folder = tmp_path / "artifacts"
    world.run("holdall", "artifact-store", "register", "local_store", "--flavor=local",
              f"--path={folder}")  # fmt: skip
    other = world.run("zenml", "artifact-store", "register", "x", "--flavor=holdall",
                      f"--path={tmp_path / 'elsewhere'}", "--holdall_store=local_store",
                      check=False)  # fmt: skip
    assert "is not the path of holdall store 'local_store'" in other
    assert f"give the ZenML artifact store --path={folder}" in other
    unknown = world.run("zenml", "artifact-store", "register", "y", "--flavor=holdall",
                        f"--path={folder}", "--holdall_store=nope", check=False)  # fmt: skip
    assert "holdall: no artifact store called 'nope'" in unknown
    # A store registered in the same holdall database from a machine that has holdall-gcp;
    # this environment has not.
    pytest.importorskip("holdall_gcp")
    shared = {"HOLDALL_CONFIG_DIR": world.env["HOLDALL_CONFIG_DIR"]}
    registered = holdall_process(
        "artifact-store", "register", "gcs_store", "--flavor=gcs", "--path=gs://a-bucket/x",
        "--endpoint_url=http://127.0.0.1:1", "--retries=0", env=shared,
    )  # fmt: skip
    assert registered.code == 0, registered.err
    missing = world.run("zenml", "artifact-store", "register", "z", "--flavor=holdall",
                        "--path=gs://a-bucket/x", "--holdall_store=gcs_store",
                        check=False)  # fmt: skip
    assert "comes with the 'gcp' integration, which is not installed" in missing
    assert "fix: holdall integration install gcp" in missing


@pytest.mark.slow
def test_a_revoked_key_and_a_deleted_store_are_named_at_first_use(world: ZenMLWorld) -> None:
    """What worked at registration stops working: the connector's key is revoked, then the
    holdall store is deleted. Each pipeline run fails, naming what and how to mend it."""
    # The first four requests (bucket and user) go unchecked; every later one is checked.
    with running_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "4"}) as server:
        bucket = server.new_bucket()
        keys = iam_user(server, "zenml", EVERYTHING)
        path = f"s3://{bucket}/zenml"
        world.run(
            "holdall", "service-connector", "register", "aws_connector", "--type", "aws",
            "--auth-method=secret-key", *(f"--{k}={v}" for k, v in keys.items()),
            f"--endpoint_url={server.endpoint}", "--region=us-east-1",
        )  # fmt: skip
        world.run("holdall", "artifact-store", "register", "s3_store", "--flavor=s3",
                  f"--path={path}", "--connector", "aws_connector")  # fmt: skip
        world.run("zenml", "artifact-store", "register", "hs", "--flavor=holdall",
                  f"--path={path}", "--holdall_store=s3_store")  # fmt: skip
        world.run("zenml", "stack", "register", "hstack", "-o", "default", "-a", "hs", "--set")
        (world.work / "pipeline.py").write_text(PIPELINE)
        revoke(server, "zenml", keys)
        refused = world.run("python", "pipeline.py", check=False)
    assert "refused the credentials of artifact store 's3_store' from service connector " \
        "'aws_connector'" in refused  # fmt: skip
    assert "fix: holdall service-connector update aws_connector" in refused
    assert keys["aws_secret_access_key"] not in refused
    world.run("holdall", "artifact-store", "delete", "s3_store")
    deleted = world.run("python", "pipeline.py", check=False)
    assert "holdall: no artifact store called 's3_store'" in deleted
    assert "holdall artifact-store register s3_store --flavor=FLAVOR" in deleted
    assert "zenml artifact-store update COMPONENT --holdall_store=NAME" in deleted


def test_the_flavor_without_zenml_says_what_to_install() -> None:
    import subprocess
    import sys

    pytest.importorskip("holdall_zenml", reason="holdall-zenml is not installed")
    if subprocess.run([sys.executable, "-c", "import zenml"], capture_output=True).returncode == 0:
        pytest.skip("ZenML is installed here")  # `make test` installs holdall-zenml without it
    result = subprocess.run(
        [sys.executable, "-c", "import holdall_zenml.flavor"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "holdall-zenml needs ZenML, which is not installed here: pip install zenml" in (
        result.stderr
    )
