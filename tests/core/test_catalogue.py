"""flavors.yaml: valid against its schema, and in step with the integrations it lists."""

from __future__ import annotations

import configparser
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tomllib
import yaml

from holdall.catalogue import parse_catalogue
from holdall.errors import CatalogueError
from holdall.registry import Registry
from tests.conftest import REPO

SCHEMA = json.loads((REPO / "holdall" / "flavors.schema.json").read_text())
DOCUMENT = yaml.safe_load((REPO / "flavors.yaml").read_text())
ENTRIES = sorted(DOCUMENT["integrations"])


def test_flavors_yaml_matches_its_schema() -> None:
    jsonschema.validate(DOCUMENT, SCHEMA)


def test_the_package_copy_is_the_root_file() -> None:
    assert (REPO / "holdall" / "flavors.yaml").resolve() == (REPO / "flavors.yaml").resolve()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("integrations"), "has no 'integrations'"),
        (lambda d: d.update(schema_version=2), "schema_version must be 1"),
        (lambda d: d["integrations"]["local"].pop("distribution"), "has no 'distribution'"),
        (lambda d: d["integrations"]["local"].update(flavors="local"), "flavors must be a list"),
        (
            lambda d: d["integrations"]["local"]["flavors"][0].update(type="orchestrator"),
            "type must be one of",
        ),
        (
            lambda d: d["integrations"]["local"]["flavors"][0].update(schemes=[1]),
            "must be a list of strings",
        ),
    ],
)
def test_a_broken_catalogue_is_refused_by_the_schema_and_the_loader(
    mutate: Any, message: str
) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    mutate(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(document)


def _declared(source: str) -> tuple[str, dict[str, str], list[str]]:
    """(distribution, holdall.integrations entry points, requirements) of the project in
    `source`: the core's setup.cfg, or an integration's pyproject.toml."""
    folder = REPO / source
    if (folder / "setup.cfg").is_file():
        parser = configparser.ConfigParser()
        parser.read(folder / "setup.cfg")
        lines = _lines(parser["options.entry_points"]["holdall.integrations"])
        points = {line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip() for line in lines}
        requires = _lines(parser["options"].get("install_requires", ""))
        return parser["metadata"]["name"], points, requires
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    points = dict(project.get("entry-points", {}).get("holdall.integrations", {}))
    return project["name"], points, list(project.get("dependencies", []))


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ENTRIES)
def test_each_entry_matches_its_project_metadata(name: str) -> None:
    entry = parse_catalogue(DOCUMENT).entries[name]
    distribution, entry_points, requires = _declared(entry.source)
    assert distribution == entry.distribution
    assert name in entry_points, f"{entry.source} declares no entry point '{name}'"
    if entry.distribution == "holdall":
        # Ships in the core: needs nothing beyond the core's own requirements.
        assert entry.requirements == ()
    else:
        beyond_core = [r for r in requires if not r.startswith("holdall")]
        assert sorted(beyond_core) == sorted(entry.requirements)
        assert any(r.startswith("holdall") for r in requires), "must require the core"


@pytest.mark.parametrize("name", ENTRIES)
def test_each_entry_matches_its_flavor_classes(name: str) -> None:
    entry = parse_catalogue(DOCUMENT).entries[name]
    registry = Registry.discover()
    integration = registry.integration(name)
    assert integration.installed, f"`make test` installs every integration; {name} is missing"
    assert integration.declaration is not None
    assert sorted(integration.declaration.artifact_stores) == sorted(f.name for f in entry.flavors)
    for spec in entry.flavors:
        flavor = registry.flavor(spec.name)
        assert (flavor.type, flavor.name) == (spec.type, spec.name)
        assert flavor.schemes() == frozenset(spec.schemes)


@pytest.mark.parametrize("name", ENTRIES)
def test_each_entry_matches_its_connector_types(name: str) -> None:
    from holdall.registry import connector_type

    entry = parse_catalogue(DOCUMENT).entries[name]
    registry = Registry.discover()
    declaration = registry.integration(name).declaration
    assert declaration is not None
    assert sorted(declaration.service_connectors) == sorted(c.type for c in entry.connectors)
    for spec in entry.connectors:
        loaded = connector_type(registry, spec.type)  # checked against the catalogue as it loads
        assert loaded.name == spec.type
        assert tuple(loaded.auth_methods) == spec.auth_methods
        assert tuple(loaded.resource_types) == spec.resource_types


def test_a_connector_type_that_disagrees_with_the_catalogue_is_named() -> None:
    from holdall.catalogue import Catalogue, ConnectorSpec
    from holdall.errors import FlavorError
    from holdall.registry import connector_type

    real = parse_catalogue(DOCUMENT)
    s3 = real.entries["s3"]
    wrong = ConnectorSpec("aws", ("secret-key",), ("s3-bucket",))
    catalogue = Catalogue(
        {**real.entries, "s3": type(s3)(**{**s3.__dict__, "connectors": (wrong,)})}
    )
    registry = Registry.discover(catalogue)
    with pytest.raises(FlavorError, match=r"connector type 'aws'.*flavors.yaml says"):
        connector_type(registry, "aws")


def test_every_integration_in_the_tree_is_catalogued() -> None:
    in_tree = {p.parent.name for p in Path(REPO / "integrations").glob("*/pyproject.toml")}
    catalogued = {e for e in ENTRIES if e != "local"}
    assert in_tree == catalogued
