"""Which credentials a gcs store signs in with: the ones it is given, else this environment's
application default ones; anonymous access only when asked for (--token=anon), never as a
fallback when the credentials found are missing or refused (as gcsfs alone would)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from holdall import Client
from holdall.artifact_stores.failures import StoreUnavailableError
from holdall.errors import NotFoundError
from tests.core.test_cli_artifact_store import error_of
from tests.fixtures.gcs import GCSServer
from tests.fixtures.google_tokens import TokenEndpoint, new_private_key
from tests.fixtures.integrations import require

require("holdall_gcp")


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No application default credentials but what a test puts in the key file it names:
    no gcloud configuration, no metadata server to ask."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return tmp_path / "adc.json"


def _register(cli: Any, gcs: GCSServer, bucket: str, *extra: str) -> Any:
    return cli(
        "artifact-store", "register", "g", "--flavor=gcs", f"--path=gs://{bucket}/x",
        f"--endpoint_url={gcs.endpoint}", *extra,
    )  # fmt: skip


def _save_fails(cli: Any, gcs: GCSServer, *extra: str) -> str:
    """Register a store (which warns: a store it cannot check now is registered all the
    same), then save to it: the save's error, its fix included."""
    registered = _register(cli, gcs, gcs.new_bucket(), *extra)
    assert registered.code == 0 and "warning: could not see who owns" in registered.err
    client = Client()
    client.register_stack("s", "g")
    client.activate_stack("s")
    with pytest.raises(StoreUnavailableError) as caught:
        client.save_artifact(1, "never")
    with pytest.raises(NotFoundError):
        client.list_artifact_versions("never")
    return f"{caught.value.message}\n{caught.value.fix}"


def test_no_credentials_at_all_is_named_with_the_ways_in(
    cli: Any, gcs_server: GCSServer, environment: Path
) -> None:
    error = _save_fails(cli, gcs_server)
    assert "found no credentials for artifact store 'g'" in error
    assert "--token=@key.json" in error and "--token=anon" in error


def test_an_unreadable_key_file_is_named_not_passed_over(
    cli: Any, gcs_server: GCSServer, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment.write_text("a bad key")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(environment))
    error = _save_fails(cli, gcs_server)
    assert "found no credentials for artifact store 'g'" in error and str(environment) in error


def test_refused_application_default_credentials_fail_the_store(
    cli: Any,
    gcs_server: GCSServer,
    tokens: TokenEndpoint,
    environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment.write_text(tokens.key_json(new_private_key()))  # a key the endpoint never saw
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(environment))
    error = _save_fails(cli, gcs_server)
    assert "refused the credentials of artifact store 'g'" in error
    assert tokens.refused >= 1 and tokens.issued == 0


def test_application_default_credentials_sign_the_store_in(
    cli: Any,
    gcs_server: GCSServer,
    tokens: TokenEndpoint,
    key: Any,
    environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The key's project is not the one gcsfs would be given by default: no mismatch now.
    environment.write_text(tokens.key_json(key))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(environment))
    registered = _register(cli, gcs_server, gcs_server.new_bucket())
    assert registered.code == 0, registered.err
    Client().register_stack("s", "g")
    Client().activate_stack("s")
    Client().save_artifact({"a": 1}, "signed")
    assert Client().load_artifact("signed") == {"a": 1}
    assert tokens.issued >= 1


def test_anonymous_only_when_asked_and_never_beside_a_key(
    cli: Any,
    gcs_server: GCSServer,
    tokens: TokenEndpoint,
    key: Any,
    environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A key this environment offers is not used by a store that asked for no credentials.
    environment.write_text(tokens.key_json(key))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(environment))
    registered = _register(cli, gcs_server, gcs_server.new_bucket(), "--token=anon")
    assert registered.code == 0, registered.err
    described = json.loads(cli("artifact-store", "describe", "g", "-o", "json").out)
    assert described["config"]["anonymous"] is True and described["config"]["token"] is None
    Client().register_stack("s", "g")
    Client().activate_stack("s")
    Client().save_artifact(b"open", "public")
    assert Client().load_artifact("public") == b"open"
    assert tokens.issued == 0 and tokens.refused == 0
    key_file = environment.parent / "key.json"
    key_file.write_text(tokens.key_json(key))
    both = error_of(cli("artifact-store", "update", "g", f"--token=@{key_file}"))
    assert "anonymous or has a service account's key, not both" in both
    assert "--anonymous=false" in both
    switched = cli("artifact-store", "update", "g", "--anonymous=false", f"--token=@{key_file}")
    assert switched.code == 0, switched.err
    # From the bucket itself (a second load would come from this machine's cache).
    assert Client().load_artifact("public", cache=False) == b"open"
    assert tokens.issued >= 1


def _store_row(name: str, flavor: str, config: dict[str, Any]) -> dict[str, Any]:
    now = datetime(2026, 1, 1)
    return {
        "id": str(uuid.uuid4()),
        "type": "artifact_store",
        "name": name,
        "flavor": flavor,
        "config": json.dumps(config),
        "created": now,
        "updated": now,
    }


def test_stores_an_earlier_release_made_anonymous_stay_so(
    cli: Any, database_url: str, config_dir: Path
) -> None:
    from alembic import command
    from alembic.config import Config

    from holdall.metadata.schema import SCRIPTS

    config_dir.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(database_url)
    emulator = {"path": "gs://a-bucket/x", "endpoint_url": "http://127.0.0.1:4443"}
    rows = [
        _store_row("emulator", "gcs", emulator),
        _store_row("keyed", "gcs", {**emulator, "token": "sealed:abc"}),
        _store_row("google", "gcs", {"path": "gs://a-bucket/y"}),
        _store_row("moto", "s3", {"path": "s3://a-bucket/z", "endpoint_url": "http://x"}),
    ]
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", SCRIPTS)
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        table = sa.table("stack_components", *(sa.column(key) for key in rows[0]))
        connection.execute(sa.insert(table), rows)
    upgraded = cli("db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    with engine.connect() as connection:
        query = sa.text("SELECT name, config FROM stack_components")
        found: dict[str, str] = {name: text for name, text in connection.execute(query)}
    engine.dispose()
    assert json.loads(found["emulator"]) == {**emulator, "anonymous": True}
    assert json.loads(found["keyed"]) == {**emulator, "token": "sealed:abc"}
    assert json.loads(found["google"]) == {"path": "gs://a-bucket/y"}
    assert json.loads(found["moto"]) == {"path": "s3://a-bucket/z", "endpoint_url": "http://x"}
