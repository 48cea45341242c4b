"""The `gcs` flavor and its settings. Imports no SDK: gcsfs and google-auth load in store.py."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Literal

from pydantic import SecretStr, field_validator, model_validator

from holdall.artifact_stores.flavor import ArtifactStoreFlavor
from holdall.artifact_stores.object_store import GiB, KiB, ObjectStoreConfig, is_ip_address

# GCS's rules for bucket names: lowercase letters, digits, '-', '_' and '.', starting and
# ending with a letter or digit; 3-63 characters, or up to 222 in dot-separated parts of 63.
BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]*[a-z0-9]", re.ASCII)
ANON = "anon"


def check_bucket(bucket: str) -> None:
    parts = bucket.split(".")
    if (
        not BUCKET.fullmatch(bucket)
        or not 3 <= len(bucket) <= (222 if len(parts) > 1 else 63)
        or any(not part or len(part) > 63 for part in parts)
        or is_ip_address(bucket)
        or bucket.startswith("goog")
        or "google" in bucket
    ):
        raise ValueError(
            f"'{bucket}' is not a valid GCS bucket name (3-63 characters: lowercase letters, "
            "digits, '-', '_' and '.', starting and ending with a letter or digit; not "
            "starting with 'goog', not containing 'google')"
        )


def check_service_account_key(field: str, key: SecretStr) -> dict[str, Any]:
    """A service account's key JSON, parsed; what is wrong with it otherwise (never its
    content: it is a secret)."""
    try:
        info = json.loads(key.get_secret_value())
    except ValueError:
        raise ValueError(
            f"{field} must be a service account's key JSON (--{field}=@key.json)"
        ) from None
    if not isinstance(info, dict) or not {"private_key", "client_email"} <= set(info):
        raise ValueError(
            f"{field} is JSON, but not a service account key (no private_key and client_email)"
        )
    return info


# GCS's storage classes, as its JSON API names them.
StorageClass = Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"]


class GCSConfig(ObjectStoreConfig):
    SUPPORTED_SCHEMES: ClassVar[frozenset[str]] = frozenset({"gs://", "gcs://"})
    LOCATION_FIELDS: ClassVar[frozenset[str]] = frozenset({"path", "endpoint_url"})
    # A resumable upload takes any number of chunks, each a multiple of 256 KiB.
    PART_LIMIT: ClassVar[int] = 2**40
    MIN_PART_SIZE: ClassVar[int] = 256 * KiB
    MAX_PART_SIZE: ClassVar[int] = 5 * GiB
    PART_ALIGN: ClassVar[int] = 256 * KiB

    project: str | None = None
    endpoint_url: str | None = None
    location: str | None = None
    storage_class: StorageClass | None = None
    # A service account's key JSON (give it as --token=@key.json), stored encrypted.
    token: SecretStr | None = None
    # No credentials at all (a public bucket, an emulator): only when asked for, never as a
    # fallback when the credentials found fail. gcsfs's spelling, --token=anon, asks too.
    anonymous: bool = False

    @model_validator(mode="before")
    @classmethod
    def _anon_token(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("token") == ANON:
            data = {key: value for key, value in data.items() if key != "token"}
            data["anonymous"] = True
        return data

    @classmethod
    def check_container_name(cls, name: str) -> None:
        check_bucket(name)

    @field_validator("part_size")
    @classmethod
    def _whole_chunks(cls, size: int | None) -> int | None:
        if size is not None and size % cls.PART_ALIGN:
            raise ValueError("part_size must be a multiple of 262144 bytes (256 KiB), as GCS asks")
        return size

    @field_validator("token")
    @classmethod
    def _check_key(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None:
            check_service_account_key("token", token)
        return token

    @model_validator(mode="after")
    def _one_way_in(self) -> GCSConfig:
        if self.anonymous and self.token is not None:
            raise ValueError(
                "a store is anonymous or has a service account's key, not both: give "
                "--anonymous=false with --token=@key.json, or --token=anon alone"
            )
        return self


class GCSFlavor(ArtifactStoreFlavor):
    name = "gcs"
    config_class = GCSConfig
    implementation = "holdall_gcp.store:GCSArtifactStore"
    connector_type = "gcp"
    connector_resource_type = "gcs-bucket"
