"""The integration commands that need no install."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_cli_artifact_store import error_of


def test_requirements_and_export(cli, tmp_path: Path) -> None:
    assert cli("integration", "requirements", "s3").out.split() == ["s3fs>=2024.6"]
    assert cli("integration", "export-requirements").out.split() == [
        "adlfs>=2024.7,<2027",
        "azure-identity>=1.15",
        "gcsfs>=2024.6,<2027",
        "s3fs>=2024.6",
        "zenml>=0.80",
    ]
    target = tmp_path / "requirements.txt"
    assert cli("integration", "export-requirements", "s3", "--output-file", str(target)).code == 0
    assert target.read_text() == "s3fs>=2024.6\n"
    assert cli("integration", "requirements", "local").out == ""


def test_unknown_integrations(cli) -> None:
    for command in (["install", "nope", "-y"], ["requirements", "nope"], ["uninstall", "nope"]):
        assert "no integration called 'nope'" in error_of(cli("integration", *command))
    assert "ships with the core" in cli("integration", "install", "local").out


def test_uv_must_be_there_to_be_used(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no uv on it
    err = error_of(cli("integration", "install", "s3", "--uv", "-y"))
    assert "uv is not installed" in err and "fix: pip install uv, or leave out --uv" in err


def test_uninstalling_an_integration_that_registered_stores_use_warns_and_asks() -> None:
    from holdall import Client
    from tests.conftest import holdall_process

    client = Client()
    client.register_artifact_store(
        "gcs_store", "gcs", path="gs://some-bucket/x", config={"endpoint_url": "http://127.0.0.1:9"}
    )
    client.create_service_connector(
        "gcp_conn",
        "gcp",
        auth_method="oauth2-token",
        configuration={"token": "ya29.x"},
        verify=False,
    )
    answered_no = holdall_process("integration", "uninstall", "gcp", input="n\n")
    assert answered_no.code != 0  # nothing uninstalled: the answer was no
    assert (
        "warning: artifact store(s) 'gcs_store' and service connector(s) 'gcp_conn' use "
        "integration 'gcp'" in answered_no.err
    ), answered_no.err
    assert "Uninstall holdall-gcp anyway? [y/N]" in answered_no.out
    from importlib.metadata import version

    assert version("holdall-gcp")  # still installed
