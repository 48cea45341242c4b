"""`holdall secrets rotate-key`: every secret re-encrypted under a new key, and nothing lost
when it is killed at any point or given the wrong key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from holdall import Client
from holdall.secrets import unseal
from tests.conftest import holdall_process
from tests.fixtures.integrations import require

require("holdall_s3")
CONNECTORS = 300


def _register_many() -> dict[str, str]:
    client = Client()
    secrets = {}
    for number in range(CONNECTORS):
        secret = f"secret-{number}-{os.urandom(8).hex()}"
        values = {"aws_access_key_id": f"AKIA{number}", "aws_secret_access_key": secret}
        client.create_service_connector(
            f"c{number}", "aws", auth_method="secret-key", configuration=values, verify=False
        )
        secrets[f"c{number}"] = secret
    return secrets


def _opened() -> dict[str, str]:
    """Every connector's secret, opened with the keys this machine holds now."""
    return {
        model.name: unseal(model.config)["aws_secret_access_key"]
        for model in Client().list_service_connectors()
    }


def _sealed(config_dir: Path) -> list[str]:
    return sorted(json.dumps(model.config) for model in Client().list_service_connectors())


def test_rotate_key_re_encrypts_every_secret(config_dir: Path) -> None:
    secrets = _register_many()
    before, key = _sealed(config_dir), (config_dir / "secrets.key").read_bytes()
    result = holdall_process("secrets", "rotate-key")
    assert result.code == 0, result.err
    assert f"Re-encrypted {CONNECTORS} secret(s) under a new key" in result.out
    after = (config_dir / "secrets.key").read_bytes()
    assert after != key and len(after.split()) == 1
    assert not set(before) & set(_sealed(config_dir))  # every token is new
    assert _opened() == secrets


