"""`holdall secrets rotate-key`: every stored secret re-encrypted under a new key.

In three steps, each safe to be killed in: (1) the key file gets the new key in front of the
old (a write-and-rename: whole or not at all); (2) every secret of every store and connector
is re-encrypted in one transaction; (3) the key file keeps the new key alone. Until (3) the
old key is still there, so whatever was not yet re-encrypted still opens; run again, it
finishes.
"""

from __future__ import annotations

import json
import os
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from holdall.errors import ConfigError, StateError
from holdall.metadata.database import Database
from holdall.metadata.tables import ComponentRow, ServiceConnectorRow
from holdall.secrets import KEY_ENV, MARKER, is_sealed, keyring, read_keys, write_keys


def rotate_key(database: Database) -> int:
    """How many secrets were re-encrypted. Registrations and updates wait for it (and it for
    them): none seals a secret under a key it is about to drop. A rotation that fails leaves
    the key file as it was."""
    from cryptography.fernet import Fernet

    from_env = bool(os.environ.get(KEY_ENV))
    new = Fernet.generate_key()
    before: list[bytes] | None = None  # the key file as it was, once it has been changed
    try:
        with database.session() as session:
            database.hold_secrets(session, exclusive=True)
            old = read_keys()  # read under the lock: what every secret is sealed with now
            if from_env:
                _check_two_keys(old)
                return reencrypt(session, keyring(old))
            write_keys([new, *old])
            before = old
            count = reencrypt(session, keyring([new, *old]))
    except BaseException:
        if before is not None:
            write_keys(before)  # nothing was re-encrypted: the key file as it was
        raise
    write_keys([new])
    return count


def _check_two_keys(keys: list[bytes]) -> None:
    if len(keys) < 2:
        raise ConfigError(
            f"the secrets key comes from {KEY_ENV}, which holds one key; put the new key in "
            "front of it, then rotate",
            fix=f"{KEY_ENV}=NEW_KEY,OLD_KEY holdall secrets rotate-key   (a new key: "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')",
        )


def reencrypt(session: Session, ring: Any) -> int:
    from cryptography.fernet import InvalidToken

    count = 0
    rows: list[ComponentRow | ServiceConnectorRow] = [
        *session.scalars(select(ComponentRow)),
        *session.scalars(select(ServiceConnectorRow)),
    ]
    for row in rows:
        config = json.loads(row.config)
        sealed = [key for key, value in config.items() if is_sealed(value)]
        for key in sealed:
            try:
                config[key] = {MARKER: ring.rotate(config[key][MARKER]).decode()}
            except InvalidToken:
                kind = "artifact-store" if isinstance(row, ComponentRow) else "service-connector"
                raise StateError(
                    f"the secret --{key} of '{row.name}' cannot be opened with the secrets "
                    "keys of this machine; nothing was re-encrypted",
                    fix=f"set {KEY_ENV} to the key it was stored with (then run this again), "
                    f"or give that secret anew: holdall {kind} update {row.name} "
                    f"--{key}=@FILE",
                ) from None
        if sealed:
            row.config = json.dumps(config, sort_keys=True)
            count += len(sealed)
    return count
