"""How a store or a connector reaches a storage account: where its blobs are, and the one
credential that opens them. Both the flavor's own secrets and a connector's handout become an
`AzureAccess`; `blob_service` (the one place the SDK's client is built) takes it from there.
Imports no SDK at module level."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from holdall.errors import HoldallError
from holdall.waits import Waits
from holdall_azure.flavor import AzureConfig, parse_connection_string

AZURE_BLOB_DOMAIN = "blob.core.windows.net"
# The settings that say where an account's blobs are, for messages.
ACCOUNT_SETTINGS = "--account_name, --account_host or the connection string's BlobEndpoint"
# azure-storage's exponential retry sleeps INITIAL + BASE**k s, give or take JITTER, before
# try k + 1 (its own defaults, 15 s and more, would keep a failing store waiting minutes).
INITIAL_BACKOFF, INCREMENT_BASE, JITTER = 1, 2, 1


def retry_backoff(tries: int) -> float:
    """The longest the retry sleeps in all between `tries` tries (holdall.waits.Backoff)."""
    return float(sum(INITIAL_BACKOFF + INCREMENT_BASE**k + JITTER for k in range(1, tries)))


@dataclass(frozen=True)
class AzureAccess:
    """At most one credential is set; none means DefaultAzureCredential on this machine."""

    account: str | None = None
    account_host: str | None = None  # https://ACCOUNT_HOST instead of Azure's own host
    connection_string: str | None = None
    account_key: str | None = None
    sas_token: str | None = None
    token_credential: Any = None  # azure-identity's (async) credential, renewed by azure-core

    @classmethod
    def of_config(cls, config: AzureConfig) -> AzureAccess:
        def secret(value: Any) -> str | None:
            return value.get_secret_value() if value is not None else None

        return cls(
            account=config.account,
            account_host=config.account_host,
            connection_string=secret(config.connection_string),
            account_key=secret(config.account_key),
            sas_token=secret(config.sas_token),
        )

    def for_store(self, config: AzureConfig) -> AzureAccess:
        """A connector's access, with the store's own account and host where it has them."""
        return replace(
            self,
            account=config.account or self.account,
            account_host=config.account_host or self.account_host,
        )

    @property
    def sas_expiry(self) -> datetime | None:
        """When the SAS this access signs with stops working (its `se`), if it signs with
        one: Azure refuses an expired SAS as it refuses a wrong one, in the same words."""
        sas = self.sas_token
        if self.connection_string:
            sas = parse_connection_string(self.connection_string).get("SharedAccessSignature")
        found = parse_qs(sas or "").get("se")
        if not found:
            return None
        try:
            expiry = datetime.fromisoformat(found[0].replace("Z", "+00:00"))
        except ValueError:
            return None
        return expiry if expiry.tzinfo else expiry.replace(tzinfo=timezone.utc)

    def sas_expired(self) -> str | None:
        """ "its SAS expired at ..." when it has, else None."""
        expiry = self.sas_expiry
        if expiry is None or expiry > datetime.now(timezone.utc):
            return None
        return f"its SAS expired at {expiry.isoformat().replace('+00:00', 'Z')}"

    @property
    def account_url(self) -> str:
        """Where the account's blobs are (adlfs's meaning of account_host: host, port and
        path, as an emulator or a private endpoint has them)."""
        if self.connection_string:
            settings = parse_connection_string(self.connection_string)
            if "BlobEndpoint" in settings:
                return settings["BlobEndpoint"].rstrip("/")
            suffix = settings.get("EndpointSuffix", "core.windows.net")
            protocol = settings.get("DefaultEndpointsProtocol", "https")
            return f"{protocol}://{settings['AccountName']}.blob.{suffix}"
        if self.account_host:
            return f"https://{self.account_host.strip('/')}"
        if not self.account:
            raise HoldallError(
                "no Azure storage account is named",
                fix="give one: holdall artifact-store update NAME --account_name=ACCOUNT (or a "
                "path az://CONTAINER@ACCOUNT/...), or a connection string",
            )
        return f"https://{self.account}.{AZURE_BLOB_DOMAIN}"


def blob_service(access: AzureAccess, waits: Waits | None = None) -> Any:
    """azure-storage-blob's async BlobServiceClient for `access`, with a store's bounded
    waits and tries (a store's, or a connector's auth method's). azure-storage's own retry
    waits 15 s and more between ten tries: minutes before a store could say that its
    endpoint is unreachable."""
    from azure.storage.blob.aio import BlobServiceClient

    bounds = waits or Waits()
    retry = retry_class()(
        initial_backoff=INITIAL_BACKOFF,
        increment_base=INCREMENT_BASE,
        random_jitter_range=JITTER,
        retry_total=bounds.retries,
    )
    options: dict[str, Any] = {
        "retry_policy": retry,
        "connection_timeout": bounds.connect_timeout,
        "read_timeout": bounds.read_timeout,
    }
    if access.connection_string:
        return BlobServiceClient.from_connection_string(access.connection_string, **options)
    return BlobServiceClient(access.account_url, credential=_credential(access), **options)


@functools.cache
def retry_class() -> type:
    """azure-storage's exponential retry, except for credentials refused: azure-identity's
    refusal (a wrong client secret) would otherwise be asked again, and waited for."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.storage.blob.aio import ExponentialRetry

    class Retry(ExponentialRetry):
        def increment(self, settings: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
            if isinstance(kwargs.get("error"), ClientAuthenticationError):
                return False
            return bool(super().increment(settings, request, *args, **kwargs))

    return Retry


def _credential(access: AzureAccess) -> Any:
    if access.account_key:
        from azure.core.credentials import AzureNamedKeyCredential

        return AzureNamedKeyCredential(access.account or "", access.account_key)
    if access.sas_token:
        from azure.core.credentials import AzureSasCredential

        return AzureSasCredential(access.sas_token)
    if access.token_credential is not None:
        return access.token_credential
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()
