"""Finding integrations: entry points, the catalogue, and plugins that are broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from holdall import __version__
from holdall.catalogue import load_catalogue, parse_catalogue, read_catalogue_text
from holdall.errors import FlavorError
from holdall.registry import Registry
from tests.conftest import holdall_process
from tests.core.test_cli_artifact_store import error_of
from tests.fixtures.plugins import install_conflicting_plugins, install_test_plugins


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(install_test_plugins(tmp_path / "site"))}


def test_the_local_integration_is_found_through_its_entry_point() -> None:
    registry = Registry.discover()
    local = registry.integration("local")
    assert local.installed and local.error is None
    assert local.entry_point == "local = holdall.local:INTEGRATION"
    assert registry.flavor("local").name == "local"


def test_broken_plugins_are_named_and_the_rest_keep_working(plugin_env: dict[str, str]) -> None:
    result = holdall_process("integration", "list", "--output", "json", env=plugin_env)
    assert result.code == 0, result.err
    listed = {entry["name"]: entry for entry in json.loads(result.out)}
    assert listed["local"]["installed"] and listed["local"]["error"] is None
    assert listed["memory"]["installed"] and listed["memory"]["flavors"] == ["memory"]
    assert listed["memory"]["distribution"] == "holdall-memory"
    assert "RuntimeError: boom at import" in listed["explodes"]["error"]
    assert "not a holdall Integration" in listed["wrongtype"]["error"]
    assert (
        f"works with holdall<0.1, but holdall {__version__} is installed"
        in (listed["oldcore"]["error"])
    )
    for name in ("explodes", "wrongtype", "oldcore"):
        assert f"warning: integration '{name}'" in result.err
    assert "Traceback" not in result.err


def test_a_third_party_flavor_is_registered_and_used(plugin_env: dict[str, str]) -> None:
    registered = holdall_process(
        "artifact-store",
        "register",
        "mem",
        "--flavor=memory",
        "--path=memory://bucket/x",
        "--block-size=4096",
        env=plugin_env,
    )
    assert registered.code == 0, registered.err
    described = holdall_process("artifact-store", "describe", "mem", "-o", "json", env=plugin_env)
    config = json.loads(described.out)["config"]
    assert config == {"block_size": 4096, "compression": "none", "compression_level": 3}
    local = holdall_process("artifact-store", "register", "l", "--flavor=local", env=plugin_env)
    assert local.code == 0, local.err


def test_a_broken_flavor_class_is_reported_by_its_integration(plugin_env: dict[str, str]) -> None:
    result = holdall_process(
        "artifact-store", "register", "x", "--flavor=badflavor", "--path=/tmp/x", env=plugin_env
    )
    assert result.code == 1
    assert "integration 'badflavor': flavor 'badflavor' (holdall_badflavor:Flavor)" in result.err
    assert "not an ArtifactStoreFlavor subclass" in result.err
    flavors = holdall_process("artifact-store", "flavor", "list", "-o", "json", env=plugin_env)
    assert flavors.code == 0
    by_name = {f["name"]: f for f in json.loads(flavors.out)}
    assert "not an ArtifactStoreFlavor subclass" in by_name["badflavor"]["error"]
    assert by_name["memory"]["schemes"] == ["memory://"] and by_name["memory"]["error"] is None


def _catalogue_with_oss() -> Registry:
    """The real entry points, and a catalogue that also knows an integration not installed
    (Alibaba's OSS: no such integration exists)."""
    document = {
        "schema_version": 2,
        "integrations": {
            "local": {
                "distribution": "holdall",
                "source": ".",
                "summary": "Local folders",
                "requirements": [],
                "flavors": [{"type": "artifact_store", "name": "local", "schemes": ["file://"]}],
            },
            "oss": {
                "distribution": "holdall-oss",
                "versions": ">=0.2,<0.3",
                "source": "integrations/oss",
                "summary": "Alibaba Cloud OSS",
                "requirements": ["ossfs"],
                "flavors": [{"type": "artifact_store", "name": "oss", "schemes": ["oss://"]}],
            },
        },
    }
    real = Registry.discover()
    return Registry(parse_catalogue(document), real.entry_points)


def test_a_catalogued_integration_that_is_not_installed_names_its_install_command() -> None:
    registry = _catalogue_with_oss()
    oss = registry.integration("oss")
    assert not oss.installed and oss.flavors == ("oss",)
    with pytest.raises(FlavorError) as caught:
        registry.flavor("oss")
    assert "comes with the 'oss' integration, which is not installed" in caught.value.message
    assert caught.value.fix == "holdall integration install oss"


def test_an_installed_integration_of_a_version_the_core_does_not_know_is_named(
    tmp_path: Path,
) -> None:
    """A holdall-memory 1.0 where the catalogue says the core works with 0.2.x (as an install
    with --no-deps could leave it): named, with the install that brings one that fits."""
    site = install_test_plugins(tmp_path / "site")
    document = yaml.safe_load(read_catalogue_text())
    document["integrations"]["memory"] = {
        "distribution": "holdall-memory",
        "versions": ">=0.2,<0.3",
        "source": "integrations/memory",
        "summary": "In memory",
        "requirements": [],
        "flavors": [{"type": "artifact_store", "name": "memory", "schemes": ["memory://"]}],
    }
    sys.path.insert(0, str(site))
    try:
        found = [e for e in Registry.discover().entry_points if e.name == "memory"]
        registry = Registry(parse_catalogue(document), found)
        memory = registry.integration("memory")
        with pytest.raises(FlavorError) as caught:
            registry.flavor("memory")
    finally:
        sys.path.remove(str(site))
    assert memory.installed and memory.version == "1.0"
    assert memory.error == (
        f"holdall-memory 1.0 is installed, but holdall {__version__} works with "
        "holdall-memory>=0.2,<0.3"
    )
    assert caught.value.fix == "holdall integration install memory"


def test_an_unknown_flavor_lists_the_known_ones() -> None:
    registry = _catalogue_with_oss()
    with pytest.raises(FlavorError, match=r"unknown flavor 'nope'; known flavors: .*local, oss"):
        registry.flavor("nope")


def test_the_catalogue_ships_inside_the_package() -> None:
    catalogue = load_catalogue()
    assert catalogue.entries["local"].distribution == "holdall"


def test_a_flavor_without_a_default_path_needs_one(plugin_env: dict[str, str]) -> None:
    result = holdall_process("artifact-store", "register", "m", "--flavor=memory", env=plugin_env)
    assert result.code == 1 and "Traceback" not in result.err
    assert "flavor 'memory' needs --path" in result.err
    assert "fix: holdall artifact-store register m --flavor=memory --path=memory://" in result.err


def test_one_integration_from_two_distributions_is_used_from_neither(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(install_conflicting_plugins(tmp_path / "site"))}
    listed = holdall_process("integration", "list", "-o", "json", env=env)
    memory = {i["name"]: i for i in json.loads(listed.out)}["memory"]
    assert "holdall-memory" in memory["error"] and "holdall-memory-fork" in memory["error"]
    assert "warning: integration 'memory'" in listed.err
    err = error_of(
        holdall_process(
            "artifact-store", "register", "m", "--flavor=memory", "--path=memory://b", env=env
        )
    )
    assert "holdall-memory" in err and "holdall-memory-fork" in err, err


@pytest.mark.parametrize("flavor", ["memory"])
def test_one_flavor_from_two_integrations_is_used_from_neither(tmp_path: Path, flavor: str) -> None:
    site = tmp_path / "site"
    install_conflicting_plugins(site)
    # Without the fork, two integrations (memory, rival) still declare the flavor `memory`.
    for fork in site.glob("holdall_memory_fork-*.dist-info"):
        for path in fork.iterdir():
            path.unlink()
        fork.rmdir()
    env = {"PYTHONPATH": str(site)}
    err = error_of(
        holdall_process(
            "artifact-store", "register", "m", "--flavor=memory", "--path=memory://b", env=env
        )
    )
    assert "flavor 'memory' is declared by 2 installed distributions" in err
    assert "holdall-memory (integration 'memory')" in err
    assert "holdall-rival (integration 'rival')" in err
    assert "holdall uses neither" in err and "fix: pip uninstall holdall-" in err


@pytest.mark.parametrize("flavor", ["lazysdk", "eagersdk"])
def test_a_store_whose_sdk_is_missing_names_its_integration(
    plugin_env: dict[str, str], flavor: str, tmp_path: Path
) -> None:
    script = tmp_path / "use.py"
    script.write_text(
        "from holdall import Client\n"
        "client = Client()\n"
        f"model = client.register_artifact_store('s', '{flavor}', path='nosdk://b/p')\n"
        "client.artifact_store(model).exists('x')\n"
    )
    completed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, **plugin_env},
        timeout=60,
    )
    assert completed.returncode == 1
    error, fix = completed.stderr.strip().splitlines()[-2:]
    assert error.startswith(
        "holdall.errors.FlavorError: integration 'nosdk' cannot import holdall_absent_cloud_sdk"
    ), error
    assert fix == "  fix: holdall integration install nosdk"
    # Not chained onto the ImportError: the traceback is holdall's error alone.
    assert "ModuleNotFoundError" not in completed.stderr.replace(error, "")


def test_every_flavor_shows_an_example_path_its_own_config_takes() -> None:
    """One rule for example paths (the shortest scheme: gs://, not gcs://), and each is a
    path its flavor accepts, for fixes that a user can paste."""
    registry = Registry.discover()
    for info in registry.flavors():
        flavor = registry.flavor(info.name)
        example = flavor.example_path()
        assert flavor.config_class(path=example).path == example
        if flavor.schemes() - {"file://"}:
            assert example.startswith(min(flavor.schemes(), key=lambda s: (len(s), s)))


def test_a_store_that_lacks_part_of_the_file_api_is_named_at_registration(
    plugin_env: dict[str, str],
) -> None:
    """Written as the seed writes a ZenML store (its imports, a custom_param), with only
    open and exists: one line names what is missing, not a TypeError."""
    result = holdall_process(
        "artifact-store", "register", "h", "--flavor=half", "--path=half://bucket/x",
        "--custom_param=y", env=plugin_env,
    )  # fmt: skip
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert "the store of flavor 'half' (holdall_half.flavor:HalfStore) does not implement " \
        "copyfile, glob, isdir" in result.err  # fmt: skip
    assert "fix: implement every method of holdall.artifact_stores.BaseArtifactStore" in result.err
