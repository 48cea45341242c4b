"""The aws service connector against moto's S3 and STS, no mocks: every auth method end to
end, renewal in the middle of one upload, two stores through two connectors, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from holdall import Client
from holdall.errors import StateError
from tests.conftest import holdall_process
from tests.fixtures.integrations import require
from tests.fixtures.moto import CREDENTIALS, EVERYTHING, S3Server, iam_user, revoke, running_moto
from tests.fixtures.proxy import proxy_to
from tests.fixtures.waiting import bounded, wait_until
from tests.integrations.s3.test_s3_store import s3_pipeline

require("holdall_s3")
MiB = 1024 * 1024
ROLE_ARN = "arn:aws:iam::123456789012:role/holdall-writer"
KEYS = [
    f"--aws_access_key_id={CREDENTIALS['aws_access_key_id']}",
    f"--aws_secret_access_key={CREDENTIALS['aws_secret_access_key']}",
]


def _sts_token(server: S3Server) -> dict[str, str]:
    import boto3

    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1", **CREDENTIALS)
    issued = sts.get_session_token(DurationSeconds=900)["Credentials"]
    return {
        "aws_access_key_id": issued["AccessKeyId"],
        "aws_secret_access_key": issued["SecretAccessKey"],
        "aws_session_token": issued["SessionToken"],
        "expires_at": issued["Expiration"].isoformat(),
    }


def _method_args(method: str, server: S3Server) -> list[str]:
    endpoint = [f"--endpoint_url={server.endpoint}", "--region=us-east-1"]
    if method == "implicit":
        return endpoint
    if method == "sts-token":
        return endpoint + [f"--{k}={v}" for k, v in _sts_token(server).items()]
    if method == "iam-role":
        return [*endpoint, *KEYS, f"--role_arn={ROLE_ARN}", "--expiration-seconds=900"]
    return endpoint + KEYS


def _ok(result: Any) -> str:
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    return str(result.out)


@pytest.mark.parametrize(
    "method", ["implicit", "secret-key", "sts-token", "iam-role", "session-token"]
)
def test_every_auth_method_end_to_end(
    method: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    if method == "implicit":  # boto3's own chain, here the environment
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    bucket = s3_server.new_bucket()
    args = _method_args(method, s3_server)
    registered = _ok(
        holdall_process(
            "service-connector",
            "register",
            "aws_connector",
            "--type",
            "aws",
            f"--auth-method={method}",
            *args,
        )
    )
    assert "It reaches: " in registered and f"s3://{bucket}" in registered
    verified = _ok(
        holdall_process(
            "service-connector",
            "verify",
            "aws_connector",
            "--resource-type",
            "s3-bucket",
            "--resource-id",
            f"s3://{bucket}",
        )
    )
    assert f"s3://{bucket}" in verified
    _ok(
        holdall_process(
            "artifact-store",
            "register",
            "s3_store",
            "--flavor=s3",
            f"--path=s3://{bucket}/zenml-artifacts",
            "--connector",
            "aws_connector",
        )
    )
    _ok(holdall_process("stack", "register", "aws", "-a", "s3_store"))
    _ok(holdall_process("stack", "set", "aws"))

    run = s3_pipeline()
    output = run.steps["make_numbers"].outputs["numbers"]
    key = output.uri.removeprefix(f"s3://{bucket}/") + "/value.json"
    body = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert json.loads(body) == {"values": [1, 2, 3]}  # plain boto3 reads what the store wrote
    assert Client().load_artifact("total") == 6

    audit = json.loads(
        _ok(holdall_process("service-connector", "audit", "aws_connector", "-o", "json"))
    )
    issued = [entry for entry in audit if entry["purpose"] == "issued"]
    assert issued and all(entry["outcome"] == "ok" for entry in issued)
    assert {entry["resource"] for entry in issued} == {bucket}
    assert all(entry["user"] and entry["host"] and entry["process"] for entry in issued)
    if method == "iam-role":  # AssumeRole, for the 900 s asked
        assert "expires 20" in issued[0]["detail"]


RENEWED_UPLOAD = """
    import os
    from holdall import save_artifact
    version = save_artifact(os.urandom(64 * 1024 * 1024), "big")
    print(version.uri)
