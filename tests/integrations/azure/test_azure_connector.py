"""The azure service connector and the token paths, for real: Azurite over HTTPS with OAuth
on (a certificate the tests make), and a Microsoft Entra ID authority on loopback that
azure-identity's ClientSecretCredential signs in against. Each command runs in a process of
its own, which trusts the test certificate (SSL_CERT_FILE, REQUESTS_CA_BUNDLE)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, holdall_process
from tests.fixtures.azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from tests.fixtures.entra import CLIENT_ID, CLIENT_SECRET, TENANT, Authority, entra_authority
from tests.fixtures.integrations import require
from tests.fixtures.proxy import proxy_to

require("holdall_azure")
MiB = 1024 * 1024


@pytest.fixture
def authority(azurite_https: Azurite) -> Iterator[Authority]:
    assert azurite_https.certificate is not None
    with entra_authority(azurite_https.certificate, lifetime=3600) as running:
        yield running


def _run(azurite: Azurite, *args: str, env: dict[str, str] | None = None) -> Result:
    assert azurite.certificate is not None
    return holdall_process(*args, env={**azurite.certificate.trust, **(env or {})})


def _ok(result: Result) -> str:
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    return result.out


def _failed(result: Result) -> str:
    assert result.code == 1, result.out
    assert "Traceback" not in result.err
    return result.err


def _where(azurite: Azurite) -> list[str]:
    return [f"--account_name={ACCOUNT}", f"--account_host={azurite.host}"]


def _principal(azurite: Azurite, authority: Authority, secret: str = CLIENT_SECRET) -> list[str]:
    return [
        "--auth-method=service-principal", f"--tenant_id={TENANT}", f"--client_id={CLIENT_ID}",
        f"--client_secret={secret}", f"--authority={authority.url}", *_where(azurite),
    ]  # fmt: skip


def _save_and_load(
    azurite: Azurite, stack: str, size: int, env: dict[str, str] | None = None
) -> Any:
    """Save an artifact of `size` random bytes on `stack` and load it back, in a process of
    its own (which trusts the test certificate); what it saw."""
    script = textwrap.dedent(
        f"""
        import json, os, time
        from holdall import Client
        client = Client()
        client.activate_stack({stack!r})
        payload = os.urandom({size})
        started = time.monotonic()
        version = client.save_artifact(payload, "big")
        seconds = time.monotonic() - started
        same = client.load_artifact("big") == payload
        print(json.dumps({{"uri": version.uri, "seconds": seconds, "same": same}}))
        """
    )
    assert azurite.certificate is not None
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, **azurite.certificate.trust, **(env or {})},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_azurite_refuses_an_expired_token(azurite_https: Azurite) -> None:
    """What makes the renewal test below a real check."""
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import ClientAuthenticationError
    from azure.storage.blob import BlobServiceClient

    assert azurite_https.certificate is not None
    expired = Authority(lifetime=-60).token()

    class Stale:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken(expired, 4102444800)  # the client believes it good until 2100

    service = BlobServiceClient(
        azurite_https.url,
        credential=Stale(),
        connection_verify=str(azurite_https.certificate.cert_file),
    )
    with pytest.raises(ClientAuthenticationError, match="The token is expired"):
        list(service.list_containers())


def test_a_service_principal_end_to_end_with_a_token_renewed_mid_upload(
    azurite_https: Azurite, tmp_path: Path
) -> None:
    container = azurite_https.new_container()
    assert azurite_https.certificate is not None
    with entra_authority(azurite_https.certificate, lifetime=2) as authority:
        registered = _ok(
            _run(
                azurite_https, "service-connector", "register", "azure_connector", "--type",
                "azure", *_principal(azurite_https, authority),
            )
        )  # fmt: skip
        assert f"az://{container}" in registered and authority.issued >= 1
        # The store reaches Azurite through an uplink of 4 MiB/s: its upload lasts 6 s.
        with proxy_to(azurite_https.port, uplink=4 * MiB) as slow:
            _ok(
                _run(
                    azurite_https, "artifact-store", "register", "azure_store",
                    "--flavor=azure", f"--path=az://{container}/zenml-artifacts",
                    "--connector", "azure_connector", f"--part_size={MiB}",
                    "--max_concurrency=1",
                    f"--account_host={azurite_https.through(slow.port)}",
                )
            )  # fmt: skip
            _ok(_run(azurite_https, "stack", "register", "azure", "-a", "azure_store"))
            before = authority.issued
            seen = _save_and_load(azurite_https, "azure", 24 * MiB)  # one upload, 24 blocks
        assert seen["same"]
        # Tokens live 2 s and Azurite refuses expired ones: the upload outlived several
        # tokens, and went on with new ones.
        assert seen["seconds"] > 5, seen
        assert authority.issued - before >= 2, (authority.issued, before, seen)
        assert authority.refused == 0
    blob = seen["uri"].removeprefix(f"az://{container}/") + "/data.bin"
    assert len(azurite_https.read(container, blob)) == 24 * MiB
    audit = json.loads(
        _ok(_run(azurite_https, "service-connector", "audit", "azure_connector", "-o", "json"))
    )
    renewed = [e for e in audit if e["purpose"] == "renewed"]
    assert len(renewed) >= 2 and all(e["outcome"] == "ok" for e in renewed)
    described = json.loads(
        _ok(_run(azurite_https, "service-connector", "describe", "azure_connector", "-o", "json"))
    )
    assert described["config"]["client_secret"] == "[HIDDEN]"


def test_key_sas_and_connection_string_connectors_each_serve_a_store(
    azurite_https: Azurite,
) -> None:
    container = azurite_https.new_container()
    sas = azurite_https.sas_token(container)
    methods = {
        "by_key": [
            "--auth-method=account-key", f"--account_key={ACCOUNT_KEY}", *_where(azurite_https),
        ],
        "by_sas": [
            "--auth-method=sas-token", f"--sas_token={sas}", *_where(azurite_https),
            "--resource-id", f"az://{container}",
        ],
        "by_string": [
            "--auth-method=connection-string",
            f"--connection_string={azurite_https.connection_string()}",
        ],
    }  # fmt: skip
    for name, arguments in methods.items():
        registered = _run(
            azurite_https, "service-connector", "register", name, "--type", "azure", *arguments
        )
        assert f"az://{container}" in _ok(registered), name
        _ok(
            _run(
                azurite_https, "artifact-store", "register", f"{name}_store", "--flavor=azure",
                f"--path=az://{container}/{name}", "--connector", name,
            )
        )  # fmt: skip
        _ok(_run(azurite_https, "stack", "register", name, "-a", f"{name}_store"))
        seen = _save_and_load(azurite_https, name, 3 * MiB + 5)
        assert seen["same"] and seen["uri"].startswith(f"az://{container}/{name}/")
    listed = json.loads(
        _ok(_run(azurite_https, "service-connector", "list-resources", "by_key", "-o", "json"))
    )
    resources = {row["resource_type"]: row["resources"] for row in listed}
    assert f"az://{container}" in resources["blob-container"]
    assert resources["azure-generic"] == [f"storage account {azurite_https.url}"]
    for name in methods:
        described = _ok(_run(azurite_https, "service-connector", "describe", name))
        assert ACCOUNT_KEY not in described and sas not in described


def test_a_sas_for_one_container_is_refused_on_another(azurite_https: Azurite) -> None:
    mine, other = azurite_https.new_container(), azurite_https.new_container()
    sas = azurite_https.sas_token(mine)
    refused = _failed(
        _run(
            azurite_https, "service-connector", "register", "sas", "--type", "azure",
            "--auth-method=sas-token", f"--sas_token={sas}", *_where(azurite_https),
            "--resource-id", f"az://{other}",
        )
    )  # fmt: skip
    assert "refused the credentials of service connector" in refused
    assert sas not in refused
    no_container = _failed(
        _run(
            azurite_https, "service-connector", "register", "sas", "--type", "azure",
            "--auth-method=sas-token", f"--sas_token={sas}", *_where(azurite_https),
        )
    )  # fmt: skip
    assert "this SAS is for one container" in no_container
    assert "--resource-id az://CONTAINER" in no_container
    # The same SAS as a store's own setting: it works on its container, and is refused on
    # the other with the service's reason.
    for name, container in (("mine", mine), ("other", other)):
        _ok(
            _run(
                azurite_https, "artifact-store", "register", name, "--flavor=azure",
                f"--path=az://{container}/x", f"--sas_token={sas}", *_where(azurite_https),
            )
        )  # fmt: skip
        _ok(_run(azurite_https, "stack", "register", name, "-a", name))
    assert _save_and_load(azurite_https, "mine", 1000)["same"]
    with pytest.raises(AssertionError, match="refused the credentials of artifact store 'other'"):
        _save_and_load(azurite_https, "other", 1000)


def test_a_store_with_its_own_account_key(azurite_https: Azurite) -> None:
    container = azurite_https.new_container()
    _ok(
        _run(
            azurite_https, "artifact-store", "register", "keyed", "--flavor=azure",
            f"--path=az://{container}@{ACCOUNT}/x", f"--account_key={ACCOUNT_KEY}",
            f"--account_host={azurite_https.host}",
        )
    )  # fmt: skip
    _ok(_run(azurite_https, "stack", "register", "keyed", "-a", "keyed"))
    seen = _save_and_load(azurite_https, "keyed", 2 * MiB)
    assert seen["same"] and seen["uri"].startswith(f"az://{container}@{ACCOUNT}/x/")


def test_a_wrong_client_secret_gives_azure_identitys_reason(
    azurite_https: Azurite, authority: Authority
) -> None:
    refused = _failed(
        _run(
            azurite_https, "service-connector", "register", "wrong", "--type", "azure",
            *_principal(azurite_https, authority, secret="not-the-secret"),
        )
    )  # fmt: skip
    assert "refused the credentials of service connector" in refused
    assert "AADSTS7000215: Invalid client secret provided" in refused
    assert "not-the-secret" not in refused
    assert authority.refused >= 1 and authority.issued == 0
    assert len(refused.strip().splitlines()) <= 3


def test_implicit_and_auto_configure_read_the_environment(
    azurite_https: Azurite, authority: Authority
) -> None:
    container = azurite_https.new_container()
    principal = {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": CLIENT_SECRET,
        "AZURE_AUTHORITY_HOST": authority.url,
    }
    # DefaultAzureCredential, resolved on the machine that uses the store.
    implicit = _run(
        azurite_https, "service-connector", "register", "implicit", "--type", "azure",
        "--auth-method=implicit", *_where(azurite_https), env=principal,
    )  # fmt: skip
    assert f"az://{container}" in _ok(implicit)
    _ok(
        _run(
            azurite_https, "artifact-store", "register", "implicit_store", "--flavor=azure",
            f"--path=az://{container}/implicit", "--connector", "implicit",
        )
    )  # fmt: skip
    _ok(_run(azurite_https, "stack", "register", "implicit", "-a", "implicit_store"))
    assert _save_and_load(azurite_https, "implicit", 1000, env=principal)["same"]

    found = _run(
        azurite_https, "service-connector", "register", "auto", "--type", "azure",
        "--auto-configure", f"--account_host={azurite_https.host}",
        env={**principal, "AZURE_STORAGE_ACCOUNT_NAME": ACCOUNT},
    )  # fmt: skip
    assert f"az://{container}" in _ok(found)
    described = json.loads(
        _ok(_run(azurite_https, "service-connector", "describe", "auto", "-o", "json"))
    )
    assert described["auth_method"] == "service-principal"
    assert described["config"]["client_secret"] == "[HIDDEN]"
    assert described["config"]["account_name"] == ACCOUNT

    by_string = _run(
        azurite_https, "service-connector", "register", "auto_string", "--type", "azure",
        "--auto-configure",
        env={"AZURE_STORAGE_CONNECTION_STRING": azurite_https.connection_string()},
    )  # fmt: skip
    assert f"az://{container}" in _ok(by_string)
    described = json.loads(
        _ok(_run(azurite_https, "service-connector", "describe", "auto_string", "-o", "json"))
    )
    assert described["auth_method"] == "connection-string"


def test_bad_connector_input_is_refused_clearly(azurite_https: Azurite) -> None:
    def register(*arguments: str) -> str:
        return _failed(
            _run(
                azurite_https, "service-connector", "register", "bad", "--type", "azure", *arguments
            )
        )

    assert "connection_string is malformed" in register(
        "--auth-method=connection-string", "--connection_string=garbage"
    )
    wrong_key = ACCOUNT_KEY[:-8] + "AAAAAAA="
    wrong = register(
        "--auth-method=account-key", f"--account_key={wrong_key}", *_where(azurite_https)
    )
    assert "refused the credentials of service connector 'bad'" in wrong
    assert "--account_key=@FILE" in wrong and wrong_key not in wrong
    missing = register(
        "--auth-method=account-key", f"--account_key={ACCOUNT_KEY}", *_where(azurite_https),
        "--resource-id", "az://no-such-container",
    )  # fmt: skip
    assert "container 'no-such-container' of service connector 'bad' does not exist" in missing
    assert "--resource-id az://CONTAINER" in missing
    far = register(
        "--auth-method=account-key", f"--account_key={ACCOUNT_KEY}",
        f"--account_name={ACCOUNT}", f"--account_host=127.0.0.1:1/{ACCOUNT}",
    )  # fmt: skip
    assert "cannot reach the containers of service connector 'bad' at https://127.0.0.1:1/" in far
    assert "is not a valid Azure container name" in register(
        "--auth-method=account-key", f"--account_key={ACCOUNT_KEY}", *_where(azurite_https),
        "--resource-id", "az://Bad_Name",
    )  # fmt: skip
    assert "--expiration-seconds does not apply to azure connectors" in register(
        "--auth-method=account-key", f"--account_key={ACCOUNT_KEY}", *_where(azurite_https),
        "--expiration-seconds=900",
    )  # fmt: skip
    nameless = register("--auth-method=implicit")
    assert "no Azure storage account is named" in nameless and "--account_name" in nameless


def test_an_expired_sas_is_called_expired_not_refused(azurite_https: Azurite) -> None:
    container = azurite_https.new_container()
    sas = azurite_https.sas_token(container, hours=-1)
    expired = _failed(
        _run(
            azurite_https, "service-connector", "register", "old", "--type", "azure",
            "--auth-method=sas-token", f"--sas_token={sas}", *_where(azurite_https),
            "--resource-id", f"az://{container}",
        )
    )  # fmt: skip
    # Azurite, like Azure, refuses it in the words it uses for a wrong signature.
    assert "the credentials of service connector 'old' expired (its SAS expired at" in expired
    assert "--sas_token=@FILE" in expired and sas not in expired
    _ok(
        _run(
            azurite_https, "artifact-store", "register", "old", "--flavor=azure",
            f"--path=az://{container}/x", f"--sas_token={sas}", *_where(azurite_https),
        )
    )  # fmt: skip
    _ok(_run(azurite_https, "stack", "register", "old", "-a", "old"))
    with pytest.raises(AssertionError) as caught:
        _save_and_load(azurite_https, "old", 1000)
    assert "the credentials of artifact store 'old' expired (its SAS expired at" in str(
        caught.value
    )
