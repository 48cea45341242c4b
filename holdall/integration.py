"""What an integration's entry point names: a light declaration that imports no SDK.

An integration package's ``__init__`` builds one ``Integration`` and nothing else, in the
manner of fsspec's registry: flavor names map to dotted paths, imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    # PEP 440 specifier for the holdall core versions this integration works with
    requires_core: str = ""


def import_object(dotted: str) -> Any:
    """Import "package.module:attribute"."""
    module_name, sep, attribute = dotted.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{dotted!r} is not of the form 'package.module:Attribute'")
    return getattr(import_module(module_name), attribute)
