"""Finding integrations: entry points, the catalogue, and plugins that are broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from holdall.catalogue import load_catalogue, parse_catalogue
from holdall.errors import FlavorError
from holdall.registry import Registry
from tests.conftest import holdall_process
from tests.fixtures.plugins import install_test_plugins


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
    assert "works with holdall <0.1, but holdall 0.1.0 is installed" in listed["oldcore"]["error"]
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
    assert json.loads(described.out)["config"] == {"block_size": 4096}
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


def _catalogue_with_gcs() -> Registry:
    """The real entry points, and a catalogue that also knows an integration not installed."""
    document = {
        "schema_version": 1,
        "integrations": {
            "local": {
                "distribution": "holdall",
                "source": ".",
                "summary": "Local folders",
                "requirements": [],
                "flavors": [{"type": "artifact_store", "name": "local", "schemes": ["file://"]}],
            },
            "gcs": {
                "distribution": "holdall-gcs",
                "source": "integrations/gcs",
                "summary": "GCS",
                "requirements": ["gcsfs"],
                "flavors": [{"type": "artifact_store", "name": "gcs", "schemes": ["gs://"]}],
            },
        },
    }
    real = Registry.discover()
    return Registry(parse_catalogue(document), real.entry_points)


def test_a_catalogued_integration_that_is_not_installed_names_its_install_command() -> None:
    registry = _catalogue_with_gcs()
    gcs = registry.integration("gcs")
    assert not gcs.installed and gcs.flavors == ("gcs",)
    with pytest.raises(FlavorError) as caught:
        registry.flavor("gcs")
    assert "comes with the 'gcs' integration, which is not installed" in caught.value.message
    assert caught.value.fix == "holdall integration install gcs"


def test_an_unknown_flavor_lists_the_known_ones() -> None:
    registry = _catalogue_with_gcs()
    with pytest.raises(FlavorError, match="unknown flavor 'nope'; known flavors: gcs, local"):
        registry.flavor("nope")


def test_the_catalogue_ships_inside_the_package() -> None:
    catalogue = load_catalogue()
    assert catalogue.entries["local"].distribution == "holdall"


def test_a_flavor_without_a_default_path_needs_one(plugin_env: dict[str, str]) -> None:
    result = holdall_process("artifact-store", "register", "m", "--flavor=memory", env=plugin_env)
    assert result.code == 1 and "Traceback" not in result.err
    assert "flavor 'memory' needs --path" in result.err
    assert "fix: holdall artifact-store register m --flavor=memory --path=memory://" in result.err
