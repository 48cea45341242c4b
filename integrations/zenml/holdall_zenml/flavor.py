"""A ZenML artifact-store flavor whose file API is a holdall store's.

    zenml artifact-store flavor register holdall_zenml.flavor.HoldallArtifactStoreFlavor
    zenml artifact-store register hs --flavor=holdall --path=s3://bucket/zenml \\
        --holdall_store=s3_store

The ZenML component names a holdall store (registered with `holdall artifact-store register`)
and must have its path. Every call ZenML makes on its artifact store, and ZenML's own file
I/O inside the store's root (its materializers'), goes to that holdall store: its
connector's renewed credentials, its whole-or-nothing parallel uploads, its wording of
failures. Other paths stay with ZenML's own file systems. holdall's registry and
database are this machine's (HOLDALL_CONFIG_DIR, HOLDALL_DATABASE_URL), as for any holdall
command.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar

try:
    from zenml.artifact_stores import (
        BaseArtifactStore,
        BaseArtifactStoreConfig,
        BaseArtifactStoreFlavor,
    )
except ImportError as exc:  # pragma: no cover - tested by installing without zenml
    raise ImportError(
        "holdall-zenml needs ZenML, which is not installed here: pip install zenml"
    ) from exc
from pydantic import model_validator

from holdall_zenml.routing import as_text, route

FLAVOR = "holdall"
# ZenML's own server process validates configs too, with no holdall on its machine.
ZENML_SERVER_ENV = "ZENML_SERVER"


def holdall_schemes() -> set[str]:
    """The schemes of every holdall flavor installed here, or registered from code in this
    machine's holdall database ('' for local folders): what a holdall store's path may start
    with. ZenML's server, which has no holdall database, knows the installed ones."""
    from holdall.registry import Registry

    if ZENML_SERVER_ENV in os.environ:
        registry = Registry.discover()
    else:
        from holdall.client import Client

        registry = Client().registry
    schemes = {""}
    for flavor in registry.flavors():
        if flavor.installed:
            schemes.update(flavor.schemes)
    return schemes


class InstalledSchemes(AbstractSet[str]):
    """`holdall_schemes()`, looked up the first time ZenML asks (when it checks a path), not
    when this module is imported: finding them imports every installed flavor's module."""

    def __init__(self) -> None:
        self._found: frozenset[str] | None = None

    def _schemes(self) -> frozenset[str]:
        if self._found is None:
            self._found = frozenset(holdall_schemes())
        return self._found

    def __contains__(self, scheme: object) -> bool:
        return scheme in self._schemes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._schemes())

    def __len__(self) -> int:
        return len(self._schemes())


def _same_path(one: str, other: str) -> bool:
    return one.rstrip("/") == other.rstrip("/")


def holdall_store(name: str, zenml_path: str) -> Any:
    """The usable holdall store `name`, refused when its path is not `zenml_path`."""
    from holdall.client import Client
    from holdall.errors import ConfigError, NotFoundError

    client = Client()
    try:
        model = client.get_artifact_store(name)
    except NotFoundError as exc:  # deleted since the ZenML store was registered, say
        raise ConfigError(
            exc.message,  # names the holdall stores there are
            fix=f"register it again (holdall artifact-store register {name} --flavor=FLAVOR "
            f"--path={zenml_path} ...), or name another in the ZenML artifact store "
            "(zenml artifact-store update COMPONENT --holdall_store=NAME)",
        ) from None
    if not _same_path(model.path, zenml_path):
        raise ConfigError(
            f"the ZenML artifact store's path {zenml_path} is not the path of holdall store "
            f"'{name}' ({model.path}): both must name the same place",
            fix=f"give the ZenML artifact store --path={model.path}",
        )
    return client.artifact_store(model)  # a holdall flavor not installed is named here


