"""Installed as a user installs it: `pip install holdall` from a package index, then
`holdall integration install s3` (then gcp, azure) from the index pip is configured with.

The index is a real one (pypiserver on 127.0.0.1) serving the wheels `make wheels` built;
third-party dependencies come from the machine's usual index, given as the extra index.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from holdall import __version__
from tests.conftest import REPO
from tests.fixtures.azurite import Azurite
from tests.fixtures.gcs import GCSServer
from tests.fixtures.moto import S3Server
from tests.fixtures.package_index import PackageIndex, installed, serving
from tests.fixtures.venvs import FreshVenv

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Cloud:
    integration: str
    brings: frozenset[str]  # distributions its install must add
    owns: re.Pattern[str]  # what only it may add
    sdk_modules: tuple[str, ...]  # never imported by `integration list` or `--help`


CLOUDS = (
    Cloud(
        "s3",
        frozenset({"holdall-s3", "s3fs", "aiobotocore", "botocore"}),
        re.compile(r"^(boto3|botocore|aiobotocore|s3fs|s3transfer)$"),
        ("boto3", "s3fs", "botocore"),
    ),
    Cloud(
        "gcp",
        frozenset({"holdall-gcp", "gcsfs", "google-auth"}),
        re.compile(r"^(gcsfs|google-.*|googleapis-.*)$"),
        ("gcsfs", "google"),
    ),
    Cloud(
        "azure",
        frozenset({"holdall-azure", "adlfs", "azure-identity", "azure-storage-blob"}),
        re.compile(r"^(adlfs|azure-.*|msal.*)$"),
        ("adlfs", "azure"),
    ),
)

SAVE_AND_LOAD = """
import sys
from holdall import Client
client = Client()
client.activate_stack(client.register_stack(sys.argv[1], sys.argv[1]).name)
version = client.save_artifact({"cloud": sys.argv[1]}, "probe")
print(client.get_artifact_version("probe", version=version.version).load())
"""


def _store_on_emulator(
    cloud: str, s3: S3Server, gcs: GCSServer, azurite: Azurite
) -> list[list[str]]:
    """The connector and the store a user registers for `cloud`, on its emulator."""
    if cloud == "s3":
        connector = [
            "--type", "aws", "--auth-method=secret-key", "--aws_access_key_id=testing",
            "--aws_secret_access_key=testing", f"--endpoint_url={s3.endpoint}",
            "--region=us-east-1",
        ]  # fmt: skip
        path = f"s3://{s3.new_bucket()}/artifacts"
    elif cloud == "gcp":
        connector = [
            "--type", "gcp", "--auth-method=oauth2-token", "--token=ya29.emulator",
            f"--endpoint_url={gcs.endpoint}",
        ]  # fmt: skip
        path = f"gs://{gcs.new_bucket()}/artifacts"
    else:
        connector = [
            "--type", "azure", "--auth-method=connection-string",
            f"--connection_string={azurite.connection_string()}",
        ]  # fmt: skip
        path = f"az://{azurite.new_container()}/artifacts"
    flavor = {"s3": "s3", "gcp": "gcs", "azure": "azure"}[cloud]
    return [
        ["service-connector", "register", f"{cloud}_connector", *connector],
        ["artifact-store", "register", cloud, f"--flavor={flavor}", f"--path={path}",
         "--connector", f"{cloud}_connector"],
    ]  # fmt: skip


def _from_checkout(environment: FreshVenv) -> list[str]:
    """Installed distributions that came from a folder (PEP 610) rather than an index."""
    probe = (
        "import json; from importlib import metadata; "
        "print(json.dumps([d.metadata['Name'] for d in metadata.distributions() "
        "if d.read_text('direct_url.json')]))"
    )
    return list(json.loads(environment.run("python", "-c", probe).stdout))


def test_the_core_from_an_index_then_each_cloud_from_the_index_pip_is_configured_with(
    tmp_path: Path,
    package_index: PackageIndex,
    s3_server: S3Server,
    gcs_server: GCSServer,
    azurite: Azurite,
) -> None:
    environment = FreshVenv.create(tmp_path, settings=package_index.pip_env())
    environment.pip_install("holdall")
    assert installed(environment.python)["holdall"] == __version__
    listed = json.loads(environment.run("holdall", "integration", "list", "-o", "json").stdout)
    assert {i["name"]: i["version"] for i in listed if i["installed"]} == {"local": __version__}

    for cloud in CLOUDS:
        before = installed(environment.python)
        dry = environment.run("holdall", "integration", "install", cloud.integration, "--dry-run")
        assert f"would install holdall-{cloud.integration} {__version__}\n" in dry.stdout
        assert str(REPO) not in dry.stdout + dry.stderr
        assert installed(environment.python) == before  # a dry run installs nothing

        done = environment.run("holdall", "integration", "install", cloud.integration, "-y")
        assert f"Installed integration '{cloud.integration}' (holdall-{cloud.integration} " \
            f"{__version__})" in done.stdout  # fmt: skip
        now = installed(environment.python)
        added = set(now) - set(before)
        assert cloud.brings <= added, added
        others = [c.owns for c in CLOUDS if c is not cloud]
        assert not {p for p in added if any(other.match(p) for other in others)}, added
        assert {name: now[name] for name in before} == before  # nothing installed moved

        for command in _store_on_emulator(cloud.integration, s3_server, gcs_server, azurite):
            environment.run("holdall", *command)
        saved = environment.run("python", "-c", SAVE_AND_LOAD, cloud.integration)
        assert saved.stdout.strip() == str({"cloud": cloud.integration})

        light = environment.run(
            "python",
            "-c",
            "import sys; from holdall.cli.main import run; run(['integration', 'list']); "
            "run(['--help']); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {cloud.sdk_modules!r}))",
        ).stdout
        assert light.strip().endswith("[]")

    listed = json.loads(environment.run("holdall", "integration", "list", "-o", "json").stdout)
    versions = {i["name"]: i["version"] for i in listed if i["installed"]}
    assert versions == {"local": __version__, "s3": __version__, "gcp": __version__,
                        "azure": __version__}  # fmt: skip
    assert _from_checkout(environment) == []  # every distribution came from an index
    environment.run("holdall", "integration", "uninstall", "s3", "-y")
    assert "holdall-s3" not in installed(environment.python)


def test_a_core_from_a_wheel_and_an_integration_from_a_folder_of_wheels(
    tmp_path: Path, release_wheels: Path
) -> None:
    """`--find-links dist/` beside the usual index. With an old aiobotocore installed too
    (another tool's pin, say), the install changes nothing and says how to let it."""
    environment = FreshVenv.create(tmp_path)
    core = next(release_wheels.glob("holdall-*.whl"))
    environment.pip_install(str(core), "aiobotocore==2.4.2")
    before = installed(environment.python)
    install = ("holdall", "integration", "install", "s3", "-y", "--find-links", str(release_wheels))

    kept = environment.run(*install, check=False)
    assert kept.returncode == 1 and "Traceback" not in kept.stderr
    assert "(keeping every version installed here as it is)" in kept.stderr
    assert "fix: if it needs newer versions of what is installed: holdall integration install " \
        "s3 --allow-upgrades" in kept.stderr  # fmt: skip
    assert installed(environment.python) == before

    environment.run(*install, "--allow-upgrades")
    now = installed(environment.python)
    assert now["holdall-s3"] == __version__ and now["aiobotocore"] != "2.4.2"
    assert now["holdall"] == __version__  # the core never moves
    environment.run("holdall", "artifact-store", "register", "s", "--flavor=s3",
                    "--path=s3://a-bucket/x")  # fmt: skip
    # The core was given as a file; the integration was found in the folder, as in an index.
    assert _from_checkout(environment) == ["holdall"]


def _newer_gcp(release_wheels: Path, where: Path) -> Path:
    """holdall-gcp 0.99.0, which works only with a core 0.99 that does not exist yet."""
    source = where / "gcp"
    shutil.copytree(REPO / "integrations" / "gcp", source)
    declaration = source / "holdall_gcp" / "__init__.py"
    declaration.write_text(declaration.read_text().replace(f'"{__version__}"', '"0.99.0"', 1))
    project = source / "pyproject.toml"
    project.write_text(re.sub(r'"holdall>=[^"]*"', '"holdall>=0.99,<0.100"', project.read_text()))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(where),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return next(where.glob("holdall_gcp-0.99.0-*.whl"))


def test_what_an_index_lacks_or_does_not_fit_is_refused_and_nothing_changes(
    tmp_path: Path, release_wheels: Path
) -> None:
    """An index with the core, a holdall-gcp for a newer core and no holdall-azure; one that
    is down; one that wants a password; a folder that is not there; the core's own
    integration."""
    folder = tmp_path / "index"
    folder.mkdir()
    shutil.copy(next(release_wheels.glob("holdall-*.whl")), folder)
    shutil.copy(_newer_gcp(release_wheels, tmp_path / "built"), folder)
    with serving(folder) as index:
        environment = FreshVenv.create(tmp_path / "user", settings=index.pip_env())
        environment.pip_install("holdall")
        before = installed(environment.python)

        def refused(*args: str) -> str:
            result = environment.run("holdall", "integration", "install", *args, check=False)
            assert result.returncode == 1, result.stdout
            assert "Traceback" not in result.stderr
            assert installed(environment.python) == before
            return result.stderr

        lacking = refused("azure", "-y")
        assert "error: holdall-azure is not in " in lacking
        assert "fix: holdall integration install azure --index-url URL" in lacking

        newer = refused("gcp", "-y")
        assert f"has holdall-gcp 0.99.0 (it works with holdall<0.100,>=0.99), but holdall " \
            f"{__version__} works with holdall-gcp>=0.2,<0.3" in newer  # fmt: skip
        assert "fix: pip install 'holdall<0.100,>=0.99'" in newer

        down = refused("s3", "-y", "--index-url", "http://user:s3cr3t-pw@127.0.0.1:9/simple/")
        assert "could not reach a package index (connection refused; pip gave up" in down
        assert "s3cr3t-pw" not in down and "http://user:[HIDDEN]@127.0.0.1:9/simple/" in down

        assert "--find-links /no/such/folder: no such folder" in refused(
            "s3", "-y", "--find-links", "/no/such/folder"
        )

        local = environment.run("holdall", "integration", "uninstall", "local", "-y", check=False)
        assert local.returncode == 1 and "Traceback" not in local.stderr
        assert "'local' ships with the core and cannot be uninstalled on its own" in local.stderr
        assert installed(environment.python) == before


def test_a_password_in_the_index_url_is_used_and_never_shown(
    tmp_path: Path, release_wheels: Path
) -> None:
    from passlib.apache import HtpasswdFile  # type: ignore[import-untyped]

    passwords = HtpasswdFile(str(tmp_path / "htpasswd"), new=True)
    passwords.set_password("alice", "pa55-w0rd")
    passwords.save()
    with serving(release_wheels, passwords=tmp_path / "htpasswd") as index:
        environment = FreshVenv.create(tmp_path / "user")
        environment.pip_install(str(next(release_wheels.glob("holdall-*.whl"))))
        for with_uv in (False, True):
            if with_uv:
                environment.pip_install("uv")
            uv = ["--uv"] if with_uv else []
            authorized = index.url.replace("://", "://alice:pa55-w0rd@")
            dry = environment.run("holdall", "integration", "install", "s3", "--dry-run", *uv,
                                  "--index-url", authorized, *_extra_indexes())  # fmt: skip
            assert f"would install holdall-s3 {__version__}" in dry.stdout
            assert "pa55-w0rd" not in dry.stdout + dry.stderr
            assert index.url.replace("://", "://alice:[HIDDEN]@") in dry.stdout

            wrong = index.url.replace("://", "://alice:not-the-pw@")
            refused = environment.run("holdall", "integration", "install", "s3", "-y", *uv,
                                      "--index-url", wrong, check=False)  # fmt: skip
            assert refused.returncode == 1 and "Traceback" not in refused.stderr
            assert "refused" in refused.stderr and "(403 Forbidden)" in refused.stderr
            assert "not-the-pw" not in refused.stdout + refused.stderr
            assert "holdall-s3" not in installed(environment.python)


def _extra_indexes() -> list[str]:
    from tests.fixtures.package_index import configured_indexes

    return [option for url in configured_indexes() for option in ("--extra-index-url", url)]


def test_no_network_at_all_with_a_folder_of_every_wheel_it_needs(
    tmp_path: Path, package_index: PackageIndex
) -> None:
    """An air-gapped machine: the wheels of holdall-s3 and all it needs, fetched elsewhere
    with `pip download`, and every way out of this machine dead."""
    wheelhouse = tmp_path / "wheelhouse"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "-d", str(wheelhouse),
         "--index-url", package_index.url, *_extra_indexes(), f"holdall-s3=={__version__}"],
        check=True,
        capture_output=True,
        timeout=600,
    )  # fmt: skip
    dead = "http://127.0.0.1:9"
    offline = {"http_proxy": dead, "https_proxy": dead, "HTTP_PROXY": dead,
               "HTTPS_PROXY": dead, "PIP_INDEX_URL": f"{dead}/simple/"}  # fmt: skip
    environment = FreshVenv.create(tmp_path / "user")
    environment.pip_install(str(next(wheelhouse.glob("holdall-0*.whl"))), "--no-index",
                            "--find-links", str(wheelhouse))  # fmt: skip
    environment.settings.update(offline)
    environment.run("holdall", "integration", "install", "s3", "-y", "--no-index",
                    "--find-links", str(wheelhouse))  # fmt: skip
    assert installed(environment.python)["holdall-s3"] == __version__


def test_an_editable_core_installs_integrations_from_its_checkout_and_says_so(
    tmp_path: Path, release_wheels: Path
) -> None:
    from tests.fixtures.venvs import tracked_copy

    checkout = tracked_copy(tmp_path / "checkout")
    environment = FreshVenv.create(tmp_path / "dev")
    environment.run("python", "-m", "pip", "install", "--quiet", "-e", str(checkout))
    dry = environment.run("holdall", "integration", "install", "s3", "--dry-run").stdout
    assert f"would install holdall-s3 from the checkout {checkout}/integrations/s3 (editable" in dry
    assert f"-m pip install -e {checkout}/integrations/s3" in dry
    assert re.search(r"would install s3fs==", dry)
    release = environment.run("holdall", "integration", "install", "s3", "--dry-run",
                              "--find-links", str(release_wheels)).stdout  # fmt: skip
    assert f"would install holdall-s3 {__version__}\n" in release
    assert str(checkout) not in release
