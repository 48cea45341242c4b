"""The `azure` flavor and its settings, and Azure's naming rules. Imports no SDK: adlfs and
azure-storage-blob load in store.py."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, SecretStr, ValidationInfo, field_validator, model_validator

from holdall.artifact_stores.config import split_scheme
from holdall.artifact_stores.flavor import ArtifactStoreFlavor
from holdall.artifact_stores.object_store import KiB, MiB, ObjectStoreConfig

# Azure's rules: containers 3-63 lowercase letters, digits and single hyphens, starting and
# ending with a letter or digit; storage accounts 3-24 lowercase letters and digits.
CONTAINER = re.compile(r"[a-z0-9](?:-?[a-z0-9])*", re.ASCII)
ACCOUNT = re.compile(r"[a-z0-9]{3,24}", re.ASCII)
# The hosts of `abfs://container@ACCOUNT.dfs.core.windows.net/...` paths.
ACCOUNT_DOMAINS = (".dfs.core.windows.net", ".blob.core.windows.net")


def check_container(container: str) -> None:
    if not 3 <= len(container) <= 63 or not CONTAINER.fullmatch(container):
        raise ValueError(
            f"'{container}' is not a valid Azure container name (3-63 characters: lowercase "
            "letters, digits and single hyphens, starting and ending with a letter or digit)"
        )


def check_account(account: str) -> None:
    if not ACCOUNT.fullmatch(account):
        raise ValueError(
            f"'{account}' is not a valid Azure storage account name (3-24 lowercase letters "
            "and digits)"
        )


def split_location(location: str) -> tuple[str, str | None, str]:
    """(container, account or None, path inside) of a URI's part after its scheme:
    `container/path`, `container@account/path`, `container@account.dfs.core.windows.net/path`."""
    head, _, inside = location.partition("/")
    container, at, account = head.partition("@")
    if not at:
        return container, None, inside
    for domain in ACCOUNT_DOMAINS:
        account = account.removesuffix(domain)
    return container, account, inside


def parse_connection_string(value: str) -> dict[str, str]:
    """An Azure connection string's settings (`Key=Value;...`), keys as Azure spells them;
    ValueError, never quoting it (it holds a key), when it is not one."""
    settings: dict[str, str] = {}
    for part in value.strip().strip(";").split(";"):
        key, sep, setting = part.partition("=")
        if not sep or not key.strip() or not setting:
            raise ValueError(
                "connection_string is malformed: Azure's are KEY=VALUE pairs separated by ';' "
                "(copy it from the portal's 'Access keys' page: --connection_string=@FILE)"
            )
        settings[key.strip()] = setting.strip()
    if "AccountName" not in settings and "BlobEndpoint" not in settings:
        raise ValueError("connection_string names no storage account (AccountName=...)")
    if not {"AccountKey", "SharedAccessSignature"} & set(settings):
        raise ValueError(
            "connection_string holds no credential (AccountKey=... or SharedAccessSignature=...)"
        )
    if "AccountKey" in settings:
        check_account_key("connection_string's AccountKey", settings["AccountKey"])
    return settings


def check_account_key(field: str, key: str) -> None:
    try:
        base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"{field} is not an account key (Azure's are base64, 88 characters)"
        ) from None


def check_sas_token(field: str, token: str) -> str:
    token = token.strip().lstrip("?")
    if "sig=" not in token:
        raise ValueError(f"{field} is not a SAS token (it has no sig=...)")
    return token


def _account(account: str) -> str:
    check_account(account)
    return account


def _account_key(key: SecretStr, info: ValidationInfo) -> SecretStr:
    check_account_key(info.field_name or "account_key", key.get_secret_value())
    return key


def _sas_token(token: SecretStr, info: ValidationInfo) -> SecretStr:
    return SecretStr(check_sas_token(info.field_name or "sas_token", token.get_secret_value()))


def _connection_string(value: SecretStr) -> SecretStr:
    parse_connection_string(value.get_secret_value())
    return value


# Azure's settings with its rules, for the flavor's config and the connector's auth methods.
ValidAccountName = Annotated[str, AfterValidator(_account)]
ValidAccountKey = Annotated[SecretStr, AfterValidator(_account_key)]
ValidSasToken = Annotated[SecretStr, AfterValidator(_sas_token)]
ValidConnectionString = Annotated[SecretStr, AfterValidator(_connection_string)]


# Azure's access tiers for block blobs.
AccessTier = Literal["Hot", "Cool", "Cold", "Archive"]


class AzureConfig(ObjectStoreConfig):
    SUPPORTED_SCHEMES: ClassVar[frozenset[str]] = frozenset({"az://", "abfs://"})
    LOCATION_FIELDS: ClassVar[frozenset[str]] = frozenset({"path", "account_name", "account_host"})
    CONTAINER: ClassVar[str] = "container"
    # A block blob takes up to 50,000 blocks of up to 4000 MiB each.
    PART_LIMIT: ClassVar[int] = 50_000
    MIN_PART_SIZE: ClassVar[int] = 64 * KiB
    MAX_PART_SIZE: ClassVar[int] = 4000 * MiB

    account_name: ValidAccountName | None = None
    # Another host for the account's blobs (https://ACCOUNT_HOST): an emulator, a private
    # endpoint, a sovereign cloud. host[:port][/path], no scheme.
    account_host: str | None = None
    access_tier: AccessTier | None = None
    account_key: ValidAccountKey | None = None
    connection_string: ValidConnectionString | None = None
    sas_token: ValidSasToken | None = None

    @classmethod
    def check_container_name(cls, name: str) -> None:
        container, account, _ = split_location(name)
        check_container(container)
        if account is not None:
            check_account(account)

    @field_validator("account_host")
    @classmethod
    def _check_host(cls, host: str | None) -> str | None:
        if host is not None and ("://" in host or not host.strip("/")):
            raise ValueError(
                f"account_host is a host, no scheme: '{host.split('://')[-1]}', not '{host}'"
            )
        return host

    @model_validator(mode="after")
    def _one_account(self) -> AzureConfig:
        in_path = split_location(split_scheme(self.path)[1])[1]
        if in_path and self.account_name and in_path != self.account_name:
            raise ValueError(
                f"the path names storage account '{in_path}' and --account_name "
                f"'{self.account_name}': give one"
            )
        given = [f for f in ("account_key", "connection_string", "sas_token") if getattr(self, f)]
        if len(given) > 1:
            raise ValueError(f"give one credential, not {' and '.join('--' + f for f in given)}")
        return self

    @property
    def container(self) -> str:
        return split_location(split_scheme(self.path)[1])[0]

    @property
    def account(self) -> str | None:
        """The storage account, from --account_name or the path (`container@account`)."""
        return self.account_name or split_location(split_scheme(self.path)[1])[1]


class AzureFlavor(ArtifactStoreFlavor):
    name = "azure"
    config_class = AzureConfig
    implementation = "holdall_azure.store:AzureArtifactStore"
    connector_type = "azure"
    connector_resource_type = "blob-container"