"""


def test_credentials_are_renewed_in_the_middle_of_one_upload(
    s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    _ok(
        holdall_process(
            "service-connector",
            "register",
            "role",
            "--type",
            "aws",
            "--auth-method=iam-role",
            *_method_args("iam-role", s3_server),
        )
    )
    _ok(
        holdall_process(
            "artifact-store",
            "register",
            "s3_store",
            "--flavor=s3",
            f"--path=s3://{bucket}/a",
            "--connector",
            "role",
            f"--part_size={5 * MiB}",
            "--max_concurrency=1",
        )
    )
    _ok(holdall_process("stack", "register", "aws", "-a", "s3_store"))
    _ok(holdall_process("stack", "set", "aws"))
    script = tmp_path / "upload.py"
    script.write_text(textwrap.dedent(RENEWED_UPLOAD))
    # STS issues 900 s; renewing 899.9 s before expiry renews them a tenth of a second after
    # they are issued: the 13 parts of one upload go up under many renewals.
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "HOLDALL_CREDENTIAL_RENEWAL_MARGIN": "899.9"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().removeprefix(f"s3://{bucket}/") + "/data.bin"
    head = s3_server.client().head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == 64 * MiB
    assert head["ETag"].strip('"').endswith("-13")  # one multipart upload of 13 parts
    audit = json.loads(_ok(holdall_process("service-connector", "audit", "role", "-o", "json")))
    uploader = [e for e in audit if e["purpose"] == "issued"][-1]["process"]
    renewals = [e for e in audit if e["purpose"] == "renewed" and e["process"] == uploader]
    assert len(renewals) >= 2, audit
    assert all(e["outcome"] == "ok" for e in renewals)


def test_two_stores_on_one_bucket_through_two_connectors(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    for connector, method in (("team_a", "secret-key"), ("team_b", "session-token")):
        _ok(
            holdall_process(
                "service-connector",
                "register",
                connector,
                "--type",
                "aws",
                f"--auth-method={method}",
                *_method_args(method, s3_server),
            )
        )
        _ok(
            holdall_process(
                "artifact-store",
                "register",
                f"{connector}_store",
                "--flavor=s3",
                f"--path=s3://{bucket}/{connector}",
                "--connector",
                connector,
            )
        )
    client = Client()
    for connector in ("team_a", "team_b"):
        client.register_stack(connector, f"{connector}_store")
        client.activate_stack(connector)
        client.save_artifact({"team": connector}, "model")
    client.activate_stack("team_a")
    assert client.get_artifact_version("model", version=1).load() == {"team": "team_a"}
    assert client.get_artifact_version("model", version=2).load() == {"team": "team_b"}
    keys = sorted(o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"])
    assert "team_a/_saved/model/1/value.json" in keys and "team_b/_saved/model/2/value.json" in keys
    for connector in ("team_a", "team_b"):
        audit = json.loads(
            _ok(holdall_process("service-connector", "audit", connector, "-o", "json"))
        )
        assert any(e["purpose"] == "issued" for e in audit)


@pytest.mark.slow
def test_the_secrets_are_found_nowhere(s3_server: S3Server, config_dir: Path) -> None:
    secret = f"holdall-secret-{uuid.uuid4().hex}"
    bucket = s3_server.new_bucket()
    common = [f"--endpoint_url={s3_server.endpoint}", "--aws_access_key_id=AKIATEST"]
    outputs = []
    for env in ({}, {"HOLDALL_DEBUG": "1"}):
        for command in (
            (
                "service-connector",
                "register",
                "c",
                "--type",
                "aws",
                "--auth-method=secret-key",
                *common,
                f"--aws_secret_access_key={secret}",
            ),
            (
                "service-connector",
                "register",
                "bad",
                "--type",
                "aws",
                "--auth-method=secret-key",
                *common,
                f"--aws_secret_access_key={secret}",
                "--role_arn=x",
            ),
            (
                "service-connector",
                "register",
                "bad",
                "--type",
                "aws",
                "--auth-method=iam-role",
                *common,
                f"--aws_secret_access_key={secret}",
                "--role_arn=not-an-arn",
            ),
            ("service-connector", "describe", "c"),
            ("service-connector", "describe", "c", "-o", "json"),
            ("service-connector", "list", "-o", "json"),
            ("service-connector", "verify", "c"),
            ("service-connector", "list-resources", "c"),
            (
                "artifact-store",
                "register",
                "s",
                "--flavor=s3",
                f"--path=s3://{bucket}/x",
                "--connector",
                "c",
                f"--aws_secret_access_key={secret}",
                "--aws_access_key_id=A",
            ),
            (
                "artifact-store",
                "register",
                "s",
                "--flavor=s3",
                f"--path=s3://{bucket}/x",
                "--connector",
                "c",
            ),
            ("artifact-store", "describe", "s", "-o", "json"),
            ("service-connector", "audit", "c", "-o", "json"),
            ("service-connector", "update", "c", f"--aws_secret_access_key={secret}2"),
        ):
            result = holdall_process(*command, env=env)
            outputs.append(result.out + result.err)
    assert any("[HIDDEN]" in out for out in outputs)
    Client().activate_stack(Client().register_stack("s", "s").name)
    Client().save_artifact({"x": 1}, "m")
    for output in outputs:
        assert secret not in output
    Client.close_shared()
    for path in config_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_bad_input(s3_server: S3Server, s3_server_checking_credentials: S3Server) -> None:
    def error(*args: str) -> str:
        result = holdall_process(*args)
        assert result.code != 0 and "Traceback" not in result.err, result
        return str(result.err)

    register = ["service-connector", "register", "c", "--type"]
    assert "unknown connector type 'gcs'; known connector types: aws" in error(*register, "gcs")
    assert "has no auth method 'magic'; valid: implicit, secret-key, sts-token, iam-role" in error(
        *register, "aws", "--auth-method=magic"
    )
    assert (
        "auth method 'secret-key' of connector type 'aws' needs --aws_secret_access_key"
        in error(*register, "aws", "--auth-method=secret-key", "--aws_access_key_id=A")
    )
    assert "unknown config key 'role_arn' for auth method 'secret-key'" in error(
        *register, "aws", "--auth-method=secret-key", *KEYS, f"--role_arn={ROLE_ARN}"
    )
    assert "is not an IAM role ARN" in error(
        *register, "aws", "--auth-method=iam-role", *KEYS, "--role_arn=arn:aws:iam::1:user/x"
    )
    assert "--expiration-seconds for iam-role must be between 900 and 43200" in error(
        *register,
        "aws",
        "--auth-method=iam-role",
        *KEYS,
        f"--role_arn={ROLE_ARN}",
        "--expiration-seconds=60",
        "--no-verify",
    )
    # Wrong keys, against a server that checks them: AWS's reason, no traceback.
    refused = error(
        *register,
        "aws",
        "--auth-method=secret-key",
        f"--endpoint_url={s3_server_checking_credentials.endpoint}",
        "--aws_access_key_id=AKIAWRONG",
        "--aws_secret_access_key=wrong",
    )
    assert "refused the credentials of service connector 'c'" in refused
    assert "InvalidAccessKeyId" in refused
    assert (
        "holdall service-connector register c ... --aws_access_key_id=... "
        "--aws_secret_access_key=@FILE" in refused
    )
    assert holdall_process("service-connector", "describe", "c").code == 1  # nothing kept

    bucket = s3_server.new_bucket()
    _ok(
        holdall_process(
            *register, "aws", "--auth-method=secret-key", *_method_args("secret-key", s3_server)
        )
    )
    path = f"--path=s3://{bucket}/x"
    both = error("artifact-store", "register", "s", "--flavor=s3", path, "--connector", "c", *KEYS)
    assert "gets its credentials from service connector 'c', so it takes none of its own" in both
    assert "no service connector called 'nope'" in error(
        "artifact-store", "register", "s", "--flavor=s3", path, "--connector", "nope"
    )
    assert "flavor 'local' takes no service connector" in error(
        "artifact-store", "register", "l", "--flavor=local", "--connector", "c"
    )
    _ok(holdall_process("artifact-store", "register", "s", "--flavor=s3", path, "--connector", "c"))
    in_use = error("service-connector", "delete", "c")
    assert "service connector 'c' is used by artifact store(s): s" in in_use
    assert "a service connector called 'c' already exists" in error(
        *register, "aws", "--auth-method=implicit", "--no-verify"
    )


def test_auto_configure_takes_this_environments_credentials(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    bucket = s3_server.new_bucket()
    from_variables = {
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": s3_server.endpoint,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    registered = holdall_process(
        "service-connector",
        "register",
        "from_env",
        "--type",
        "aws",
        "--auto-configure",
        env=from_variables,
    )
    assert f"s3://{bucket}" in _ok(registered)
    described = json.loads(
        _ok(holdall_process("service-connector", "describe", "from_env", "-o", "json"))
    )
    assert described["auth_method"] == "secret-key"
    assert described["config"]["region"] == "eu-west-1"
    assert described["config"]["endpoint_url"] == s3_server.endpoint
    assert described["config"]["aws_secret_access_key"] == "[HIDDEN]"

    token = _sts_token(s3_server)
    (tmp_path / "credentials").write_text(
        "[default]\n"
        f"aws_access_key_id = {token['aws_access_key_id']}\n"
        f"aws_secret_access_key = {token['aws_secret_access_key']}\n"
        f"aws_session_token = {token['aws_session_token']}\n"
    )
    (tmp_path / "config").write_text("[default]\nregion = us-west-2\n")
    from_profile = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
    }
    _ok(
        holdall_process(
            "service-connector",
            "register",
            "from_profile",
            "--type",
            "aws",
            "--auto-configure",
            f"--endpoint_url={s3_server.endpoint}",
            env=from_profile,
        )
    )
    described = json.loads(
        _ok(holdall_process("service-connector", "describe", "from_profile", "-o", "json"))
    )
    assert described["auth_method"] == "sts-token" and described["config"]["region"] == "us-west-2"

    nothing = holdall_process(
        "service-connector",
        "register",
        "none",
        "--type",
        "aws",
        "--auto-configure",
        env={
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
        },
    )
    assert nothing.code == 1 and "found no AWS credentials in this environment" in nothing.err


def test_an_expired_sts_token_is_named_at_use_and_audited(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    token = {**_sts_token(s3_server), "expires_at": "2020-01-01T00:00:00+00:00"}
    _ok(
        holdall_process(
            "service-connector",
            "register",
            "old",
            "--type",
            "aws",
            "--auth-method=sts-token",
            f"--endpoint_url={s3_server.endpoint}",
            *(f"--{k}={v}" for k, v in token.items()),
            "--no-verify",
        )
    )
    registered = holdall_process(
        "artifact-store",
        "register",
        "s",
        "--flavor=s3",
        f"--path=s3://{bucket}/x",
        "--connector",
        "old",
    )
    assert "warning: could not see who owns" in _ok(registered) + registered.err
    client = Client()
    client.activate_stack(client.register_stack("s", "s").name)
    with pytest.raises(
        Exception, match="the connector's STS token expired at 2020-01-01"
    ) as caught:
        client.save_artifact({"x": 1}, "m")
    assert "holdall service-connector update old --aws_session_token=@FILE" in str(caught.value)
    audit = json.loads(_ok(holdall_process("service-connector", "audit", "old", "-o", "json")))
    assert audit and all(e["outcome"] == "failed" for e in audit)
    assert "expired" in audit[-1]["detail"]


def test_a_revoked_key_is_named_as_the_connectors_at_use() -> None:
    """Credentials that worked at registration and were revoked since: the refusal names the
    connector and the command that mends it (not the store's own settings), and no secret."""
    from holdall.artifact_stores.failures import StoreUnavailableError

    # The first four requests (bucket and user) go unchecked; every later one is checked.
    with running_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "4"}) as server:
        bucket = server.new_bucket()
        keys = iam_user(server, "revoked", EVERYTHING)
        client = Client()
        client.create_service_connector(
            "aws_connector",
            "aws",
            auth_method="secret-key",
            configuration={**keys, "endpoint_url": server.endpoint, "region": "us-east-1"},
        )
        client.register_artifact_store(
            "s", "s3", path=f"s3://{bucket}/x", connector="aws_connector"
        )
        client.activate_stack(client.register_stack("s", "s").name)
        client.save_artifact({"x": 1}, "before")
        revoke(server, "revoked", keys)
        with pytest.raises(StoreUnavailableError) as caught:
            client.save_artifact({"x": 2}, "after")
    text = str(caught.value)
    assert "S3" in text and "refused the credentials of artifact store 's'" in text
    assert "from service connector 'aws_connector'" in text
    assert "fix: holdall service-connector update aws_connector" in text
    assert "holdall artifact-store update" not in text
    assert keys["aws_secret_access_key"] not in text


