"""Which integrations and flavors exist: entry points for the installed, the catalogue for the rest.

Finding integrations imports only their declarations (no SDK). A flavor's class is imported
and checked the first time it is asked for; a broken plugin is reported by name and never
takes the others down.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import metadata
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from holdall import __version__
from holdall.catalogue import Catalogue, CatalogueEntry, load_catalogue
from holdall.errors import FlavorError, NotFoundError
from holdall.integration import (
    Integration,
    core_fits,
    core_requirement,
    import_object,
    split_requires,
)

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore
    from holdall.artifact_stores.config import ArtifactStoreConfig
    from holdall.artifact_stores.flavor import ArtifactStoreFlavor
    from holdall.connectors.base import ServiceConnectorType

ENTRY_POINT_GROUP = "holdall.integrations"


@dataclass(frozen=True)
class IntegrationInfo:
    name: str
    distribution: str
    installed: bool
    version: str | None = None
    summary: str = ""
    source: str | None = None
    requirements: tuple[str, ...] = ()
    flavors: tuple[str, ...] = ()
    connector_types: tuple[str, ...] = ()
    entry_point: str | None = None
    declaration: Integration | None = None
    error: str | None = None
    fix: str | None = None  # for `error`, when reinstalling is not the fix
    # A flavor registered from code on the path (`artifact-store flavor register`), with no
    # distribution: `source` is its class.
    registered: bool = False

    @property
    def label(self) -> str:
        """What it is called in messages."""
        if self.registered:
            return f"flavor '{self.name}' (registered from {self.source})"
        return f"integration '{self.name}'"

    @property
    def install_command(self) -> str:
        if self.registered:
            return (
                f"make {self.source} importable here (PYTHONPATH, or pip install what holds "
                f"it), or remove it: holdall artifact-store flavor delete {self.name}"
            )
        return f"holdall integration install {self.name}"

    @property
    def repair_command(self) -> str:
        """What brings back an installed integration's code and requirements."""
        if self.distribution == "holdall":
            return "pip install --force-reinstall holdall"
        return self.install_command


def _import_from(integration: IntegrationInfo, what: str, dotted: str) -> Any:
    """Import a plugin's object; whatever goes wrong is said in the plugin's name."""
    try:
        return import_object(dotted)
    except ImportError as exc:
        raise missing_requirement(integration, dotted, exc) from None
    except Exception as exc:  # any failure of third-party code is that plugin's problem
        raise FlavorError(
            f"{integration.label}: {what} ({dotted}) failed to load: {type(exc).__name__}: {exc}",
            fix=integration.repair_command,
        ) from exc


def missing_requirement(integration: IntegrationInfo, what: str, exc: ImportError) -> FlavorError:
    return FlavorError(
        f"{integration.label} cannot import {exc.name or what} (for {what}): {exc}",
        fix=integration.repair_command,
    )


def _store_class(integration: IntegrationInfo, flavor: str, dotted: str) -> type[BaseArtifactStore]:
    """The store class of `flavor`, imported and checked: a BaseArtifactStore that implements
    every method of the file API."""
    from holdall.artifact_stores.base import BaseArtifactStore

    store_class = _import_from(integration, f"the store of flavor '{flavor}'", dotted)
    where = f"{integration.label}: the store of flavor '{flavor}' ({dotted})"
    if not (isinstance(store_class, type) and issubclass(store_class, BaseArtifactStore)):
        raise FlavorError(f"{where} is not a BaseArtifactStore subclass")
    missing = sorted(getattr(store_class, "__abstractmethods__", ()))
    if missing:
        raise FlavorError(
            f"{where} does not implement {', '.join(missing)}",
            fix="implement every method of holdall.artifact_stores.BaseArtifactStore "
            "(ZenML's file API), or subclass FilesystemArtifactStore over an fsspec filesystem",
        )
    return store_class


@dataclass(frozen=True)
class ConnectorTypeInfo:
    name: str
    integration: str
    installed: bool
    auth_methods: tuple[str, ...]
    resource_types: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class FlavorInfo:
    type: str
    name: str
    integration: str
    installed: bool
    schemes: tuple[str, ...]
    error: str | None = None


