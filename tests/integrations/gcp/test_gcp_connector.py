"""The gcp service connector: google-auth's service-account exchange run for real against a
token endpoint on loopback that checks the RS256 JWT, GCS on fake-gcs-server."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from holdall import Client
from holdall.errors import HoldallError
from tests.conftest import holdall_process
from tests.fixtures.gcs import GCSServer
from tests.fixtures.google_tokens import TokenEndpoint, new_private_key
from tests.fixtures.integrations import require

require("holdall_gcp")
MiB = 1024 * 1024


def _ok(result: Any) -> str:
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    return str(result.out)


def _register(name: str, key_file: Path, gcs: GCSServer, *extra: str) -> Any:
    return holdall_process(
        "service-connector", "register", name, "--type", "gcp",
        "--auth-method=service-account", f"--service_account_json=@{key_file}",
        f"--endpoint_url={gcs.endpoint}", *extra,
    )  # fmt: skip


def test_a_service_account_end_to_end_with_tokens_renewed_mid_upload(
    gcs_server: GCSServer, tokens: TokenEndpoint, key: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(tokens.key_json(key))
    bucket = gcs_server.new_bucket()
    registered = _ok(_register("gcp_connector", key_file, gcs_server))
    assert f"gs://{bucket}" in registered and tokens.issued >= 1  # verify fetched a token
    _ok(
        holdall_process(
            "artifact-store", "register", "gcs_store", "--flavor=gcs",
            f"--path=gs://{bucket}/zenml-artifacts", "--connector", "gcp_connector",
            f"--part_size={256 * 1024}", "--max_concurrency=1",
        )
    )  # fmt: skip
    client = Client()
    client.activate_stack(client.register_stack("gcp", "gcs_store").name)
    before = tokens.issued
    payload = os.urandom(8 * MiB)
    version = client.save_artifact(payload, "big")  # one resumable upload of 32 chunks
    # Tokens live 5 s and gcsfs renews any with less than 300 s left: during the one upload,
    # google-auth went back to the endpoint again and again.
    assert tokens.issued - before > 3
    assert tokens.refused == 0
    plain: Any = gcs_server.filesystem()
    assert plain.cat_file(version.uri.removeprefix("gs://") + "/data.bin") == payload
    assert client.load_artifact("big") == payload
    audit = json.loads(
        _ok(holdall_process("service-connector", "audit", "gcp_connector", "-o", "json"))
    )
    renewed = [e for e in audit if e["purpose"] == "renewed"]
    assert len(renewed) > 3 and all(e["outcome"] == "ok" for e in renewed)
    described = json.loads(
        _ok(holdall_process("service-connector", "describe", "gcp_connector", "-o", "json"))
    )
    assert described["config"]["service_account_json"] == "[HIDDEN]"


def test_a_key_the_endpoint_does_not_know_is_refused_clearly(
    gcs_server: GCSServer, tokens: TokenEndpoint, tmp_path: Path
) -> None:
    key_file = tmp_path / "other-key.json"
    key_file.write_text(tokens.key_json(new_private_key()))  # signed by another key
    refused = _register("wrong", key_file, gcs_server)
    assert refused.code == 1 and "Traceback" not in refused.err
    assert "GCS at" in refused.err
    assert "refused the credentials of service connector 'wrong'" in refused.err
    assert (
        "holdall service-connector register wrong ... --service_account_json=@FILE" in refused.err
    )
    assert "Invalid JWT Signature" in refused.err
    assert tokens.refused >= 1 and tokens.issued == 0
    (tmp_path / "not-a-key.json").write_text('{"type": "authorized_user"}')
    wrong = _register("wrong", tmp_path / "not-a-key.json", gcs_server)
    assert wrong.code == 1
    assert "service_account_json is JSON, but not a service account key" in wrong.err


def test_an_expired_oauth2_token_is_named(gcs_server: GCSServer) -> None:
    result = holdall_process(
        "service-connector", "register", "old", "--type", "gcp", "--auth-method=oauth2-token",
        "--token=ya29.old", "--expires_at=2020-01-01T00:00:00+00:00",
        f"--endpoint_url={gcs_server.endpoint}",
    )  # fmt: skip
    assert (
        result.code == 1 and "the connector's OAuth 2.0 token expired at 2020-01-01" in result.err
    )


def test_auto_configure_takes_application_default_credentials(
    gcs_server: GCSServer, tokens: TokenEndpoint, key: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "adc.json"
    key_file.write_text(tokens.key_json(key))
    bucket = gcs_server.new_bucket()
    result = holdall_process(
        "service-connector", "register", "adc", "--type", "gcp", "--auto-configure",
        f"--endpoint_url={gcs_server.endpoint}",
        env={"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)},
    )  # fmt: skip
    assert f"gs://{bucket}" in _ok(result)
    described = json.loads(
        _ok(holdall_process("service-connector", "describe", "adc", "-o", "json"))
    )
    assert described["auth_method"] == "service-account"
    assert described["config"]["project"] == "holdall-project"
    assert described["config"]["service_account_json"] == "[HIDDEN]"
    nothing = holdall_process(
        "service-connector", "register", "none", "--type", "gcp", "--auto-configure",
        env={"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json")},
    )  # fmt: skip
    assert nothing.code == 1 and "found no application default credentials" in nothing.err


def test_implicit_and_oauth2_token_connectors_serve_a_store(
    gcs_server: GCSServer, tokens: TokenEndpoint, key: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "adc.json"
    key_file.write_text(tokens.key_json(key))
    adc = {"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}
    bucket = gcs_server.new_bucket()
    _ok(
        holdall_process(
            "service-connector", "register", "implicit", "--type", "gcp",
            "--auth-method=implicit", f"--endpoint_url={gcs_server.endpoint}", env=adc,
        )
    )  # fmt: skip
    _ok(
        holdall_process(
            "service-connector", "register", "token", "--type", "gcp",
            "--auth-method=oauth2-token", "--token=ya29.given", "--project=holdall-project",
            "--expires_at=2099-01-01T00:00:00+00:00", f"--endpoint_url={gcs_server.endpoint}",
        )
    )  # fmt: skip
    listed = json.loads(
        _ok(holdall_process("service-connector", "list-resources", "token", "-o", "json"))
    )
    resources = {row["resource_type"]: row["resources"] for row in listed}
    assert f"gs://{bucket}" in resources["gcs-bucket"]
    assert resources["gcp-generic"] == ["project holdall-project"]
    client = Client()
    for connector in ("implicit", "token"):
        env = adc if connector == "implicit" else {}
        _ok(
            holdall_process(
                "artifact-store", "register", f"{connector}_store", "--flavor=gcs",
                f"--path=gs://{bucket}/{connector}", "--connector", connector, env=env,
            )
        )  # fmt: skip
        client.activate_stack(client.register_stack(connector, f"{connector}_store").name)
        os.environ.update(env)
        try:
            version = client.save_artifact({"via": connector}, "model")
        finally:
            for name in env:
                os.environ.pop(name)
        plain: Any = gcs_server.filesystem()
        body = plain.cat_file(version.uri.removeprefix("gs://") + "/value.json")
        assert json.loads(body) == {"via": connector}
    assert tokens.issued >= 1  # the implicit one went through ADC, to the token endpoint


def test_impersonation_goes_through_the_iam_credentials_exchange(
    gcs_server: GCSServer, tokens: TokenEndpoint, key: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "source.json"
    key_file.write_text(tokens.key_json(key))
    bucket = gcs_server.new_bucket()
    target = "writer@holdall-project.iam.gserviceaccount.com"
    iam = tokens.url.removesuffix("/token")
    registered = holdall_process(
        "service-connector", "register", "as_writer", "--type", "gcp",
        "--auth-method=impersonation", f"--service_account_json=@{key_file}",
        f"--target_principal={target}", f"--iam_endpoint_url={iam}",
        f"--endpoint_url={gcs_server.endpoint}", "--resource-id", f"gs://{bucket}",
    )  # fmt: skip
    assert f"gs://{bucket}" in _ok(registered)
    assert tokens.issued >= 1 and tokens.impersonated == [target]  # source token, then target
    _ok(
        holdall_process(
            "artifact-store", "register", "s", "--flavor=gcs", f"--path=gs://{bucket}/x",
            "--connector", "as_writer",
        )
    )  # fmt: skip
    client = Client()
    client.activate_stack(client.register_stack("s", "s").name)
    assert client.load_artifact(client.save_artifact([1, 2], "l").name) == [1, 2]
    assert len(tokens.impersonated) >= 2


def test_an_unreachable_token_endpoint_is_named_as_such_not_as_refused(
    gcs_server: GCSServer, tokens: TokenEndpoint, key: Any, tmp_path: Path
) -> None:
    from tests.fixtures.network import free_port

    info = json.loads(tokens.key_json(key))
    info["token_uri"] = f"http://127.0.0.1:{free_port()}/token"  # nothing listens there
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(info))
    result = _register("unreachable", key_file, gcs_server, "--retries=0")
    assert result.code == 1 and "Traceback" not in result.err
    assert (
        "cannot reach the endpoint that issues tokens for service connector 'unreachable'"
        in result.err
    )
    assert "refused the" not in result.err
    _ok(_register("later", key_file, gcs_server, "--no-verify"))
    bucket = gcs_server.new_bucket()
    stored = holdall_process(
        "artifact-store", "register", "s", "--flavor=gcs", f"--path=gs://{bucket}/x",
        "--connector", "later", "--retries=0",
    )  # fmt: skip
    assert "refused the credentials" not in stored.err, stored.err
    client = Client()
    client.activate_stack(client.register_stack("st", "s").name)
    with pytest.raises(HoldallError) as caught:
        client.save_artifact(b"x", "never")
    message = str(caught.value)
    assert "cannot reach the endpoint that issues tokens for artifact store 's'" in message
    assert "refused the credentials" not in message
