"""The `azure` service connector: a storage account's credentials held once, handed to
Azure stores as an `AzureAccess` (a key, a SAS, a connection string, or azure-identity's own
credential, whose tokens azure-core renews during a transfer). The auth methods are plain
pydantic models; the SDK is imported only inside the methods that use it. What the credentials
reach is checked through an Azure store (the core's verification)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

from pydantic import SecretStr, model_validator

from holdall.connectors.base import (
    AuthMethodConfig,
    ConnectorError,
    Handout,
    ServiceConnectorType,
)
from holdall_azure.access import AzureAccess
from holdall_azure.flavor import (
    ValidAccountKey,
    ValidAccountName,
    ValidConnectionString,
    ValidSasToken,
    check_container,
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

if TYPE_CHECKING:
    from holdall.artifact_stores.object_store import ObjectArtifactStore


class AzureAuth(AuthMethodConfig):
    account_name: ValidAccountName | None = None
    # Another host for the account's blobs (https://ACCOUNT_HOST): an emulator, a private
    # endpoint, a sovereign cloud.
    account_host: str | None = None


class Implicit(AzureAuth):
    DESCRIPTION: ClassVar[str] = (
        "DefaultAzureCredential on the machine that uses the store (environment, managed "
        "identity, az login)"
    )


class ConnectionString(AuthMethodConfig):
    DESCRIPTION: ClassVar[str] = "a storage account's connection string (--connection_string=@FILE)"
    connection_string: ValidConnectionString


class AccountKey(AzureAuth):
    DESCRIPTION: ClassVar[str] = "a storage account's name and key"
    account_name: ValidAccountName
    account_key: ValidAccountKey


class SasToken(AzureAuth):
    DESCRIPTION: ClassVar[str] = "a shared access signature, for an account or one container"
    account_name: ValidAccountName
    sas_token: ValidSasToken

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

    def check_resource(
        self, auth: AuthMethodConfig, resource_type: str, resource_id: str | None
    ) -> None:
        if isinstance(auth, SasToken) and auth.for_one_container and not resource_id:
            raise ConnectorError(
                "this SAS is for one container, and cannot list the account's containers",
                fix="name its container: --resource-id az://CONTAINER",
            )
        if isinstance(auth, AzureAuth) and not (auth.account_name or auth.account_host):
            raise ConnectorError(
                f"no Azure storage account is named for this {type(auth).__name__} connector",
                fix="give the storage account: holdall service-connector update NAME "
                "--account_name=ACCOUNT",
            )

    def store_settings(self, auth: AuthMethodConfig) -> dict[str, Any]:
        if not isinstance(auth, AzureAuth):
            return {}  # a connection string says where the account is
        return {"account_name": auth.account_name, "account_host": auth.account_host}

    def account(self, auth: AuthMethodConfig, store: ObjectArtifactStore) -> str:
        # The account's containers listed: what the credentials may do in it.
        store.list_containers(store.make_filesystem())
        return f"storage account {store.endpoint}"

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


class _Audited:
    """An async token credential whose every new token is recorded in the audit (never the
    token itself)."""

    def __init__(self, inner: Any, handout: Handout) -> None:
        self.inner = inner
        self.handout = handout
        self.expires_on: int | None = None

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        with self.handout.renewal():
            token = await self.inner.get_token(*scopes, **kwargs)
        if token.expires_on != self.expires_on:
            first = self.expires_on is None
            self.expires_on = token.expires_on
            expires = f"at {token.expires_on} (epoch s)"
            if first:
                self.handout.record("issued", "ok", f"token expires {expires}")
            else:
                self.handout.renewed(expires)
        return token

    async def close(self) -> None:
        await self.inner.close()

    async def __aenter__(self) -> _Audited:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
