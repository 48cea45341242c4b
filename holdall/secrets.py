"""Secret config values are stored encrypted; only the process that uses them decrypts them.

The key is HOLDALL_SECRETS_KEY when set (a team sharing one metadata database sets the same
key everywhere), else a key file made on first use in the config dir, readable by its owner
only. Secrets are Fernet tokens (AES-128-CBC with an HMAC) in the database.
"""

from __future__ import annotations

import json
import os
import re
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdall.errors import StateError
from holdall.settings import CONFIG_DIR_ENV, config_dir

if TYPE_CHECKING:
    from pydantic import BaseModel

KEY_ENV = "HOLDALL_SECRETS_KEY"
MARKER = "__secret__"
MASK = "[HIDDEN]"  # as ZenML shows a secret


def key_file() -> Path:
    return config_dir() / "secrets.key"


def _create_key(path: Path) -> bytes:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()  # another process made it first
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def read_keys() -> list[bytes]:
    """The keys secrets open with, newest first: several while a rotation is under way (the
    newest seals; any of them opens)."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return [k.strip().encode() for k in configured.split(",") if k.strip()]
    path = key_file()
    try:
        keys = path.read_bytes().split()
        return keys or [_create_key(path)]
    except FileNotFoundError:
        try:
            return [_create_key(path)]
        except OSError as exc:
            raise StateError(
                f"cannot create the secrets key {path}: {exc.strerror}",
                fix=f"make {path.parent} writable, or set {CONFIG_DIR_ENV} or {KEY_ENV}",
            ) from exc


def write_keys(keys: list[bytes]) -> None:
    """Replace the key file, whole or not at all (a crash leaves the old one or the new)."""
    path = key_file()
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(b"\n".join(keys) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def keyring(keys: list[bytes]) -> Any:
    from cryptography.fernet import Fernet, MultiFernet

    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise StateError(
            f"the secrets key is not a valid key ({exc})",
            fix=f"set {KEY_ENV} to the key the secrets were stored with",
        ) from exc


def _fernet() -> Any:
    return keyring(read_keys())


def seal(values: dict[str, Any], secret_keys: set[str]) -> dict[str, Any]:
    """`values` with each secret replaced by {"__secret__": <encrypted token>}."""
    if not any(values.get(key) is not None for key in secret_keys):
        return values
    fernet = _fernet()
    return {
        key: {MARKER: fernet.encrypt(str(value).encode()).decode()}
        if key in secret_keys and value is not None
        else value
        for key, value in values.items()
    }


def sealed_json(model: Any) -> str:
    """A pydantic model as stored: JSON, its SecretStr fields encrypted, never in the clear."""
    from pydantic import SecretStr

    secrets = {k: v.get_secret_value() for k, v in model if isinstance(v, SecretStr)}
    plain = {**model.model_dump(mode="json"), **secrets}
    return json.dumps(seal(plain, set(secrets)), sort_keys=True)


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {MARKER}


def unseal(values: dict[str, Any], replaced: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The values with their secrets opened; those in `replaced` (about to be given anew)
    are left out, so that a secret no key opens can still be replaced."""
    values = {k: v for k, v in values.items() if k not in replaced}
    if not any(is_sealed(v) for v in values.values()):
        return values
    from cryptography.fernet import InvalidToken

    fernet = _fernet()
    opened = {}
    for key, value in values.items():
        try:
            opened[key] = fernet.decrypt(value[MARKER]).decode() if is_sealed(value) else value
        except InvalidToken:
            raise StateError(
                f"the stored secret --{key} cannot be decrypted with this machine's secrets key",
                fix=f"set {KEY_ENV} to the key it was stored with, or give it anew (the other "
                f"secrets stay): holdall artifact-store update NAME --{key}=@FILE (a store's), "
                f"or holdall service-connector update NAME --{key}=@FILE (a connector's)",
            ) from None
    return opened


def masked(values: dict[str, Any]) -> dict[str, Any]:
    return {k: MASK if is_sealed(v) else v for k, v in values.items()}


# user:password@ in a URL (an endpoint, a proxy): a secret, whichever setting holds it.
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^/@\s:]*):[^/@\s]+@", re.IGNORECASE)


def holds_url_password(value: Any) -> bool:
    """Whether a setting's value (a string, or JSON of them) has a URL with a password."""
    if isinstance(value, str):
        return bool(_URL_PASSWORD.search(value))
    if isinstance(value, dict):
        return any(holds_url_password(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_url_password(v) for v in value)
    return False


def without_url_passwords(text: str) -> str:
    """`text` with the password of every URL in it masked (user:****@), as pip shows them."""
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def url_password_refusal(setting: str, where: str) -> str:
    """Why a setting stored in the clear cannot hold a URL's password, and where it goes
    instead; never the value itself."""
    return (
        f"--{setting} holds a password in a URL (user:password@), and it would be stored and "
        f"shown in the clear; give credentials as {where}, and a proxy's in the environment "
        "of the machine that uses it (HTTPS_PROXY)"
    )


def secret_fields(model_class: type[BaseModel]) -> list[str]:
    """The fields of a settings model that are secrets (SecretStr): stored encrypted."""
    return sorted(
        name for name, field in model_class.model_fields.items() if _is_secret(field.annotation)
    )


def _is_secret(annotation: Any) -> bool:
    """SecretStr, however it is wrapped: `SecretStr | None`, `Annotated[SecretStr, ...]`."""
    from pydantic import SecretStr

    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_secret(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_secret(arg) for arg in typing.get_args(annotation))
    return False
