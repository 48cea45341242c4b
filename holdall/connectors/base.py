"""What a connector type is. An integration supplies one per cloud (holdall_s3.connector for
`aws`): its auth methods as pydantic models (light: no SDK at module level), its resource
types, how it verifies what its credentials reach, and how it hands a store credentials as
the SDK's own refreshable object, so that the SDK renews them during a long transfer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ConfigDict, ValidationInfo, field_validator

from holdall.errors import HoldallError
from holdall.secrets import holds_url_password, secret_fields, url_password_refusal
from holdall.waits import Backoff, Waits


class AuthMethodConfig(Waits):
    """The fields one auth method takes; secrets are `SecretStr`. `DESCRIPTION` says what it
    is in `describe-type`. Every method bounds the connector's own calls to its cloud
    (`connect_timeout`, `read_timeout`, `retries`: holdall.waits)."""

    # hide_input_in_errors: a validation error must never carry a value onward (secrets).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    DESCRIPTION: ClassVar[str] = ""

    @field_validator("*", mode="before")
    @classmethod
    def _no_passwords_in_urls(cls, value: Any, info: ValidationInfo) -> Any:
        field = info.field_name or "a setting"
        secrets = secret_fields(cls)
        if field not in secrets and holds_url_password(value):
            where = " / ".join(f"--{f}" for f in secrets) or "another auth method"
            raise ValueError(url_password_refusal(field, where))
        return value


@dataclass(frozen=True)
class Handout:
    """What the core gives a connector when a store asks it for credentials: how long they
    should live, how early to renew them, and where to record each issue and renewal (the
    audit log; never anything secret)."""

    resource_type: str
    resource_id: str | None
    expiration_seconds: int | None
    renewal_margin: float
    record: Callable[[str, str, str], None]  # (purpose, outcome, detail)


class ConnectorError(HoldallError):
    pass


def unanswered(
    service: str,
    endpoint: str | None,
    waits: Waits,
    backoff: Backoff,
    reason: str,
    where_settings: str = "--endpoint_url",
) -> ConnectorError:
    """A cloud that did not answer the connector's check, and the bound that was kept;
    `where_settings` are the settings that say where the cloud is."""
    where = f" at {endpoint}" if endpoint else ""
    return ConnectorError(
        f"{service}{where} did not answer the connector {waits.describe_budget(backoff)}: {reason}",
        fix=f"check {where_settings} and the network; where answers are slow: holdall "
        "service-connector update NAME --read_timeout=120",
    )


class ServiceConnectorType(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""
    auth_methods: ClassVar[Mapping[str, type[AuthMethodConfig]]]
    # resource type -> what it is ("s3-bucket": "an S3 bucket"); the first is the default
    resource_types: ClassVar[Mapping[str, str]]
    # The resource type that is a bucket or container, and the URI schemes that name one.
    container_type: ClassVar[str | None] = None
    container_schemes: ClassVar[tuple[str, ...]] = ()

    def canonical_resource_id(self, resource_type: str, resource_id: str) -> str:
        """The one spelling of a resource id: a bucket given as s3://b/prefix or b is b."""
        if resource_type != self.container_type:
            return resource_id
        for scheme in self.container_schemes:
            resource_id = resource_id.removeprefix(scheme)
        return resource_id.split("/", 1)[0]

    @abstractmethod
    def verify(
        self, auth: AuthMethodConfig, resource_type: str, resource_id: str | None
    ) -> list[str]:
        """The resources of `resource_type` these credentials reach: the one given, checked,
        or all they can list. Raises ConnectorError with the cloud's reason when refused."""

    @abstractmethod
    def credentials(self, auth: AuthMethodConfig, handout: Handout) -> Any:
        """Credentials for a store, as the SDK's own (refreshable) object, or None where the
        SDK's own chain on this machine applies (`implicit`)."""

    def check_expiration(self, method: str, seconds: int | None) -> None:  # noqa: B027
        """Refuse an `--expiration-seconds` the cloud would not issue credentials for."""

    def auto_configure(self) -> tuple[str, dict[str, Any]]:
        """(auth method, fields) read from this environment, as the cloud's own CLI would."""
        raise ConnectorError(f"connector type '{self.name}' cannot configure itself")