def test_rotate_key_killed_anywhere_loses_nothing_and_finishes_when_run_again(
    config_dir: Path,
) -> None:
    secrets = _register_many()
    key_file = config_dir / "secrets.key"
    halfway = 0
    # Each kill lands on a state seen to be reached (a kill on elapsed time finds a loaded
    # machine anywhere, or a rotation already over): as it starts; once the new key stands in
    # front of the old; once secrets under the new key are seen in the database.
    for stage in ("started", "two keys", "re-encrypting") * 2:
        before = set(_sealed(config_dir))
        rotation = subprocess.Popen(
            [sys.executable, "-m", "holdall", "secrets", "rotate-key"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while stage != "started" and rotation.poll() is None:
            two_keys = len(key_file.read_bytes().split()) >= 2
            if two_keys and (stage == "two keys" or set(_sealed(config_dir)) - before):
                break
            assert time.monotonic() < deadline
        rotation.kill()  # a no-op if it has ended (os.kill would find no such process)
        rotation.wait()
        halfway += len(key_file.read_bytes().split()) > 1
        assert _opened() == secrets  # whatever state it was killed in
    assert halfway >= 1  # at least one kill left a rotation half done
    finished = holdall_process("secrets", "rotate-key")
    assert finished.code == 0, finished.err
    assert len((config_dir / "secrets.key").read_bytes().split()) == 1
    assert _opened() == secrets


def test_a_wrong_key_is_named_and_nothing_is_overwritten(config_dir: Path) -> None:
    from cryptography.fernet import Fernet

    _register_many()
    before = _sealed(config_dir)
    wrong = {
        "HOLDALL_SECRETS_KEY": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    }
    rotation = holdall_process("secrets", "rotate-key", env=wrong)
    assert rotation.code == 1 and "Traceback" not in rotation.err
    assert "cannot be opened with the secrets keys of this machine; nothing was re-encrypted" in (
        rotation.err
    )
    update = holdall_process(
        "service-connector", "update", "c1", "--aws_access_key_id=AKIANEW", "--no-verify", env=wrong
    )
    assert update.code == 1 and "cannot be decrypted" in update.err
    assert _sealed(config_dir) == before  # not one secret changed
    one_key = holdall_process(
        "secrets", "rotate-key", env={"HOLDALL_SECRETS_KEY": Fernet.generate_key().decode()}
    )
    assert one_key.code == 1 and "HOLDALL_SECRETS_KEY=NEW_KEY,OLD_KEY" in one_key.err
    broken = holdall_process("secrets", "rotate-key", env={"HOLDALL_SECRETS_KEY": "not-a-key"})
    assert broken.code == 1 and "Traceback" not in broken.err
    assert _sealed(config_dir) == before

    key_file = config_dir / "secrets.key"
    kept = key_file.read_bytes()
    key_file.unlink()  # lost: a new key is made, which opens none of the stored secrets
    missing = holdall_process(
        "service-connector", "update", "c2", "--region=eu-west-1", "--no-verify"
    )
    assert (
        missing.code == 1 and "cannot be decrypted with this machine's secrets key" in missing.err
    )
    assert "set HOLDALL_SECRETS_KEY to the key it was stored with" in missing.err
    assert _sealed(config_dir) == before
    key_file.write_bytes(kept)  # the key found again: everything opens
    assert (
        holdall_process(
            "service-connector", "update", "c2", "--region=eu-west-1", "--no-verify"
        ).code
        == 0
    )


def test_a_failed_rotation_keeps_the_key_file_and_a_lost_secret_can_be_given_anew(
    config_dir: Path,
) -> None:
    from cryptography.fernet import Fernet

    from holdall.metadata.tables import ServiceConnectorRow

    client = Client()
    for name in ("c1", "c2", "c3"):
        values = {"aws_access_key_id": f"AKIA{name}", "aws_secret_access_key": f"s-{name}"}
        client.create_service_connector(
            name, "aws", auth_method="secret-key", configuration=values, verify=False
        )
    with Client().database.session() as session:  # c2's secret, sealed under a lost key
        row = session.query(ServiceConnectorRow).filter_by(name="c2").one()
        config = json.loads(row.config)
        lost = Fernet(Fernet.generate_key()).encrypt(b"s-c2").decode()
        config["aws_secret_access_key"] = {"__secret__": lost}
        row.config = json.dumps(config)
    key_file = config_dir / "secrets.key"
    kept = key_file.read_bytes()
    failed = holdall_process("secrets", "rotate-key")
    assert failed.code == 1 and "Traceback" not in failed.err
    assert "the secret --aws_secret_access_key of 'c2' cannot be opened" in failed.err
    assert "holdall service-connector update c2 --aws_secret_access_key=@FILE" in failed.err
    assert key_file.read_bytes().split() == kept.split()  # as it was: no key left behind
    given = holdall_process(
        "service-connector", "update", "c2", "--aws_secret_access_key=s-c2-new", "--no-verify"
    )
    assert given.code == 0, given.err  # the way out, the other secrets kept
    assert holdall_process("secrets", "rotate-key").code == 0
    assert _opened() == {"c1": "s-c1", "c2": "s-c2-new", "c3": "s-c3"}


REGISTER_MANY = """
import sys
from holdall import Client
client = Client()
for number in range(int(sys.argv[2])):
    name = f"{sys.argv[1]}{number}"
    values = {"aws_access_key_id": "AKIA", "aws_secret_access_key": f"secret-{name}"}
    client.create_service_connector(
        name, "aws", auth_method="secret-key", configuration=values, verify=False
    )
"""


def test_registrations_beside_rotations_leave_every_secret_readable(
    config_dir: Path, database_url: str
) -> None:
    # On PostgreSQL they exclude each other through an advisory lock; on SQLite, its write lock.
    registering = [
        subprocess.Popen([sys.executable, "-c", REGISTER_MANY, prefix, "60"])
        for prefix in ("a", "b")
    ]
    rotations = [holdall_process("secrets", "rotate-key") for _ in range(4)]
    for process in registering:
        assert process.wait(timeout=300) == 0
    assert [r.code for r in rotations] == [0] * 4, [r.err for r in rotations]
    assert len((config_dir / "secrets.key").read_bytes().split()) == 1
    opened = _opened()
    assert len(opened) == 120
    assert all(secret == f"secret-{name}" for name, secret in opened.items())
