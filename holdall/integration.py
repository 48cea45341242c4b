"""What an integration's entry point names: a light declaration that imports no SDK.

An integration package's ``__init__`` builds one ``Integration`` and nothing else, in the
manner of fsspec's registry: flavor names map to dotted paths, imported on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Integration:
    name: str
    # artifact-store flavor name -> "package.module:FlavorClass"
    artifact_stores: Mapping[str, str] = field(default_factory=dict)
    # service-connector type name -> "package.module:ConnectorTypeClass"
    service_connectors: Mapping[str, str] = field(default_factory=dict)
    # The core versions it works with are its distribution's requirement on holdall: the
    # one place pip reads them too.


def import_object(dotted: str) -> Any:
    """Import "package.module:attribute"."""
    module_name, sep, attribute = dotted.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{dotted!r} is not of the form 'package.module:Attribute'")
    return getattr(import_module(module_name), attribute)


def core_requirement(requires: Iterable[str]) -> str | None:
    """The versions of holdall a distribution requires, from its metadata's Requires-Dist
    ("" for any version; None when it does not require holdall)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    for line in requires:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == "holdall" and not requirement.marker:
            return str(requirement.specifier)
    return None


def core_fits(specifier: str) -> bool:
    """Whether this core's version is one of `specifier`."""
    from packaging.specifiers import SpecifierSet

    from holdall import __version__

    return SpecifierSet(specifier).contains(__version__, prereleases=True)
