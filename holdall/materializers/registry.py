"""Which materializer takes a value: registered ones first, then entry points, then built-ins.

Types are matched by name along the value's MRO, most specific first, so that choosing never
imports a library the value did not bring with it. Pickle is a last resort the user must turn
on (HOLDALL_ALLOW_PICKLE=1 or enable_pickle()), since loading a pickle runs code.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import metadata
from typing import Any

from holdall.errors import HoldallError
from holdall.integration import import_object
from holdall.materializers.base import BaseMaterializer, type_name
from holdall.settings import flag

ENTRY_POINT_GROUP = "holdall.materializers"
PICKLE_ENV = "HOLDALL_ALLOW_PICKLE"
BUILT_IN = (
    "holdall.materializers.builtin:BuiltinMaterializer",
    "holdall.materializers.builtin:BytesMaterializer",
    "holdall.materializers.numpy:NumpyMaterializer",
    "holdall.materializers.pandas:PandasMaterializer",
    "holdall.materializers.pydantic:PydanticMaterializer",
    "holdall.materializers.path:PathMaterializer",
)
PICKLE = "holdall.materializers.pickle:PickleMaterializer"

_registered: list[type[BaseMaterializer]] = []
_pickle = {"enabled": False}


class UnsupportedTypeError(HoldallError):
    pass


def dotted(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def associated_names(cls: type[BaseMaterializer]) -> frozenset[str]:
    """The "module.QualName" of each type a materializer takes, whether given as a type or
    as a string: values are matched by name, so that matching imports nothing."""
    return frozenset(t if isinstance(t, str) else type_name(t) for t in cls.ASSOCIATED_TYPES)


def _check(cls: Any, origin: str) -> type[BaseMaterializer]:
    if not (isinstance(cls, type) and issubclass(cls, BaseMaterializer)):
        raise TypeError(f"{origin} is not a BaseMaterializer subclass")
    types = cls.ASSOCIATED_TYPES
    if not isinstance(types, tuple) or not types:
        raise TypeError(f"{origin} must list its types in ASSOCIATED_TYPES, a non-empty tuple")
    if not all(isinstance(t, (str, type)) for t in types):
        raise TypeError(
            f"{origin}: ASSOCIATED_TYPES holds types or 'module.Class' strings, not "
            + ", ".join(sorted({type(t).__name__ for t in types if not isinstance(t, (str, type))}))
        )
    return cls


def checked(cls: Any) -> type[BaseMaterializer]:
    return _check(cls, dotted(cls) if isinstance(cls, type) else repr(cls))


def register_materializer(cls: type[BaseMaterializer]) -> type[BaseMaterializer]:
    """Use `cls` for its ASSOCIATED_TYPES ahead of everything else (usable as a decorator).

    Defining a subclass already does this; registering again moves it to the front.
    """
    checked(cls)
    if cls in _registered:
        _registered.remove(cls)
    _registered.insert(0, cls)
    return cls


def enable_pickle(enabled: bool = True) -> None:
    _pickle["enabled"] = enabled


def pickle_allowed() -> bool:
    return _pickle["enabled"] or flag(PICKLE_ENV, default=False)


@lru_cache(maxsize=1)
def _from_entry_points() -> tuple[type[BaseMaterializer], ...]:
    found = []
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"materializer entry point '{entry_point.name} = {entry_point.value}'"
        try:
            found.append(_check(entry_point.load(), origin))
        except Exception as exc:  # a broken plugin is named and skipped, never fatal
            print(f"warning: {origin} is broken: {type(exc).__name__}: {exc}", file=sys.stderr)
    return tuple(found)


def _built_in() -> list[type[BaseMaterializer]]:
    return [import_object(path) for path in BUILT_IN]


def candidates() -> list[type[BaseMaterializer]]:
    return [*_registered, *_from_entry_points(), *_built_in()]


def choose(data: Any) -> type[BaseMaterializer]:
    options = [(m, associated_names(m)) for m in candidates()]
    for cls in type(data).__mro__:
        name = type_name(cls)
        for materializer, names in options:
            if name in names and materializer.can_save(data):
                return materializer
    if pickle_allowed():
        return _check(import_object(PICKLE), PICKLE)
    raise UnsupportedTypeError(
        f"no materializer takes a value of type {type_name(type(data))}",
        fix="return a supported type (JSON-able builtins, bytes, numpy, pandas, pydantic, "
        "Path), register one with holdall.materializers.register_materializer(...), or "
        f"allow pickle with {PICKLE_ENV}=1 (loading a pickle runs its code)",
    )


def by_name(name: str) -> type[BaseMaterializer]:
    """The materializer recorded for a version: a known one, or, as ZenML does, the class at
    its recorded import path, provided that is a materializer."""
    if name == PICKLE:
        if not pickle_allowed():
            raise UnsupportedTypeError(
                "this artifact was pickled, and loading a pickle runs its code",
                fix=f"if you trust who saved it: {PICKLE_ENV}=1",
            )
        return _check(import_object(PICKLE), PICKLE)
    for materializer in candidates():
        if dotted(materializer) == name:
            return materializer
    return _import_recorded(name)


def _import_recorded(name: str) -> type[BaseMaterializer]:
    module = name.partition(":")[0]
    if module == "__main__":
        raise UnsupportedTypeError(
            f"the materializer {name} that saved this artifact was defined in a script, "
            "and this process runs another one",
            fix="move the materializer into a module that both import",
        )
    try:
        found = import_object(name)
    except Exception as exc:  # whatever the recorded module does when it fails to import
        raise UnsupportedTypeError(
            f"the materializer {name} that saved this artifact cannot be imported here "
            f"({type(exc).__name__}: {exc})",
            fix="install the package that provides it, or register it with "
            "holdall.materializers.register_materializer(...)",
        ) from None
    if not (isinstance(found, type) and issubclass(found, BaseMaterializer)):
        raise UnsupportedTypeError(
            f"the materializer recorded for this artifact, {name}, is not a materializer class",
            fix="the version's record was changed; it cannot be loaded with it",
        )
    return found
