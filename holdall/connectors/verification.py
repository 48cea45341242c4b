"""What a connector's credentials reach, checked through a store of its cloud's flavor made
with them: the store's probe, its listing and its words about failures serve connectors too,
so that each cloud is reached one way, and every failure is worded once, by the core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from holdall.artifact_stores.config import is_credential_name
from holdall.artifact_stores.failures import connector_owner
from holdall.artifact_stores.object_store import ObjectArtifactStore
from holdall.connectors.base import AuthMethodConfig, ConnectorError, ServiceConnectorType
from holdall.errors import FlavorError
from holdall.secrets import secret_fields
from holdall.waits import Waits

if TYPE_CHECKING:
    from holdall.connectors.base import Handout
    from holdall.registry import Registry

# A bucket name every cloud takes. The store a listing of buckets is made through names one,
# and never touches it.
LISTING_CONTAINER = "holdall"


def reached(
    registry: Registry,
    kind: ServiceConnectorType,
    auth: AuthMethodConfig,
    resource: tuple[str, str | None],
    handout: Handout,
    name: str,
    registering: bool = False,
) -> list[str]:
    """The resources of `resource` (type, id) these credentials reach: the one given,
    checked, or all they can list. A refusal is a HoldallError naming connector `name`."""
    resource_type, resource_id = resource
    kind.check_resource(auth, resource_type, resource_id)
    container = resource_id if resource_type == kind.container_type else None
    store = _store(registry, kind, auth, container, handout)
    scheme = store.config.usual_scheme()
    noun = store.config.CONTAINER
    if resource_type != kind.container_type:
        reaching: str | None = "the account"
    else:
        reaching = None if container else f"the {noun}s"  # None: the store's own bucket
    store.speaking_for = connector_owner(
        name,
        _credential_options(auth),
        f"--resource-id {scheme}{noun.upper()}",
        registering=registering,
        reaching=reaching,
    )
    with store.translated():
        if resource_type != kind.container_type:
            return [kind.account(auth, store)]
        # The filesystem as made, not the store's (that one probes its bucket first).
        filesystem = store.make_filesystem()
        if container:
            store.probe(filesystem)
            return [f"{scheme}{container}"]
        return [f"{scheme}{found}" for found in store.list_containers(filesystem)]


def _credential_options(auth: AuthMethodConfig) -> list[str]:
    """The options that give an auth method other credentials (--aws_access_key_id=...
    --aws_secret_access_key=@FILE): its secrets, and what names a credential beside them."""
    secrets = secret_fields(type(auth))
    named = [f for f in type(auth).model_fields if f not in secrets and is_credential_name(f)]
    return [f"--{field}=..." for field in named] + [f"--{field}=@FILE" for field in secrets]


def _store(
    registry: Registry,
    kind: ServiceConnectorType,
    auth: AuthMethodConfig,
    container: str | None,
    handout: Handout,
) -> ObjectArtifactStore:
    """A store of the connector's flavor over `container` (or any bucket, for a listing),
    with the connector's settings and its waits, its credentials issued at first use."""
    flavor = registry.connector_flavor(kind.name)
    config_class = flavor.config_class
    waits = auth.model_dump(include=set(Waits.model_fields))
    given = kind.store_settings(auth).items()
    settings: dict[str, Any] = {
        **waits,
        **{key: value for key, value in given if value is not None},
    }
    try:
        config = config_class(
            path=f"{config_class.usual_scheme()}{container or LISTING_CONTAINER}", **settings
        )
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConnectorError(
            f"cannot check {kind.container_type} '{container}': {message}",
            fix=f"holdall service-connector describe-type {kind.name}",
        ) from None

    def credentials() -> Any:
        return kind.credentials(auth, handout)

    store = registry.create_store(flavor.name, config, credentials=credentials)
    if not isinstance(store, ObjectArtifactStore):
        raise FlavorError(
            f"connector type '{kind.name}' hands credentials to flavor '{flavor.name}', whose "
            "stores are not object stores: its credentials cannot be checked through one"
        )
    return store
