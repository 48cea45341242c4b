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

from holdall.errors import ConfigError, StateError
from holdall.metadata.database import Database
from holdall.metadata.models import ComponentRow, ServiceConnectorRow
from holdall.secrets import KEY_ENV, MARKER, is_sealed, keyring, read_keys, write_keys


def rotate_key(database: Database) -> int:
    """How many secrets were re-encrypted."""
    from cryptography.fernet import Fernet

    if os.environ.get(KEY_ENV):
        keys = read_keys()
        if len(keys) < 2:
            raise ConfigError(
                f"the secrets key comes from {KEY_ENV}, which holds one key; put the new key "
                "in front of it, then rotate",
                fix=f"{KEY_ENV}=NEW_KEY,OLD_KEY holdall secrets rotate-key   (a new key: "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')",
            )
        return reencrypt(database, keyring(keys))
    old = read_keys()
    new = Fernet.generate_key()
    write_keys([new, *old])
    count = reencrypt(database, keyring([new, *old]))
    write_keys([new])
    return count


def reencrypt(database: Database, ring: Any) -> int:
    from cryptography.fernet import InvalidToken

    count = 0
    with database.session() as session:
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
                    raise StateError(
                        f"the secret --{key} of '{row.name}' cannot be opened with the secrets "
                        "keys of this machine; nothing was re-encrypted",
                        fix=f"set {KEY_ENV} to the key it was stored with (then run this again)",
                    ) from None
            if sealed:
                row.config = json.dumps(config, sort_keys=True)
                count += len(sealed)
    return count
