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


def split_requires(requires: Iterable[str]) -> tuple[str | None, tuple[str, ...]]:
    """A distribution's Requires-Dist, read once: the versions of holdall it requires ("" for
    any, None when it does not require holdall), and the rest but those of its extras (one
    that does not parse is kept as written: what pip makes of it is pip's to say)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    core: str | None = None
    others = []
    for line in requires:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            others.append(line)
            continue
        if canonicalize_name(requirement.name) == "holdall":
            if core is None and not requirement.marker:
                core = str(requirement.specifier)
        elif "extra" not in str(requirement.marker or ""):
            others.append(line)
    return core, tuple(others)


def core_requirement(requires: Iterable[str]) -> str | None:
    return split_requires(requires)[0]


def core_fits(specifier: str) -> bool:
    """Whether this core's version is one of `specifier`."""
    from packaging.specifiers import SpecifierSet

    from holdall import __version__

    return SpecifierSet(specifier).contains(__version__, prereleases=True)
