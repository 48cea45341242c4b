"""The `azure` service connector: a storage account's credentials held once, handed to
Azure stores as an `AzureAccess` (a key, a SAS, a connection string, or azure-identity's own
credential, whose tokens azure-core renews during a transfer). The auth methods are plain
pydantic models; the SDK is imported only inside the methods that use it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qs

from pydantic import SecretStr, field_validator, model_validator

from holdall.connectors.base import (
    AuthMethodConfig,
    ConnectorError,
    Handout,
    ServiceConnectorType,
    unanswered,
)
from holdall.errors import HoldallError
from holdall.waits import Waits
from holdall_azure.access import ACCOUNT_SETTINGS, AzureAccess, blob_service, retry_backoff
from holdall_azure.flavor import (
    check_account,
    check_account_key,
    check_container,
    check_sas_token,
    parse_connection_string,
)

# Microsoft's own sign-in hosts (public and sovereign clouds), where instance discovery works.
AZURE_AUTHORITIES = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)
T = TypeVar("T")


class AzureAuth(AuthMethodConfig):
    account_name: str | None = None
    # Another host for the account's blobs (https://ACCOUNT_HOST): an emulator, a private
    # endpoint, a sovereign cloud.
    account_host: str | None = None

    @field_validator("account_name")
    @classmethod
    def _check_account(cls, account: str | None) -> str | None:
        if account is not None:
            check_account(account)
        return account


class Implicit(AzureAuth):
    DESCRIPTION: ClassVar[str] = (
        "DefaultAzureCredential on the machine that uses the store (environment, managed "
        "identity, az login)"
    )


class ConnectionString(AuthMethodConfig):
    DESCRIPTION: ClassVar[str] = "a storage account's connection string (--connection_string=@FILE)"
    connection_string: SecretStr

    @field_validator("connection_string")
    @classmethod
    def _check(cls, value: SecretStr) -> SecretStr:
        parse_connection_string(value.get_secret_value())
        return value


class AccountKey(AzureAuth):
    DESCRIPTION: ClassVar[str] = "a storage account's name and key"
    account_name: str
    account_key: SecretStr

    @field_validator("account_key")
    @classmethod
    def _check_key(cls, key: SecretStr) -> SecretStr:
        check_account_key("account_key", key.get_secret_value())
        return key


class SasToken(AzureAuth):
    DESCRIPTION: ClassVar[str] = "a shared access signature, for an account or one container"
    account_name: str
    sas_token: SecretStr

    @field_validator("sas_token")
    @classmethod
    def _check_sas(cls, token: SecretStr) -> SecretStr:
        return SecretStr(check_sas_token("sas_token", token.get_secret_value()))

    @property
    def for_one_container(self) -> bool:
        return parse_qs(self.sas_token.get_secret_value()).get("sr") == ["c"]


class ServicePrincipal(AzureAuth):
    DESCRIPTION: ClassVar[str] = (
        "a Microsoft Entra application's tenant, client id and client secret"
    )
    tenant_id: str
    client_id: str
    client_secret: SecretStr
    # Another sign-in authority: a sovereign cloud's, or a private one (https://HOST).
    authority: str | None = None

    @model_validator(mode="after")
    def _https_authority(self) -> ServicePrincipal:
        if self.authority is not None and not self.authority.startswith("https://"):
            raise ValueError("authority must be an https:// URL, as Microsoft Entra ID asks")
        return self


def _refused(reason: str) -> ConnectorError:
    return ConnectorError(
        f"Azure refused the connector's credentials ({reason})",
        fix="check them, and give new ones: holdall service-connector update NAME ...",
    )


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0][:300]


class AzureConnectorType(ServiceConnectorType):
    name = "azure"
    description = "Azure: Blob Storage containers, through keys, SAS and Microsoft Entra ID"
    auth_methods: ClassVar[dict[str, type[AuthMethodConfig]]] = {
        "implicit": Implicit,
        "connection-string": ConnectionString,
        "account-key": AccountKey,
        "sas-token": SasToken,
        "service-principal": ServicePrincipal,
    }
    resource_types: ClassVar[dict[str, str]] = {
        "blob-container": "a Blob Storage container (az://NAME or NAME)",
        "azure-generic": "the storage account itself",
    }

    container_type = "blob-container"
    container_schemes = ("az://", "abfs://")

    def canonical_resource_id(self, resource_type: str, resource_id: str) -> str:
        found = super().canonical_resource_id(resource_type, resource_id)
        if resource_type != self.container_type:
            return found
        container = found.split("@", 1)[0]  # container@account
        try:
            check_container(container)
        except ValueError as exc:
            raise ConnectorError(str(exc)) from None
        return container

    def check_expiration(self, method: str, seconds: int | None) -> None:
        if seconds is not None:
            raise ConnectorError(
                "--expiration-seconds does not apply to azure connectors: Microsoft Entra ID "
                "sets the lifetime of its tokens, and a SAS carries its own",
                fix="register it without --expiration-seconds",
            )

    def access(self, auth: AuthMethodConfig, audit: Handout | None = None) -> AzureAccess:
        """What a store (or verify) reaches the account with."""
        if isinstance(auth, ConnectionString):
            return AzureAccess(connection_string=auth.connection_string.get_secret_value())
        assert isinstance(auth, AzureAuth)
        where = {"account": auth.account_name, "account_host": auth.account_host}
        if isinstance(auth, AccountKey):
            return AzureAccess(**where, account_key=auth.account_key.get_secret_value())
        if isinstance(auth, SasToken):
            return AzureAccess(**where, sas_token=auth.sas_token.get_secret_value())
        credential = _token_credential(auth)
        if audit is not None:
            credential = _Audited(credential, audit)
        return AzureAccess(**where, token_credential=credential)

    def verify(
        self, auth: AuthMethodConfig, resource_type: str, resource_id: str | None
    ) -> list[str]:
        if isinstance(auth, SasToken) and auth.for_one_container and not resource_id:
            raise ConnectorError(
                "this SAS is for one container, and cannot list the account's containers",
                fix="name its container: --resource-id az://CONTAINER",
            )
        access = self.access(auth)
        try:
            account_url = access.account_url
        except HoldallError as exc:
            raise ConnectorError(
                f"{exc.message} for this {type(auth).__name__} connector",
                fix="give the storage account: --account_name=ACCOUNT",
            ) from None
        if resource_type == "blob-container" and resource_id:
            _run(_first_blob(access, resource_id, auth), access, auth)
            return [f"az://{resource_id}"]
        just_one = resource_type == "azure-generic"
        containers = _run(_containers(access, just_one, auth), access, auth)
        if resource_type == "azure-generic":
            return [f"storage account {account_url}"]
        return [f"az://{name}" for name in containers]

    def auto_configure(self) -> tuple[str, dict[str, Any]]:
        """What the Azure SDKs themselves read from the environment, the most specific
        first: a connection string, an account key, a SAS, a service principal; anything
        else is `implicit`."""
        import os

        env = os.environ.get
        account = {"account_name": env("AZURE_STORAGE_ACCOUNT_NAME")}
        account = {k: v for k, v in account.items() if v}
        if env("AZURE_STORAGE_CONNECTION_STRING"):
            return "connection-string", {
                "connection_string": env("AZURE_STORAGE_CONNECTION_STRING")
            }
        if account and env("AZURE_STORAGE_ACCOUNT_KEY"):
            return "account-key", {**account, "account_key": env("AZURE_STORAGE_ACCOUNT_KEY")}
        if account and env("AZURE_STORAGE_SAS_TOKEN"):
            return "sas-token", {**account, "sas_token": env("AZURE_STORAGE_SAS_TOKEN")}
        principal = [env(k) for k in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")]
        if all(principal):
            tenant, client, secret = principal
            values = {"tenant_id": tenant, "client_id": client, "client_secret": secret}
            if env("AZURE_AUTHORITY_HOST"):
                values["authority"] = str(env("AZURE_AUTHORITY_HOST"))
            return "service-principal", {**account, **values}
        return "implicit", account

    def credentials(self, auth: AuthMethodConfig, handout: Handout) -> AzureAccess:
        access = self.access(auth, handout)
        kind = "a token credential renewed by azure-core" if access.token_credential else "a key"
        handout.record("issued", "ok", f"{type(auth).__name__}: {kind}")
        return access


def _token_credential(auth: AzureAuth) -> Any:
    """azure-identity's async credential for `auth` (not yet asked for a token)."""
    if isinstance(auth, ServicePrincipal):
        from azure.identity.aio import ClientSecretCredential

        options: dict[str, Any] = {}
        if auth.authority:
            options["authority"] = auth.authority
            # A private authority has no instance metadata at Microsoft's hosts to look up.
            host = auth.authority.split("://", 1)[1].split("/", 1)[0]
            options["disable_instance_discovery"] = host not in AZURE_AUTHORITIES
        return ClientSecretCredential(
            auth.tenant_id, auth.client_id, auth.client_secret.get_secret_value(), **options
        )
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()


