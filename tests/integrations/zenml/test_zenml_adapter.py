"""holdall's stores inside real ZenML: ZenML pip-installed into a fresh environment, its
flavor registered through ZenML's own CLI, a two-step ZenML pipeline on a stack whose artifact
store is holdall-backed, the artifacts loaded back with ZenML's Client."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import holdall_process
from tests.fixtures.azurite import Azurite
from tests.fixtures.gcs import GCSServer
from tests.fixtures.integrations import require
from tests.fixtures.moto import CREDENTIALS, EVERYTHING, S3Server, iam_user, revoke, running_moto
from tests.fixtures.package_index import PackageIndex
from tests.fixtures.venvs import FreshVenv

MiB = 1024 * 1024
# One test process builds the ZenML environment (a minute) and runs every test that uses it.
pytestmark = pytest.mark.xdist_group("zenml")

STEPS = """
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
"""

PIPELINE = (
    STEPS
    + """

if __name__ == "__main__":
    numbers_pipeline()
"""
)

# One ZenML process (its start-up is seconds) registers the holdall-backed store and a stack
# through ZenML's Client (the CLI's own path, which other tests take), runs the pipeline and
# loads its artifacts back.
REGISTER_RUN_LOAD = (
    STEPS
    + """
import json, sys
from zenml.client import Client
from zenml.enums import StackComponentType

if __name__ == "__main__":
    client = Client()
    client.create_stack_component(
        name="hs", flavor="holdall", component_type=StackComponentType.ARTIFACT_STORE,
        configuration={"path": sys.argv[1], "holdall_store": sys.argv[2]},
    )
    client.create_stack(name="hstack", components={
        StackComponentType.ORCHESTRATOR: "default", StackComponentType.ARTIFACT_STORE: "hs",
    })
    client.activate_stack("hstack")
    numbers_pipeline()
    loaded = {}
    for name in ("numbers_pipeline::make_numbers::output", "numbers_pipeline::total::output"):
        version = client.get_artifact_version(name)
        loaded[name.split("::")[1]] = {"uri": version.uri, "value": version.load()}
    print(json.dumps(loaded))
"""
)

# A step whose output is written a MiB at a time, and says when four are written.
SLOW_SAVE = """
import os, time
from zenml import pipeline, step
from zenml.enums import ArtifactType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer


class Chunks:
    def __init__(self, count: int) -> None:
        self.count = count


class SlowMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (Chunks,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.DATA

    def save(self, data: Chunks) -> None:
        with fileio.open(os.path.join(self.uri, "data.bin"), "wb") as file:
            for number in range(data.count):
                file.write(os.urandom(1024 * 1024))
                file.flush()
                if number == 3:
                    open(os.environ["HALFWAY"], "w").close()
                time.sleep(0.1)


@step(output_materializers=SlowMaterializer)
def produce() -> Chunks:
    return Chunks(600)


@pipeline(enable_cache=False)
def slow_pipeline():
    produce()


if __name__ == "__main__":
    from zenml.client import Client

    Client().activate_stack(os.environ["STACK"])
    slow_pipeline()
"""

# Two local stores, holdall's and ZenML's own, each in a stack of its own.
TWO_STACKS = """
import sys
from zenml.client import Client
from zenml.enums import StackComponentType

ours, theirs = sys.argv[1:]
client = Client()
client.create_stack_component(
    name="hs", flavor="holdall", component_type=StackComponentType.ARTIFACT_STORE,
    configuration={"path": ours, "holdall_store": "local_store"},
)
client.create_stack_component(
    name="zs", flavor="local", component_type=StackComponentType.ARTIFACT_STORE,
    configuration={"path": theirs},
)
for stack, store in (("hstack", "hs"), ("zstack", "zs")):
    client.create_stack(name=stack, components={
        StackComponentType.ORCHESTRATOR: "default", StackComponentType.ARTIFACT_STORE: store,
    })
"""

OTHER_BUCKET = """
from zenml.client import Client
from zenml.io import fileio

Client().active_stack.artifact_store
try:
    fileio.exists("s3://another-bucket/x")
except ValueError as exc:
    print(exc)
"""

# A write through ZenML's file I/O that fails half-way, inside the store's root and outside.
ROUTED = """
import json, os
from zenml.client import Client
from zenml.io import fileio

Client().active_stack.artifact_store  # made, as a step makes it
left = {{}}
for where, path in (("inside", {inside!r}), ("outside", {outside!r})):
    try:
        with fileio.open(path, "w") as file:
            file.write("half")
            raise RuntimeError("a failed write")
    except RuntimeError:
        pass
    left[where] = os.path.exists(path)
with fileio.open({inside!r}, "w") as file:
    file.write("whole")
with fileio.open({inside!r}) as file:
    left["written"] = file.read()
copied = os.path.join(os.path.dirname({inside!r}), "copied.txt")
fileio.copy({outside!r}, copied)  # across the store's edge: streamed into holdall
with fileio.open(copied) as file:
    left["copied"] = file.read()
try:
    fileio.rename(copied, {outside!r} + ".moved", overwrite=True)
except NotImplementedError as exc:
    left["rename"] = type(exc).__name__
print(json.dumps(left))
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

    def killed_halfway(self, source: str, stack: str) -> None:
        """Run `source` on `stack`, and SIGKILL it (its whole session) once it says it is
        halfway."""
        (self.work / "killed.py").write_text(source)
        halfway = self.work / "halfway"
        halfway.unlink(missing_ok=True)
        env = {**self.env, "HALFWAY": str(halfway), "STACK": stack}
        process = self.environment.start("python", "killed.py", env=env, cwd=self.work)
        deadline = time.monotonic() + 120
        while not halfway.exists():
            assert process.poll() is None, "it ended before it was halfway"
            assert time.monotonic() < deadline, "it never got halfway"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def python(self, source: str) -> str:
        script = self.work / "script.py"
        script.write_text(source)
        return self.environment.run("python", str(script), env=self.env, cwd=self.work).stdout


@pytest.fixture(scope="session")  # not module: other modules' tests may run in between
def zenml_environment(
    tmp_path_factory: pytest.TempPathFactory, package_index: PackageIndex
) -> FreshVenv:
    """ZenML and holdall as a user installs them: `pip install zenml holdall` from the index
    pip is configured with, then the integrations through holdall."""
    where = tmp_path_factory.mktemp("zenml")
    environment = FreshVenv.create(where, settings=package_index.pip_env())
    # ZenML's local database needs its `local` extra.
    environment.pip_install("zenml[local]", "holdall")
    for integration in ("s3", "zenml"):
        environment.run("holdall", "integration", "install", integration, "-y")
    return environment


def _world(environment: FreshVenv, where: Path) -> ZenMLWorld:
    work = where / "project"
    work.mkdir(exist_ok=True)
    env = {
        "HOLDALL_CONFIG_DIR": str(where / "holdall"),
        "ZENML_CONFIG_PATH": str(where / "zenml"),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_COLORS_DISABLED": "true",
        "AUTO_OPEN_DASHBOARD": "false",
        # ZenML prints errors in boxes as wide as the terminal: one wide enough never to
        # break a line (a longer temp path would otherwise split what a test looks for).
        "COLUMNS": "2000",
    }
    return ZenMLWorld(environment, work, env)


@pytest.fixture(scope="session")
def zenml_template(zenml_environment: FreshVenv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ZenML project made once (`zenml init`, the holdall flavor registered): each test
    gets a copy of it, not the 20 s of ZenML's own start-up twice over."""
    where = tmp_path_factory.mktemp("zenml-template")
    template = _world(zenml_environment, where)
    template.run("zenml", "init")
    template.run("zenml", "artifact-store", "flavor", "register",
                 "holdall_zenml.flavor.HoldallArtifactStoreFlavor")  # fmt: skip
    return where


@pytest.fixture
def world(zenml_environment: FreshVenv, zenml_template: Path, tmp_path: Path) -> ZenMLWorld:
    shutil.copytree(zenml_template / "zenml", tmp_path / "zenml")
    shutil.copytree(zenml_template / "project", tmp_path / "project")
    # ZenML's config names its database by absolute path: the copy's own.
    config = tmp_path / "zenml" / "config.yaml"
    config.write_text(config.read_text().replace(str(zenml_template), str(tmp_path)))
    return _world(zenml_environment, tmp_path)


def _run_pipeline_on(world: ZenMLWorld, path: str, holdall_store: str) -> dict[str, dict]:
    (world.work / "run_on_holdall.py").write_text(REGISTER_RUN_LOAD)
    printed = world.out("python", "run_on_holdall.py", path, holdall_store)
    return dict(json.loads(printed.strip().splitlines()[-1]))


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
    # The same folder in another bucket is another place: refused when registered.
    other = s3_server.new_bucket()
    refused = world.run("zenml", "artifact-store", "register", "elsewhere", "--flavor=holdall",
                        f"--path=s3://{other}/zenml", "--holdall_store=s3_store",
                        check=False)  # fmt: skip
    assert f"s3://{other}/zenml is not the path of holdall store 's3_store' ({path})" in refused
    loaded = _run_pipeline_on(world, path, "s3_store")
    assert loaded["make_numbers"]["value"] == {"values": [1, 2, 3]}
    assert loaded["total"]["value"] == 6
    assert all(entry["uri"].startswith(path + "/") for entry in loaded.values())
    # Plain boto3 finds what ZenML wrote through holdall.
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    for entry in loaded.values():
        prefix = entry["uri"].removeprefix(f"s3://{bucket}/")
        assert any(key.startswith(prefix + "/") for key in keys), (prefix, keys)
    # Another bucket is not the holdall store's: ZenML's own S3 file system would serve it,
    # and without ZenML's s3 integration there is none.
    other = world.python(OTHER_BUCKET)
    assert "no file system for scheme 's3://' outside the holdall-backed artifact" in other
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
    # ZenML's file I/O inside the root goes through holdall (a failed write leaves nothing);
    # outside it, ZenML's own local file system keeps what was written.
    routed = world.python(
        ROUTED.format(inside=str(folder / "mine.txt"), outside=str(tmp_path / "x.txt"))
    )
    assert json.loads(routed.strip().splitlines()[-1]) == {
        "inside": False,
        "outside": True,
        "written": "whole",
        "copied": "half",
        "rename": "NotImplementedError",
    }


def _azure_place(request: pytest.FixtureRequest) -> tuple[str, list[str], Callable[[], list[str]]]:
    azurite: Azurite = request.getfixturevalue("azurite")
    container = azurite.new_container()

    def listed() -> list[str]:
        client = azurite.service().get_container_client(container)
        return [f"{container}/{blob.name}" for blob in client.list_blobs()]

    return f"az://{container}/zenml", [f"--connection_string={azurite.connection_string()}"], listed


def _gcs_place(request: pytest.FixtureRequest) -> tuple[str, list[str], Callable[[], list[str]]]:
    gcs: GCSServer = request.getfixturevalue("gcs_server")
    bucket = gcs.new_bucket()
    return (
        f"gs://{bucket}/zenml",
        [f"--endpoint_url={gcs.endpoint}", "--token=anon"],
        lambda: list(gcs.filesystem().find(bucket)),  # type: ignore[attr-defined]
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("integration", "flavor", "place"),
    [("azure", "azure", _azure_place), ("gcp", "gcs", _gcs_place)],
)
def test_a_zenml_pipeline_on_another_cloud(
    world: ZenMLWorld, request: pytest.FixtureRequest, integration: str, flavor: str, place: Any
) -> None:
    """The same flavor over another cloud (Azurite, fake-gcs-server): only holdall's
    integration is added; the cloud's own SDK finds what ZenML wrote."""
    require(f"holdall_{integration}")
    world.run("holdall", "integration", "install", integration, "-y")
    try:
        path, settings, listed = place(request)
        world.run("holdall", "artifact-store", "register", "cloud_store", f"--flavor={flavor}",
                  f"--path={path}", *settings)  # fmt: skip
        loaded = _run_pipeline_on(world, path, "cloud_store")
        assert loaded["make_numbers"]["value"] == {"values": [1, 2, 3]}
        assert loaded["total"]["value"] == 6
        found = listed()
        for entry in loaded.values():
            assert entry["uri"].startswith(path + "/")
            prefix = entry["uri"].split("://", 1)[1]
            assert any(name.startswith(prefix + "/") for name in found), (prefix, found)
    finally:  # the environment is the module's: the next test expects only s3 and zenml
        world.run("holdall", "integration", "uninstall", integration, "-y")


@pytest.mark.slow
def test_importing_the_flavor_loads_no_holdall_flavor_until_zenml_checks_a_path(
    world: ZenMLWorld,
) -> None:
    found = world.python(
        "import sys\n"
        "import holdall_zenml.flavor as adapter\n"
        "print(sorted(m for m in sys.modules if m.startswith('holdall_s3')))\n"
        "print('s3://' in adapter.HoldallArtifactStoreConfig.SUPPORTED_SCHEMES)\n"
        "print('holdall_s3.flavor' in sys.modules)\n"
    )
    assert found.strip().splitlines() == ["[]", "True", "True"], found  # no Alembic log


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
    require("holdall_gcp")
    shared = {"HOLDALL_CONFIG_DIR": world.env["HOLDALL_CONFIG_DIR"]}
    registered = holdall_process(
        "artifact-store", "register", "gcs_store", "--flavor=gcs", "--path=gs://a-bucket/x",
        "--endpoint_url=http://127.0.0.1:1", "--retries=0", "--token=anon", env=shared,
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


@pytest.mark.slow
def test_a_step_killed_while_saving_leaves_no_half_file(world: ZenMLWorld, tmp_path: Path) -> None:
    """Killed in the middle of writing its output: through holdall, the file is not there at
    all (it was staged); through ZenML's own local store, the same kill leaves half of it."""
    ours, theirs = tmp_path / "holdall_artifacts", tmp_path / "zenml_artifacts"
    world.run("holdall", "artifact-store", "register", "local_store", "--flavor=local",
              f"--path={ours}")  # fmt: skip
    (world.work / "two_stacks.py").write_text(TWO_STACKS)
    world.run("python", "two_stacks.py", str(ours), str(theirs))
    left: dict[str, list[Path]] = {}
    for stack, root in (("hstack", ours), ("zstack", theirs)):
        world.killed_halfway(SLOW_SAVE, stack)
        left[stack] = [path for path in root.rglob("*") if path.is_file()]
    assert not [path for path in left["hstack"] if path.name == "data.bin"], left["hstack"]
    staged = [path for path in left["hstack"] if path.name.startswith(".holdall-staged_")]
    assert len(staged) == 1 and staged[0].stat().st_size >= 4 * MiB  # where it was written
    assert f"removed {staged[0]}" in world.run("holdall", "artifact", "gc")
    assert not staged[0].exists()
    half = [path for path in left["zstack"] if path.name == "data.bin"]
    assert len(half) == 1 and 4 * MiB <= half[0].stat().st_size < 600 * MiB


def test_the_flavor_without_zenml_says_what_to_install() -> None:
    import subprocess
    import sys

    require("holdall_zenml")
    if subprocess.run([sys.executable, "-c", "import zenml"], capture_output=True).returncode == 0:
        pytest.skip("ZenML is installed here")  # `make test` installs holdall-zenml without it
    result = subprocess.run(
        [sys.executable, "-c", "import holdall_zenml.flavor"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "holdall-zenml needs ZenML, which is not installed here: pip install zenml" in (
        result.stderr
    )
