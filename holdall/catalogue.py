"""flavors.yaml: the catalogue of every integration holdall knows, installed or not.

It holds what the core must know before an integration is installed; `make catalogue`
(tools/catalogue.py) writes it from the integrations themselves. Once installed, an
integration's own metadata and classes are the truth about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from holdall.errors import CatalogueError

FLAVOR_TYPES = ("artifact_store",)
SCHEMA_VERSION = 2


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


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    distribution: str
    source: str  # its folder in a checkout of the repository
    summary: str
    requirements: tuple[str, ...]
    flavors: tuple[FlavorSpec, ...]
    connectors: tuple[ConnectorSpec, ...] = ()
    # PEP 440: the versions of the distribution this core works with ("" for the core's own)
    versions: str = ""

    @property
    def in_core(self) -> bool:
        return self.distribution == "holdall"

    @property
    def requirement(self) -> str:
        """What to ask an installer for: the distribution, in the versions that fit."""
        return f"{self.distribution}{self.versions}"


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
        versions=_field(where, data, "versions", str) if "versions" in data else "",
        summary=_field(where, data, "summary", str),
        requirements=_strings(f"{where}.requirements", _field(where, data, "requirements", list)),
        flavors=tuple(_flavor(f"{where}.flavors[{i}]", f) for i, f in enumerate(flavors)),
        connectors=tuple(
            _connector(f"{where}.connectors[{i}]", c)
            for i, c in enumerate(data.get("connectors") or [])
        ),
    )


def parse_catalogue(document: Any) -> Catalogue:
    """Build the catalogue from the parsed YAML document, checking its shape, so that a
    broken file is named rather than surfacing as a KeyError."""
    if not isinstance(document, dict):
        raise CatalogueError("flavors.yaml: the document must be a mapping")
    if document.get("schema_version") != SCHEMA_VERSION:
        raise CatalogueError(f"flavors.yaml: schema_version must be {SCHEMA_VERSION}")
    integrations = _field("the document", document, "integrations", dict)
    return Catalogue({name: _entry(name, data) for name, data in integrations.items()})


def read_catalogue_text() -> str:
    return resources.files("holdall").joinpath("flavors.yaml").read_text(encoding="utf-8")


def parse_yaml(text: str) -> Any:
    """The YAML document in `text`, refusing a key given twice in one mapping (which YAML
    forbids, and PyYAML would settle silently by keeping the last)."""
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeys(base):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise CatalogueError(
                        f"flavors.yaml: '{key}' is given twice in one mapping "
                        f"(line {key_node.start_mark.line + 1})"
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    try:
        return yaml.load(text, Loader=UniqueKeys)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"flavors.yaml is not valid YAML: {exc}") from exc


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    return parse_catalogue(parse_yaml(read_catalogue_text()))
