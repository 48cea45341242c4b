"""The Python API, as ZenML's Client names it: a thin facade over the modules that hold each
concern (artifact_stores/registrations.py, stacks.py, artifacts/api.py), each given only what
it needs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from holdall.artifact_stores.registered_flavors import RegisteredFlavors
from holdall.artifact_stores.registrations import ArtifactStores
from holdall.artifacts import migration
from holdall.artifacts.api import ArtifactsAPI
from holdall.connectors.registrations import ServiceConnectors
from holdall.metadata.database import Database
from holdall.models import (
    ArtifactStoreModel,
    AuditEntry,
    ServiceConnectorModel,
    Stack,
    StackModel,
)
from holdall.registry import Registry, get_registry
from holdall.settings import database_url
from holdall.stacks import DEFAULT, Stacks, ensure_default_stack

if TYPE_CHECKING:
    from datetime import timedelta

    from holdall.artifact_stores.base import BaseArtifactStore
    from holdall.artifacts.gc import Sweep
    from holdall.artifacts.views import PipelineRun
    from holdall.pipelines.graph import Graph

__all__ = ["DEFAULT", "Client"]


class Client(ArtifactsAPI):
    """Nothing connects at construction; the database is opened on the first call.

    As in ZenML, `Client()` is one client per process and metadata database: making it again
    costs a lookup, and its connections, default stack check and stores are kept. A client
    given its own registry is a new one each time.
    """

    _shared: ClassVar[dict[tuple[int, str], Client]] = {}

    def __new__(cls, database: str | None = None, registry: Registry | None = None) -> Client:
        if registry is not None:
            return super().__new__(cls)
        # Keyed by process too: a forked child must not share its parent's connections.
        key = (os.getpid(), database or database_url())
        client = cls._shared.get(key)
        if client is None:
            client = cls._shared[key] = super().__new__(cls)
        return client

    @classmethod
    def close_shared(cls) -> None:
        """Close the shared clients' connections; the next `Client()` starts afresh."""
        for client in cls._shared.values():
            client._metadata.close()
        cls._shared.clear()

    def __init__(self, database: str | None = None, registry: Registry | None = None) -> None:
        if hasattr(self, "_metadata"):
            return  # the shared client, already set up
        self._metadata = Database(database or database_url())
        self._registry = registry
        # (the registry it was given or the process's, that one with the flavors registered
        # from code in this database): made once, again after a flavor is (un)registered
        self._with_registered: tuple[Registry, Registry] | None = None
        self._ready = False
        self.flavors = RegisteredFlavors(lambda: self._metadata, lambda: self.registry)
        self.connectors = ServiceConnectors(lambda: self.database, lambda: self.registry)
        self.stores = ArtifactStores(lambda: self.database, lambda: self.registry, self.connectors)
        self.stacks = Stacks(lambda: self.database, self.stores)
        super().__init__(lambda: self.database, self.stores, self.stacks)

    @property
    def registry(self) -> Registry:
        """The installed integrations, and the flavors this database registered from code
        (read once per client; registering or deleting one here reads them again)."""
        base = self._registry or get_registry()
        if self._with_registered is None or self._with_registered[0] is not base:
            combined = base.with_registered(self.flavors.sources())
            self._with_registered = (base, combined)
        return self._with_registered[1]

    # -- flavors registered from code (ZenML's `zenml artifact-store flavor register`) --------

    def register_flavor(self, source: str) -> str:
        """Register the flavor class at "package.module.Class"; its name."""
        name = self.flavors.register(source)
        self._with_registered = None
        return name

    def delete_flavor(self, name: str) -> None:
        self.flavors.delete(name)
        self._with_registered = None

    @property
    def database(self) -> Database:
        """The metadata database, with the default stack in it."""
        if not self._ready:
            ensure_default_stack(self._metadata, lambda: self.registry.flavor("local"))
            self._ready = True
        return self._metadata

    # -- artifact stores ------------------------------------------------------------------

    def register_artifact_store(
        self,
        name: str,
        flavor: str,
        path: str | None = None,
        config: Mapping[str, Any] | None = None,
        connector: str | None = None,
        resource_id: str | None = None,
    ) -> ArtifactStoreModel:
        return self.stores.register(name, flavor, path, config, connector, resource_id)

    def get_artifact_store(self, name: str) -> ArtifactStoreModel:
        return self.stores.get(name)

    def list_artifact_stores(self) -> list[ArtifactStoreModel]:
        return self.stores.all()

    def update_artifact_store(
        self,
        name: str,
        path: str | None = None,
        config: Mapping[str, Any] | None = None,
        connector: str | None = None,
        resource_id: str | None = None,
    ) -> ArtifactStoreModel:
        return self.stores.update(name, path, config, connector, resource_id)

    def delete_artifact_store(self, name: str) -> None:
        self.stores.delete(name)

    def set_artifact_store_lifecycle(
        self, name: str, transitions: Sequence[str], dry_run: bool = False
    ) -> tuple[Any, Any]:
        """The bucket's lifecycle rule for the store's folder, moved through `transitions`
        ("30:STANDARD_IA", ...; none removes it), other rules kept: (before, after)."""
        from holdall.artifacts.tiers import set_lifecycle

        return set_lifecycle(self.stores.usable(self.stores.get(name)), transitions, dry_run)

    def stacks_using(self, store_name: str) -> list[str]:
        return self.stores.stacks_using(store_name)

    def artifact_store(self, model: ArtifactStoreModel) -> BaseArtifactStore:
        """A usable store for a registered one; its SDK is imported here, not before."""
        return self.stores.usable(model)

    def plan_migration(
        self, source: str, destination: str, artifacts: Sequence[str] = ()
    ) -> migration.Plan:
        """What `migrate_artifact_store` would move (a dry run)."""
        ends = self._migration_ends(source, destination)
        return migration.plan(self.database, *ends, artifacts)

    def migrate_artifact_store(
        self,
        source: str,
        destination: str,
        artifacts: Sequence[str] = (),
        *,
        jobs: int = 4,
        delete_source: bool = False,
        progress: migration.Progress | None = None,
    ) -> tuple[migration.Plan, migration.Summary]:
        """Move the committed versions of store `source` (or those `artifacts` names: NAME
        or NAME:VERSION) to `destination`, data verified before each record moves."""
        ends = self._migration_ends(source, destination)
        return migration.run(
            self.database,
            *ends,
            artifacts,
            jobs=jobs,
            delete_source=delete_source,
            progress=progress,
        )

    def _migration_ends(
        self, source: str, destination: str
    ) -> tuple[BaseArtifactStore, BaseArtifactStore]:
        usable = self.stores.usable
        return usable(self.stores.get(source)), usable(self.stores.get(destination))

    # -- service connectors (ZenML's names) ----------------------------------------------

    def create_service_connector(
        self,
        name: str,
        connector_type: str,
        resource_type: str | None = None,
        auth_method: str | None = None,
        configuration: Mapping[str, Any] | None = None,
        resource_id: str | None = None,
        expiration_seconds: int | None = None,
        auto_configure: bool = False,
        verify: bool = True,
    ) -> tuple[ServiceConnectorModel, list[str]]:
        """The new connector and what it reaches (empty unless `verify`), as ZenML returns
        (connector, resources)."""
        return self.connectors.register(
            name,
            connector_type,
            auth_method,
            configuration,
            resource_type=resource_type,
            resource_id=resource_id,
            expiration_seconds=expiration_seconds,
            auto_configure=auto_configure,
            verify=verify,
        )

    def get_service_connector(self, name: str) -> ServiceConnectorModel:
        return self.connectors.get(name)

    def list_service_connectors(self) -> list[ServiceConnectorModel]:
        return self.connectors.all()

    def update_service_connector(
        self,
        name: str,
        *,
        configuration: Mapping[str, Any] | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        expiration_seconds: int | None = None,
        verify: bool = True,
    ) -> tuple[ServiceConnectorModel, list[str]]:
        """`configuration` is merged into the stored one; the connector and what it reaches
        (empty unless `verify`), as ZenML returns (connector, resources)."""
        return self.connectors.update(
            name,
            configuration,
            resource_type=resource_type,
            resource_id=resource_id,
            expiration_seconds=expiration_seconds,
            verify=verify,
        )

    def delete_service_connector(self, name: str) -> None:
        self.connectors.delete(name)

    def verify_service_connector(
        self, name: str, resource_type: str | None = None, resource_id: str | None = None
    ) -> list[str]:
        """The resources the connector reaches (raises when it reaches none)."""
        return self.connectors.verify(name, resource_type, resource_id)

    def get_service_connector_resources(self, name: str) -> dict[str, list[str]]:
        """What the connector reaches, for each of its type's resource types."""
        return self.connectors.list_resources(name)

    def get_service_connector_audit(self, name: str) -> list[AuditEntry]:
        """Every hand-out of the connector's credentials, oldest first."""
        return self.connectors.audit(name)

    def stores_using_connector(self, name: str) -> list[str]:
        return self.connectors.stores_using(name)

    def rotate_secrets_key(self) -> int:
        """Re-encrypt every stored secret under a new key; how many it re-encrypted."""
        from holdall.key_rotation import rotate_key

        return rotate_key(self.database)

    # -- stacks ---------------------------------------------------------------------------

    def register_stack(self, name: str, artifact_store: str) -> StackModel:
        return self.stacks.register(name, artifact_store)

    def copy_stack(self, source: str, target: str) -> StackModel:
        return self.stacks.copy(source, target)

    def get_stack(self, name: str) -> StackModel:
        return self.stacks.get(name)

    def list_stacks(self) -> list[StackModel]:
        return self.stacks.all()

    def update_stack(self, name: str, artifact_store: str) -> StackModel:
        return self.stacks.update(name, artifact_store)

    def delete_stack(self, name: str) -> None:
        self.stacks.delete(name)

    def activate_stack(self, name: str) -> StackModel:
        return self.stacks.activate(name)

    @property
    def active_stack_model(self) -> StackModel:
        return self.stacks.active_model

    @property
    def active_stack(self) -> Stack:
        return self.stacks.active

    # -- housekeeping -----------------------------------------------------------------------

    def artifact_gc(self, older_than: timedelta, dry_run: bool = False) -> Sweep:
        """`holdall artifact gc`, phase by phase (see holdall.artifacts.gc.Sweep); saves in
        progress on other machines are collected once `older_than` old."""
        from holdall.artifacts.gc import Sweep

        return Sweep(self.database, self.stores, older_than, dry_run)

    # -- pipelines --------------------------------------------------------------------------

    def run_pipeline(self, graph: Graph) -> PipelineRun:
        """Run a pipeline's laid-out steps on the active stack."""
        from holdall.pipelines.runner import Runner

        runner = Runner(
            graph, self.database, self.active_stack, self.stores.by_id, self.get_pipeline_run_by_id
        )
        return runner.run()
