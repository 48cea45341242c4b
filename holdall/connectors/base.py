"""What a connector type is. An integration supplies one per cloud (holdall_s3.connector for
`aws`): its auth methods as pydantic models (light: no SDK at module level), its resource
types, and how it hands a store credentials as the SDK's own refreshable object, so that the
SDK renews them during a long transfer. What its credentials reach is checked through a store
of its cloud's flavor made with them (holdall.connectors.verification): one way to each cloud.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ConfigDict, ValidationInfo, field_validator

from holdall.errors import HoldallError, first_line
from holdall.secrets import holds_url_password, secret_fields, url_password_refusal
from holdall.waits import Waits

if TYPE_CHECKING:
    from holdall.artifact_stores.object_store import ObjectArtifactStore


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


class ExpiringToken(AuthMethodConfig):
    """An auth method given a token with its expiry (`--expires_at`): used until then, and
    refused after it before the cloud is asked."""

    TOKEN: ClassVar[str] = "token"  # what it is, in words ("STS token")
    TOKEN_FIELD: ClassVar[str] = "token"
    expires_at: datetime | None = None

    def check_unexpired(self) -> None:
        if self.expires_at and self.expires_at <= datetime.now(timezone.utc):
            raise ConnectorError(
                f"the connector's {self.TOKEN} expired at {self.expires_at.isoformat()}",
                fix=f"give a new one: holdall service-connector update NAME "
                f"--{self.TOKEN_FIELD}=@FILE --expires_at=...",
            )


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

    @contextmanager
    def renewal(self) -> Iterator[None]:
        """Around an SDK's renewal of the credentials: a failure is recorded, then raised."""
        try:
            yield
        except Exception as exc:
            self.record("renewed", "failed", first_line(exc)[:200])
            raise

    def renewed(self, expires: object) -> None:
        self.record("renewed", "ok", f"expires {expires}")


@dataclass(frozen=True)
class Issued:
    """What a connector hands a store: the SDK's own credentials (None: the SDK's chain on
    this machine), and where the cloud is, as the flavor's settings (endpoint_url, region,
    project) for a store that does not set them itself."""

    credentials: Any
    settings: Mapping[str, Any]


class ConnectorError(HoldallError):
    pass


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

    def store_settings(self, auth: AuthMethodConfig) -> dict[str, Any]:
        """Where the cloud is, as its flavor's settings (endpoint_url, region, account_name;
        None: not set): what a store made with this connector's credentials needs besides."""
        return {}

    def check_resource(  # noqa: B027 - most types take every resource they have
        self, auth: AuthMethodConfig, resource_type: str, resource_id: str | None
    ) -> None:
        """Refuse, before the cloud is asked, a check these credentials cannot make."""

    @abstractmethod
    def account(self, auth: AuthMethodConfig, store: ObjectArtifactStore) -> str:
        """What the generic resource type is (the account, the project), in words, checked
        through `store` (made with the connector's credentials), or the SDK's error."""

    @abstractmethod
    def credentials(self, auth: AuthMethodConfig, handout: Handout) -> Any:
        """Credentials for a store, as the SDK's own (refreshable) object, or None where the
        SDK's own chain on this machine applies (`implicit`)."""

    def check_expiration(self, method: str, seconds: int | None) -> None:  # noqa: B027
        """Refuse an `--expiration-seconds` the cloud would not issue credentials for."""

    def auto_configure(self) -> tuple[str, dict[str, Any]]:
        """(auth method, fields) read from this environment, as the cloud's own CLI would."""
        raise ConnectorError(f"connector type '{self.name}' cannot configure itself")
