"""flavors.yaml: the catalogue of every integration holdall knows, installed or not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from holdall.errors import CatalogueError

FLAVOR_TYPES = ("artifact_store",)


@dataclass(frozen=True)
class FlavorSpec:
    type: str
    name: str
    schemes: tuple[str, ...]


@dataclass(frozen=True)
class ConnectorSpec:
    type: str
    auth_methods: tuple[str, ...]
    resource_types: tuple[str, ...]


def canonical_name(distribution: str) -> str:
    """A distribution's name as packaging compares them (PEP 503): any case, - _ . alike."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    distribution: str
    source: str
    summary: str
    requirements: tuple[str, ...]
    flavors: tuple[FlavorSpec, ...]
    connectors: tuple[ConnectorSpec, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    entries: dict[str, CatalogueEntry]

    def flavor(self, flavor_type: str, name: str) -> tuple[CatalogueEntry, FlavorSpec] | None:
        for entry in self.entries.values():
            for spec in entry.flavors:
                if spec.type == flavor_type and spec.name == name:
                    return entry, spec
        return None

    def connector(self, type_name: str) -> tuple[CatalogueEntry, ConnectorSpec] | None:
        for entry in self.entries.values():
            for spec in entry.connectors:
                if spec.type == type_name:
                    return entry, spec
        return None


def _field(where: str, data: dict[str, Any], key: str, kind: type) -> Any:
    if key not in data:
        raise CatalogueError(f"flavors.yaml: {where} has no '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise CatalogueError(f"flavors.yaml: {where}.{key} must be a {kind.__name__}")
    return value


def _strings(where: str, values: list[Any]) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in values):
        raise CatalogueError(f"flavors.yaml: {where} must be a list of strings")
    return tuple(values)


def _flavor(where: str, data: Any) -> FlavorSpec:
    if not isinstance(data, dict):
        raise CatalogueError(f"flavors.yaml: {where} must be a mapping")
    flavor_type = _field(where, data, "type", str)
    if flavor_type not in FLAVOR_TYPES:
        raise CatalogueError(f"flavors.yaml: {where}.type must be one of {', '.join(FLAVOR_TYPES)}")
    schemes = _strings(f"{where}.schemes", _field(where, data, "schemes", list))
    return FlavorSpec(type=flavor_type, name=_field(where, data, "name", str), schemes=schemes)


def _connector(where: str, data: Any) -> ConnectorSpec:
    if not isinstance(data, dict):
        raise CatalogueError(f"flavors.yaml: {where} must be a mapping")
    return ConnectorSpec(
        type=_field(where, data, "type", str),
        auth_methods=_strings(f"{where}.auth_methods", _field(where, data, "auth_methods", list)),
        resource_types=_strings(
            f"{where}.resource_types", _field(where, data, "resource_types", list)
        ),
    )


def _entry(name: str, data: Any) -> CatalogueEntry:
    where = f"integrations.{name}"
    if not isinstance(data, dict):
        raise CatalogueError(f"flavors.yaml: {where} must be a mapping")
    flavors = _field(where, data, "flavors", list)
    return CatalogueEntry(
        name=name,
        distribution=_field(where, data, "distribution", str),
        source=_field(where, data, "source", str),
        summary=_field(where, data, "summary", str),
        requirements=_strings(f"{where}.requirements", _field(where, data, "requirements", list)),
        flavors=tuple(_flavor(f"{where}.flavors[{i}]", f) for i, f in enumerate(flavors)),
        connectors=tuple(
            _connector(f"{where}.connectors[{i}]", c)
            for i, c in enumerate(data.get("connectors") or [])
        ),
    )


def parse_catalogue(document: Any) -> Catalogue:
    """Build the catalogue from the parsed YAML document, checking its shape.

    The full schema is holdall/flavors.schema.json (the test suite validates flavors.yaml
    against it); this check keeps a broken file from surfacing as a KeyError at run time
    without loading a JSON-schema validator on every command.
    """
    if not isinstance(document, dict):
        raise CatalogueError("flavors.yaml: the document must be a mapping")
    if document.get("schema_version") != 1:
        raise CatalogueError("flavors.yaml: schema_version must be 1")
    integrations = _field("the document", document, "integrations", dict)
    return Catalogue({name: _entry(name, data) for name, data in integrations.items()})


def read_catalogue_text() -> str:
    return resources.files("holdall").joinpath("flavors.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(read_catalogue_text(), Loader=loader)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"flavors.yaml is not valid YAML: {exc}") from exc
    return parse_catalogue(document)