def test_a_store_unlinked_from_its_connector_frees_the_connector(cli, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    assert cli(
        "service-connector", "register", "linked", "--type", "aws", "--auth-method=secret-key",
        *_method_args("secret-key", s3_server),
    ).code == 0  # fmt: skip
    assert cli(
        "artifact-store", "register", "s", "--flavor=s3", f"--path=s3://{bucket}/x",
        f"--endpoint_url={s3_server.endpoint}", "--connector", "linked",
    ).code == 0  # fmt: skip
    assert cli("service-connector", "delete", "linked").code == 1  # a store uses it
    unlinked = cli(
        "artifact-store", "update", "s", "--connector", "",
        f"--aws_access_key_id={CREDENTIALS['aws_access_key_id']}",
        f"--aws_secret_access_key={CREDENTIALS['aws_secret_access_key']}",
    )  # fmt: skip
    assert unlinked.code == 0, unlinked.err
    assert "uses no service connector now" in unlinked.out
    described = json.loads(cli("artifact-store", "describe", "s", "-o", "json").out)
    assert described["connector"] is None
    assert cli("service-connector", "delete", "linked").code == 0
    client = Client()
    client.activate_stack(client.register_stack("st", "s").name)
    client.save_artifact(b"own keys", "after")  # the store's own credentials now
    assert client.load_artifact("after") == b"own keys"


def test_connectors_through_the_client_by_zenml_s_names(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    client = Client()
    settings = {**CREDENTIALS, "endpoint_url": s3_server.endpoint, "region": "us-east-1"}
    created, resources = client.create_service_connector(
        "aws_connector", "aws", "s3-bucket", "secret-key", settings, resource_id=bucket,
    )  # fmt: skip
    assert created.name == "aws_connector" and created.type == "aws"
    assert resources == [f"s3://{bucket}"]
    assert client.get_service_connector("aws_connector").id == created.id
    assert [c.name for c in client.list_service_connectors()] == ["aws_connector"]
    assert client.verify_service_connector("aws_connector") == [f"s3://{bucket}"]
    other = s3_server.new_bucket()
    updated, resources = client.update_service_connector("aws_connector", resource_id=other)
    assert resources == [f"s3://{other}"]
    assert client.verify_service_connector(updated.name) == [f"s3://{other}"]
    resources_by_type = client.get_service_connector_resources("aws_connector")
    assert resources_by_type["s3-bucket"] == [f"s3://{other}"]
    assert resources_by_type["aws-generic"] == [
        "arn:aws:sts::123456789012:user/moto (account 123456789012)"
    ]
    client.register_artifact_store(
        "linked", "s3", path=f"s3://{other}/a", connector="aws_connector"
    )
    assert client.stores_using_connector("aws_connector") == ["linked"]
    audit = client.get_service_connector_audit("aws_connector")
    assert [(e.purpose, e.outcome) for e in audit][:2] == [("verified", "ok"), ("verified", "ok")]
    client.delete_artifact_store("linked")
    client.delete_service_connector("aws_connector")
    assert client.list_service_connectors() == []


def test_an_update_checks_the_cloud_outside_any_write_and_keeps_a_change_made_meanwhile(
    s3_server: S3Server,
) -> None:
    """An update whose check waits on a stalled endpoint holds no lock: another command
    writes meanwhile, and the slow update, once checked, refuses to overwrite that change."""
    bucket = s3_server.new_bucket()
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    client = Client()
    waits = {"connect_timeout": "1", "read_timeout": "2", "retries": "1"}
    with proxy_to(port) as proxy:
        settings = {**CREDENTIALS, "endpoint_url": proxy.endpoint, "region": "us-east-1"}
        client.create_service_connector(
            "slow", "aws", "s3-bucket", "secret-key", settings | waits, resource_id=bucket
        )
        proxy.stall = True
        outcome: list[BaseException | None] = []

        def slow_update() -> None:
            try:
                client.update_service_connector("slow", configuration={"retries": "1"})
                outcome.append(None)
            except BaseException as exc:  # handed to the test
                outcome.append(exc)

        thread = threading.Thread(target=slow_update, daemon=True)
        thread.start()
        wait_until(lambda: proxy.unanswered_requests >= 1, "the update to reach the cloud")
        # Inside the slow update's check: another write goes through at once.
        _, error = bounded(
            lambda: Client().update_service_connector(
                "slow", configuration={"read_timeout": "3"}, verify=False
            )
        )
        assert error is None, error
        assert not outcome, "the write waited for the slow check to end"
        proxy.stall = False  # the slow check's second try is answered
        thread.join(120)
    assert not thread.is_alive()
    assert isinstance(outcome[0], StateError), repr(outcome[0])
    assert "changed while this update checked it; nothing was written" in str(outcome[0])
    assert client.get_service_connector("slow").config["read_timeout"] == 3.0