class HoldallArtifactStoreConfig(BaseArtifactStoreConfig):  # type: ignore[misc]
    SUPPORTED_SCHEMES: ClassVar[AbstractSet[str]] = InstalledSchemes()

    holdall_store: str

    @model_validator(mode="after")
    def _check_store(self) -> HoldallArtifactStoreConfig:
        # At registration: the holdall store exists, has this path, and its flavor is
        # installed. Not where ZenML's server checks configs: holdall is not set up there.
        if ZENML_SERVER_ENV in os.environ:
            return self
        from holdall.errors import HoldallError

        try:
            holdall_store(self.holdall_store, self.path)
        except HoldallError as exc:  # as a ValueError, which ZenML shows with its message
            fix = f" (fix: {exc.fix})" if exc.fix else ""
            raise ValueError(f"holdall: {exc.message}{fix}") from None
        return self


class HoldallArtifactStore(BaseArtifactStore):  # type: ignore[misc]
    """ZenML's artifact-store API over the holdall store the config names."""

    @property
    def config(self) -> HoldallArtifactStoreConfig:
        return self._config  # type: ignore[no-any-return]

    @property
    def holdall(self) -> Any:
        found = self.__dict__.get("_holdall")
        if found is None:
            found = holdall_store(self.config.holdall_store, self.path)
            self.__dict__["_holdall"] = found
        return found

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_holdall", None)  # rebuilt where it is unpickled, with that machine's setup
        return state  # type: ignore[no-any-return]

    def _register(self) -> None:
        """ZenML's file I/O inside this store's root goes to the holdall store; other paths
        of its scheme stay with the file system ZenML had for them (routing.py)."""
        scheme, separator, _ = self.path.partition("://")
        route(f"{scheme}://" if separator else "", self.path, self)

    # -- ZenML's file API -------------------------------------------------------------------

    def open(self, path: Any, mode: str = "r") -> Any:
        return self.holdall.open(as_text(path), mode)

    def copyfile(self, src: Any, dst: Any, overwrite: bool = False) -> None:
        self.holdall.copyfile(as_text(src), as_text(dst), overwrite=overwrite)

    def exists(self, path: Any) -> bool:
        return bool(self.holdall.exists(as_text(path)))

    def glob(self, pattern: Any) -> list[Any]:
        return list(self.holdall.glob(as_text(pattern)))

    def isdir(self, path: Any) -> bool:
        return bool(self.holdall.isdir(as_text(path)))

    def listdir(self, path: Any) -> list[Any]:
        return list(self.holdall.listdir(as_text(path)))

    def makedirs(self, path: Any) -> None:
        self.holdall.makedirs(as_text(path))

    def mkdir(self, path: Any) -> None:
        self.holdall.mkdir(as_text(path))

    def remove(self, path: Any) -> None:
        self.holdall.remove(as_text(path))

    def rename(self, src: Any, dst: Any, overwrite: bool = False) -> None:
        self.holdall.rename(as_text(src), as_text(dst), overwrite=overwrite)

    def rmtree(self, path: Any) -> None:
        self.holdall.rmtree(as_text(path))

    def stat(self, path: Any) -> Any:
        return self.holdall.stat(as_text(path))

    def size(self, path: Any) -> int:
        return int(self.holdall.size(as_text(path)))

    def walk(
        self, top: Any, topdown: bool = True, onerror: Callable[..., None] | None = None
    ) -> Iterable[tuple[Any, list[Any], list[Any]]]:
        yield from self.holdall.walk(as_text(top))


class HoldallArtifactStoreFlavor(BaseArtifactStoreFlavor):  # type: ignore[misc]
    @property
    def name(self) -> str:
        return FLAVOR

    @property
    def config_class(self) -> type[HoldallArtifactStoreConfig]:
        return HoldallArtifactStoreConfig

    @property
    def implementation_class(self) -> type[HoldallArtifactStore]:
        return HoldallArtifactStore

    @property
    def docs_url(self) -> str | None:
        return None

    @property
    def sdk_docs_url(self) -> str | None:
        return None

    @property
    def logo_url(self) -> str:
        return ""