def _refused_or_expired(access: AzureAccess, reason: str) -> ConnectorError:
    expired = access.sas_expired()
    if expired is None:
        return _refused(reason)
    return ConnectorError(
        f"the connector's credentials expired ({expired})",
        fix="give a new SAS: holdall service-connector update NAME --sas_token=@FILE (or "
        "--connection_string=@FILE)",
    )


def _run(work: Awaitable[T], access: AzureAccess, waits: Waits) -> T:
    """Run one check against the account, its failures as ConnectorErrors, within the
    budget its waits state (signing in included)."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    async def bounded() -> T:
        return await asyncio.wait_for(work, timeout=waits.budget(retry_backoff))

    account_url = access.account_url
    try:
        return asyncio.run(bounded())
    except ClientAuthenticationError as exc:
        raise _refused(_reason(exc)) from None
    except HttpResponseError as exc:
        if getattr(exc, "error_code", None) == "ContainerNotFound":
            raise ConnectorError(f"that container does not exist at {account_url}") from None
        if exc.status_code in (401, 403):
            raise _refused_or_expired(access, _reason(exc)) from None
        raise ConnectorError(f"Azure answered {exc.status_code}: {_reason(exc)}") from None
    except (asyncio.TimeoutError, ServiceResponseError) as exc:
        reason = _reason(exc) if str(exc) else "no answer"
        raise unanswered(
            "Azure Blob Storage", account_url, waits, retry_backoff, reason, ACCOUNT_SETTINGS
        ) from None
    except ServiceRequestError as exc:
        raise ConnectorError(
            f"cannot reach {account_url}: {_reason(exc)}",
            fix="check --account_name, --account_host and the network",
        ) from None


@asynccontextmanager
async def _service(access: AzureAccess, waits: Waits) -> AsyncIterator[Any]:
    """The account's client for one check, its token credential (an HTTP session) closed
    with it."""
    try:
        async with blob_service(access, waits) as service:
            yield service
    finally:
        if access.token_credential is not None:
            await access.token_credential.close()


async def _first_blob(access: AzureAccess, container: str, waits: Waits) -> None:
    async with _service(access, waits) as service:
        pages = service.get_container_client(container).list_blobs(results_per_page=1).by_page()
        async for page in pages:
            async for _ in page:
                break
            break


async def _containers(access: AzureAccess, just_one: bool, waits: Waits) -> list[str]:
    async with _service(access, waits) as service:
        names = []
        async for container in service.list_containers(results_per_page=1 if just_one else None):
            names.append(str(container.name))
            if just_one:
                break
        return sorted(names)


class _Audited:
    """An async token credential whose every new token is recorded in the audit (never the
    token itself)."""

    def __init__(self, inner: Any, handout: Handout) -> None:
        self.inner = inner
        self.handout = handout
        self.expires_on: int | None = None

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        try:
            token = await self.inner.get_token(*scopes, **kwargs)
        except Exception as exc:
            self.handout.record("renewed", "failed", _reason(exc)[:200])
            raise
        if token.expires_on != self.expires_on:
            purpose = "issued" if self.expires_on is None else "renewed"
            self.expires_on = token.expires_on
            self.handout.record(purpose, "ok", f"token expires at {token.expires_on} (epoch s)")
        return token

    async def close(self) -> None:
        await self.inner.close()

    async def __aenter__(self) -> _Audited:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
