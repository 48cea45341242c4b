"""The pydantic model every artifact-store flavor's config derives from."""

from __future__ import annotations

import json
import re
import typing
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from holdall.compression import DEFAULT_LEVEL, Compression, level_problem
from holdall.errors import ConfigError
from holdall.secrets import holds_url_password, secret_fields, url_password_refusal
from holdall.settings import MAX_SETTING_BYTES


def split_scheme(path: str) -> tuple[str, str]:
    """("s3://", "bucket/key") for "s3://bucket/key"; ("", path) for a plain path."""
    scheme, sep, rest = path.partition("://")
    if sep and scheme and "/" not in scheme:
        return f"{scheme.lower()}://", rest
    return "", path


def _is_container(annotation: Any) -> bool:
    origins = {typing.get_origin(arg) or arg for arg in typing.get_args(annotation)}
    origins.add(typing.get_origin(annotation) or annotation)
    return bool(origins & {dict, list})


# Keys that hold credentials in the free-form JSON settings handed to an SDK. Those settings
# are stored in the clear, so a credential belongs in the flavor's secret settings instead.
# A key of a free-form setting (client_kwargs, s3_additional_kwargs ...) holds a credential
# when its name carries one of these words, unless it is one of the names below, which only
# point at a key or say how one is used. Words rather than a list of names: a list missed
# S3's SSECustomerKey, which then went to disk in the clear.
_CREDENTIAL_WORDS = ("key", "secret", "token", "passw", "credential", "authorization")
NOT_CREDENTIALS = frozenset({"ssekmskeyid", "bucketkeyenabled"})


def is_credential_name(name: object) -> bool:
    squashed = re.sub(r"[-_ ]", "", str(name)).lower()
    return squashed not in NOT_CREDENTIALS and any(w in squashed for w in _CREDENTIAL_WORDS)


def _credential_keys(value: Any) -> list[str]:
    """The credential keys anywhere inside a JSON value."""
    if isinstance(value, dict):
        found = [k for k in value if is_credential_name(k)]
        return found + [k for v in value.values() for k in _credential_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _credential_keys(v)]
    return []


class ArtifactStoreConfig(BaseModel):
    # hide_input_in_errors: a validation error must never carry a value onward (secrets).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    SUPPORTED_SCHEMES: ClassVar[frozenset[str]] = frozenset()
    # Settings that say where the data is (a bucket is in the path): while versions live in
    # the store, changing one would lose them. Credentials, part sizes and the like may change.
    LOCATION_FIELDS: ClassVar[frozenset[str]] = frozenset({"path"})

    path: str
    # How new files are stored: as they are, zstd-compressed, or compressed where their first
    # block shrinks enough to pay (see holdall/artifacts/codecs.py). Files already stored keep
    # theirs: each records its own codec.
    compression: Literal["none", "zstd", "auto"] = "none"
    compression_level: int = DEFAULT_LEVEL

    @field_validator("compression_level")
    @classmethod
    def _check_level(cls, level: int) -> int:
        problem = level_problem(level)
        if problem:
            raise ValueError(problem)
        return level

    @property
    def storing(self) -> Compression:
        return Compression(self.compression, self.compression_level)

    @classmethod
    def usual_scheme(cls) -> str:
        """The scheme paths are shown with: the shortest (az://, gs://, s3://)."""
        return min(cls.SUPPORTED_SCHEMES, key=lambda s: (len(s), s), default="")

    @model_validator(mode="before")
    @classmethod
    def _json_for_containers(cls, data: Any) -> Any:
        # Values from the command line are strings; a dict or list field takes JSON.
        if not isinstance(data, dict):
            return data
        decoded = dict(data)
        for key, value in data.items():
            if isinstance(value, str) and len(value) > MAX_SETTING_BYTES:
                raise ValueError(
                    f"{key} is longer than {MAX_SETTING_BYTES // 1024} KiB, "
                    "the most a setting takes"
                )
            field = cls.model_fields.get(key)
            if field is not None and isinstance(value, str) and _is_container(field.annotation):
                try:
                    decoded[key] = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{key} must be JSON ({exc.msg})") from exc
        return decoded

    @field_validator("path")
    @classmethod
    def _check_path(cls, path: str) -> str:
        return cls.normalize_path(path)

    @field_validator("*", mode="before")
    @classmethod
    def _no_passwords_in_urls(cls, value: Any, info: ValidationInfo) -> Any:
        # Before any other check, so that no refusal of the value can repeat it.
        field = info.field_name or "a setting"
        if field not in secret_fields(cls) and holds_url_password(value):
            where = " / ".join(f"--{f}" for f in secret_fields(cls)) or "a service connector"
            raise ValueError(url_password_refusal(field, where))
        return value

    @field_validator("*")
    @classmethod
    def _no_credentials_in_the_clear(cls, value: Any, info: ValidationInfo) -> Any:
        found = _credential_keys(value) if isinstance(value, (dict, list)) else []
        if found:
            key = str(found[0])
            proper = key if key in cls.model_fields else None
            where = (
                f"--{proper}"
                if proper in secret_fields(cls)
                else " / ".join(f"--{f}" for f in secret_fields(cls)) or "a service connector"
            )
            raise ValueError(
                f"'{key}' is a credential, and --{info.field_name} is stored in the clear; "
                f"give it as {where} (stored encrypted)"
            )
        return value

    @classmethod
    def normalize_path(cls, path: str) -> str:
        scheme, rest = split_scheme(path.strip())
        if scheme not in cls.SUPPORTED_SCHEMES:
            raise ValueError(
                f"'{scheme or path}' paths are not supported; use "
                + " or ".join(sorted(cls.SUPPORTED_SCHEMES))
            )
        if not rest.strip("/"):
            raise ValueError(f"'{path}' names no bucket or container")
        if {".", ".."} & set(rest.split("/")):
            raise ValueError(f"'{path}' has a '.' or '..' segment; give the path it leads to")
        # "b//x" is "b/x" to every SDK (the objects land there): recorded as it is reached.
        # A leading "/" stays: after some schemes (sqlite:///abs/blobs.db) it makes the path
        # absolute.
        return scheme + re.sub("/{2,}", "/", rest).rstrip("/")

    @classmethod
    def setting_names(cls) -> list[str]:
        return sorted(cls.model_fields)


def describe_validation_error(
    flavor: str, config_class: type[ArtifactStoreConfig], exc: ValidationError
) -> ConfigError:
    """Turn pydantic's report into one line that names the key and what to do."""
    from holdall.validation import describe_invalid

    return describe_invalid(
        f"flavor '{flavor}'",
        config_class.setting_names(),
        f"holdall artifact-store flavor describe {flavor}",
        exc,
    )
