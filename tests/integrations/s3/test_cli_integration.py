"""The integration commands that need no install."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_cli_artifact_store import error_of


def test_requirements_and_export(cli, tmp_path: Path) -> None:
    assert cli("integration", "requirements", "s3").out.split() == ["s3fs>=2024.6"]
    assert cli("integration", "export-requirements").out.split() == [
        "adlfs>=2024.7",
        "azure-identity>=1.15",
        "gcsfs>=2024.6",
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