def _version_problem(dist: metadata.Distribution, entry: CatalogueEntry | None) -> str | None:
    """Why this core and the installed distribution do not fit, in the words of either side:
    the core's catalogue names the versions it works with, the distribution's metadata the
    core versions it needs (what pip itself holds it to)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if entry and entry.versions:
        try:
            fits = dist.version in SpecifierSet(entry.versions)
        except InvalidSpecifier:
            fits = True  # a broken range in the catalogue is the catalogue test's to catch
        if not fits:
            return (
                f"{entry.distribution} {dist.version} is installed, but holdall {__version__} "
                f"works with {entry.requirement}"
            )
    needs = core_requirement(dist.requires or [])
    if needs and not core_fits(needs):
        return f"it works with holdall{needs}, but holdall {__version__} is installed"
    return None


def _declaration_problem(name: str, declaration: object) -> str | None:
    if not isinstance(declaration, Integration):
        return f"the entry point names a {type(declaration).__name__}, not a holdall Integration"
    if declaration.name != name:
        return f"the entry point is called '{name}' but declares '{declaration.name}'"
    declared = {
        **{f"flavor '{k}'": v for k, v in declaration.artifact_stores.items()},
        **{f"connector type '{k}'": v for k, v in declaration.service_connectors.items()},
    }
    for what, dotted in declared.items():
        if ":" not in dotted:
            return f"{what} points at {dotted!r}, not 'package.module:Class'"
    return None


REGISTERED = "(registered)"  # a registered flavor's "distribution"


def registered_path(source: str) -> str:
    """ "package.module.Class" (ZenML's spelling of a flavor's source) as an integration's
    dotted path, "package.module:Class"."""
    module, _, name = source.rpartition(".")
    return f"{module}:{name}"


@dataclass
class Registry:
    catalogue: Catalogue
    entry_points: list[metadata.EntryPoint]
    # Flavors registered from code on the path: name -> "package.module.Class" (the database
    # records them; a Client hands them in, see with_registered).
    registered: Mapping[str, str] = field(default_factory=dict)
    _integrations: dict[str, IntegrationInfo] | None = field(default=None, init=False)
    _flavors: dict[str, type[ArtifactStoreFlavor]] = field(default_factory=dict, init=False)
    _connector_types: dict[str, ServiceConnectorType] = field(default_factory=dict, init=False)

    @classmethod
    def discover(cls, catalogue: Catalogue | None = None) -> Registry:
        found = metadata.entry_points(group=ENTRY_POINT_GROUP)
        return cls(catalogue or load_catalogue(), list(found))

    # -- integrations --------------------------------------------------------------------

    def integrations(self) -> list[IntegrationInfo]:
        if self._integrations is None:
            self._integrations = self._load_integrations()
        return sorted(self._integrations.values(), key=lambda i: i.name)

    def integration(self, name: str) -> IntegrationInfo:
        known = {i.name: i for i in self.integrations()}
        if name not in known:
            raise NotFoundError(
                f"no integration called '{name}'; known: {', '.join(sorted(known))}",
                fix="holdall integration list",
            )
        return known[name]

    def problems(self) -> list[str]:
        return [
            f"integration '{i.name}' ({i.entry_point}) is broken: {i.error}"
            for i in self.integrations()
            if i.error
        ]

    def with_registered(self, registered: Mapping[str, str]) -> Registry:
        """This registry with the flavors a database registered from code (itself if none)."""
        if dict(registered) == dict(self.registered):
            return self
        return Registry(self.catalogue, self.entry_points, dict(registered))

    def _load_integrations(self) -> dict[str, IntegrationInfo]:
        infos = {name: self._catalogued(entry) for name, entry in self.catalogue.entries.items()}
        for entry_point in self.entry_points:
            info = self._load_entry_point(entry_point, infos)
            infos[info.name] = info
        for name, source in self.registered.items():
            infos.setdefault(name, self._registered_info(name, source))
        return infos

    @staticmethod
    def _registered_info(name: str, source: str) -> IntegrationInfo:
        return IntegrationInfo(
            name=name,
            distribution=REGISTERED,
            installed=True,
            summary=f"registered from {source}",
            source=source,
            flavors=(name,),
            declaration=Integration(name=name, artifact_stores={name: registered_path(source)}),
            registered=True,
        )

    def flavor_from_source(self, source: str) -> type[ArtifactStoreFlavor]:
        """The flavor class at "package.module.Class", imported and checked (what `flavor
        register` records); FlavorError saying what is wrong with it."""
        if "." not in source.strip("."):
            raise FlavorError(
                f"'{source}' is not a class's full name (package.module.FlavorClass)",
                fix="holdall artifact-store flavor register my_package.flavors.MyFlavor",
            )
        try:
            flavor = import_object(registered_path(source))
        except Exception as exc:  # the user's code: whatever it raises is said as its own
            raise FlavorError(
                f"cannot import {source}: {type(exc).__name__}: {exc}",
                fix=f"run it where the module is importable (PYTHONPATH=DIR holdall "
                f"artifact-store flavor register {source}), and holdall everywhere it is used",
            ) from None
        problem = self._flavor_problem(getattr(flavor, "name", ""), flavor)
        if problem:
            raise FlavorError(f"{source} is not a flavor: {problem}")
        _store_class(self._registered_info(flavor.name, source), flavor.name, flavor.implementation)
        return flavor  # type: ignore[no-any-return]

    @staticmethod
    def _catalogued(entry: CatalogueEntry) -> IntegrationInfo:
        return IntegrationInfo(
            name=entry.name,
            distribution=entry.distribution,
            installed=False,
            summary=entry.summary,
            source=entry.source,
            requirements=entry.requirements,
            flavors=tuple(f.name for f in entry.flavors),
            connector_types=tuple(c.type for c in entry.connectors),
        )

    def _load_entry_point(
        self, entry_point: metadata.EntryPoint, known: dict[str, IntegrationInfo]
    ) -> IntegrationInfo:
        dist = entry_point.dist
        distribution = dist.name if dist else "unknown"
        previous = known.get(entry_point.name)
        if previous and previous.installed:
            problem = (
                f"two installed distributions declare it, {previous.distribution} and "
                f"{distribution}; holdall uses neither until one is uninstalled"
            )
            return replace(
                previous, error=problem, declaration=None, fix=f"pip uninstall {distribution}"
            )
        info = replace(
            previous or IntegrationInfo(entry_point.name, distribution, installed=True),
            installed=True,
            distribution=distribution,
            version=dist.version if dist else None,
            entry_point=f"{entry_point.name} = {entry_point.value}",
        )
        if dist and canonicalize_name(distribution) != "holdall":
            # Installed, its own metadata says what it is and needs (the catalogue may be
            # of another release).
            info = replace(
                info,
                summary=dist.metadata["Summary"] or info.summary,
                requirements=split_requires(dist.requires or [])[1],
            )
        try:
            declaration = entry_point.load()
        except Exception as exc:  # any failure of third-party code is that plugin's problem
            return replace(info, error=f"{type(exc).__name__}: {exc}")
        invalid = _declaration_problem(entry_point.name, declaration)
        if invalid or not isinstance(declaration, Integration):
            return replace(info, error=invalid)
        catalogued = self.catalogue.entries.get(entry_point.name)
        if catalogued and canonicalize_name(catalogued.distribution) != canonicalize_name(
            distribution
        ):
            return replace(
                info, error=f"the catalogue says it comes from {catalogued.distribution}"
            )
        misfit = _version_problem(dist, catalogued) if dist else None
        if misfit:
            return replace(info, error=misfit, fix=f"holdall integration install {info.name}")
        return replace(
            info,
            declaration=declaration,
            flavors=tuple(declaration.artifact_stores),
            connector_types=tuple(declaration.service_connectors),
        )

    # -- flavors -------------------------------------------------------------------------

    def flavor(self, name: str) -> type[ArtifactStoreFlavor]:
        if name not in self._flavors:
            self._flavors[name] = self._load_flavor(name)
        return self._flavors[name]

    def flavors(self) -> list[FlavorInfo]:
        infos = []
        for integration in self.integrations():
            for name in integration.flavors:
                infos.append(self._flavor_info(integration, name))
        return sorted(infos, key=lambda f: f.name)

    def _flavor_info(self, integration: IntegrationInfo, name: str) -> FlavorInfo:
        spec = self.catalogue.flavor("artifact_store", name)
        schemes = spec[1].schemes if spec else ()
        error = integration.error
        if integration.installed and not error:
            try:
                schemes = tuple(sorted(self.flavor(name).schemes()))
            except FlavorError as exc:
                error = exc.message
        return FlavorInfo(
            type="artifact_store",
            name=name,
            integration=integration.name,
            installed=integration.installed,
            schemes=schemes,
            error=error,
        )

    def _owner(self, name: str, kind: str = "flavor") -> IntegrationInfo:
        """The integration that declares the flavor (or connector type) `name`."""

        def declared(integration: IntegrationInfo) -> tuple[str, ...]:
            return integration.flavors if kind == "flavor" else integration.connector_types

        owners = [i for i in self.integrations() if name in declared(i)]
        if not owners:
            known = sorted({n for i in self.integrations() for n in declared(i)})
            command = (
                "holdall artifact-store flavor list"
                if kind == "flavor"
                else "holdall service-connector list-types"
            )
            raise FlavorError(
                f"unknown {kind} '{name}'; known {kind}s: {', '.join(known)}", fix=command
            )
        installed = [i for i in owners if i.installed]
        if len(installed) > 1:
            raise FlavorError(
                f"{kind} '{name}' is declared by {len(installed)} installed distributions: "
                + ", ".join(f"{i.distribution} (integration '{i.name}')" for i in installed)
                + "; holdall uses neither until one is uninstalled",
                fix=f"pip uninstall {installed[-1].distribution}",
            )
        integration = (installed or owners)[0]
        if not integration.installed:
            raise FlavorError(
                f"{kind} '{name}' comes with the '{integration.name}' integration, "
                "which is not installed",
                fix=integration.install_command,
            )
        if integration.error or integration.declaration is None:
            raise FlavorError(
                f"{kind} '{name}' is unavailable: integration '{integration.name}' is broken "
                f"({integration.error})",
                fix=integration.fix or f"pip install --force-reinstall {integration.distribution}",
            )
        return integration

    def _load_flavor(self, name: str) -> type[ArtifactStoreFlavor]:
        integration = self._owner(name)
        assert integration.declaration is not None  # _owner refuses broken integrations
        dotted = integration.declaration.artifact_stores[name]
        flavor = _import_from(integration, f"flavor '{name}'", dotted)
        problem = self._flavor_problem(name, flavor)
        if problem:
            raise FlavorError(
                f"{integration.label}: flavor '{name}' ({dotted}) is invalid: {problem}"
            )
        return flavor  # type: ignore[no-any-return]

    def create_store(
        self,
        flavor: str,
        config: ArtifactStoreConfig,
        credentials: Callable[[], Any] | None = None,
        **identity: str,
    ) -> BaseArtifactStore:
        """A store of `flavor`; its implementation (not yet its SDK) is imported here."""
        integration = self._owner(flavor)
        store_class = _store_class(integration, flavor, self.flavor(flavor).implementation)
        return store_class(config, integration=integration, credentials=credentials, **identity)

    # -- connector types -----------------------------------------------------------------

    def connector_type(self, name: str) -> ServiceConnectorType:
        """The connector type `name`, imported (not its SDK) and checked on first use."""
        if name not in self._connector_types:
            integration = self._owner(name, kind="connector type")
            assert integration.declaration is not None  # _owner refuses broken integrations
            dotted = integration.declaration.service_connectors[name]
            loaded = _import_from(integration, f"connector type '{name}'", dotted)
            problem = _connector_problem(name, loaded)
            if problem:
                raise FlavorError(
                    f"{integration.label}: connector type '{name}' ({dotted}) is invalid: {problem}"
                )
            self._connector_types[name] = loaded()
        return self._connector_types[name]

    def connector_flavor(self, name: str) -> type[ArtifactStoreFlavor]:
        """The flavor, declared beside connector type `name`, whose stores it hands
        credentials to: its checks run through one of them."""
        integration = self._owner(name, kind="connector type")
        for flavor in integration.flavors:
            if self.flavor(flavor).connector_type == name:
                return self.flavor(flavor)
        raise FlavorError(
            f"{integration.label}: connector type '{name}' has no flavor beside "
            f"it whose connector_type is '{name}'; its credentials cannot be checked",
            fix=integration.repair_command,
        )

    def connector_types(self) -> list[ConnectorTypeInfo]:
        """Every connector type, installed or only catalogued."""
        infos = []
        for integration in self.integrations():
            for name in integration.connector_types:
                spec = self.catalogue.connector(name)
                methods = spec[1].auth_methods if spec else ()
                resources = spec[1].resource_types if spec else ()
                error = integration.error
                if integration.installed and not error:
                    try:
                        loaded = self.connector_type(name)
                        methods = tuple(loaded.auth_methods)
                        resources = tuple(loaded.resource_types)
                    except FlavorError as exc:
                        error = exc.message
                infos.append(
                    ConnectorTypeInfo(
                        name, integration.name, integration.installed, methods, resources, error
                    )
                )
        return sorted(infos, key=lambda info: info.name)

    @staticmethod
    def _flavor_problem(name: str, flavor: object) -> str | None:
        from holdall.artifact_stores.config import ArtifactStoreConfig
        from holdall.artifact_stores.flavor import ArtifactStoreFlavor

        if not (isinstance(flavor, type) and issubclass(flavor, ArtifactStoreFlavor)):
            return "it is not an ArtifactStoreFlavor subclass"
        if getattr(flavor, "name", None) != name:
            return f"its name is {getattr(flavor, 'name', None)!r}, not {name!r}"
        config = getattr(flavor, "config_class", None)
        if not (isinstance(config, type) and issubclass(config, ArtifactStoreConfig)):
            return "its config_class is not an ArtifactStoreConfig subclass"
        return None


def _connector_problem(name: str, connector_type: object) -> str | None:
    from holdall.connectors.base import AuthMethodConfig, ServiceConnectorType

    if not (isinstance(connector_type, type) and issubclass(connector_type, ServiceConnectorType)):
        return "it is not a ServiceConnectorType subclass"
    if getattr(connector_type, "name", None) != name:
        return f"its name is {getattr(connector_type, 'name', None)!r}, not {name!r}"
    methods = dict(getattr(connector_type, "auth_methods", {}))
    if not methods or not all(
        isinstance(m, type) and issubclass(m, AuthMethodConfig) for m in methods.values()
    ):
        return "its auth_methods are not AuthMethodConfig subclasses"
    return None


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    return Registry.discover()


def warn_problems(registry: Registry) -> None:
    for problem in registry.problems():
        print(f"warning: {problem}", file=sys.stderr)
