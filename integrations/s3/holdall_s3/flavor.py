"""The `s3` flavor and its settings. Imports no SDK: s3fs and botocore load in store.py."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator

from holdall.artifact_stores.flavor import ArtifactStoreFlavor
from holdall.artifact_stores.object_store import ObjectStoreConfig, is_ip_address

# S3's storage classes (the seed's storage tiers), as put_object takes them.
StorageClass = Literal[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "EXPRESS_ONEZONE",
]
# S3's rules for bucket names (general purpose buckets), matched whole.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# What AWS keeps for its own kinds of name (access points, Express One Zone, S3 Tables,
# Multi-Region Access Points, its documentation's examples).
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket(bucket: str) -> None:
    if not BUCKET.fullmatch(bucket) or ".." in bucket or is_ip_address(bucket):
        raise ValueError(
            f"'{bucket}' is not a valid S3 bucket name (3-63 characters: lowercase letters, "
            "digits, '.' and '-', starting and ending with a letter or digit)"
        )
    if bucket.startswith(RESERVED_PREFIXES) or bucket.endswith(RESERVED_SUFFIXES):
        raise ValueError(
            f"'{bucket}' is not a valid S3 bucket name: AWS keeps names that start with "
            f"{', '.join(RESERVED_PREFIXES)} or end with {', '.join(RESERVED_SUFFIXES)} for "
            "its own"
        )


class S3Config(ObjectStoreConfig):
    SUPPORTED_SCHEMES: ClassVar[frozenset[str]] = frozenset({"s3://"})
    # Another endpoint is another S3 service, with other buckets.
    LOCATION_FIELDS: ClassVar[frozenset[str]] = frozenset({"path", "endpoint_url"})

    endpoint_url: str | None = None
    region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    addressing_style: Literal["path", "virtual"] | None = None
    sse: Literal["AES256", "aws:kms"] | None = None
    sse_kms_key_id: str | None = None
    storage_class: StorageClass | None = None
    client_kwargs: dict[str, Any] = Field(default_factory=dict)
    config_kwargs: dict[str, Any] = Field(default_factory=dict)
    s3_additional_kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _older_names(cls, data: Any) -> Any:
        # 0.1's name for part_size (boto3's), still taken: stored configs and scripts use it.
        if isinstance(data, dict) and "multipart_chunksize" in data:
            data = dict(data)
            data["part_size"] = data.pop("multipart_chunksize")
        return data

    @classmethod
    def check_container_name(cls, name: str) -> None:
        check_bucket(name)

    @model_validator(mode="after")
    def _check_combinations(self) -> S3Config:
        if bool(self.aws_access_key_id) != bool(self.aws_secret_access_key):
            raise ValueError("give aws_access_key_id and aws_secret_access_key together")
        if self.sse_kms_key_id and self.sse != "aws:kms":
            raise ValueError("sse_kms_key_id needs --sse=aws:kms")
        return self

    @property
    def bucket(self) -> str:
        return self.container


class S3Flavor(ArtifactStoreFlavor):
    name = "s3"
    config_class = S3Config
    implementation = "holdall_s3.store:S3ArtifactStore"
    connector_type = "aws"
    connector_resource_type = "s3-bucket"
