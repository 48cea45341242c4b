"""`holdall artifact-store ...` as a user types it, good input and bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_register_list_describe_update_delete(cli, tmp_path: Path) -> None:
    path = tmp_path / "artifacts"
    result = cli("artifact-store", "register", "local_store", "--flavor=local", f"--path={path}")
    assert result.code == 0, result.err
    assert f"Registered artifact store 'local_store' (local) at {path}" in result.out

    listed = json.loads(cli("artifact-store", "list", "--output", "json").out)
    assert {"name": "local_store", "flavor": "local", "path": str(path)} in listed
    assert {s["name"] for s in listed} == {"default", "local_store"}

    described = json.loads(cli("artifact-store", "describe", "local_store", "-o", "json").out)
    assert described["path"] == str(path) and described["stacks"] == []

    moved = tmp_path / "moved"
    assert cli("artifact-store", "update", "local_store", f"--path={moved}").code == 0
    assert json.loads(cli("artifact-store", "describe", "local_store", "-o", "json").out)[
        "path"
    ] == str(moved)

    assert cli("artifact-store", "delete", "local_store").code == 0
    names = {s["name"] for s in json.loads(cli("artifact-store", "list", "-o", "json").out)}
    assert names == {"default"}


def test_the_local_flavor_defaults_its_path_into_the_config_dir(cli, config_dir: Path) -> None:
    assert cli("artifact-store", "register", "mine", "--flavor=local").code == 0
    described = json.loads(cli("artifact-store", "describe", "mine", "-o", "json").out)
    assert described["path"] == str(config_dir / "local_stores" / described["id"])


def test_relative_local_paths_are_stored_absolute(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("artifact-store", "register", "rel", "--flavor=local", "--path=./here").code == 0
    described = json.loads(cli("artifact-store", "describe", "rel", "-o", "json").out)
    assert described["path"] == str(tmp_path / "here")


def test_the_default_store_and_stack_exist_on_first_use(cli, config_dir: Path) -> None:
    stores = json.loads(cli("artifact-store", "list", "-o", "json").out)
    assert [s["name"] for s in stores] == ["default"]
    assert stores[0]["path"].startswith(str(config_dir / "local_stores") + "/")
    stacks = json.loads(cli("stack", "list", "-o", "json").out)
    assert stacks == [{"name": "default", "artifact_store": "default", "active": True}]


def test_flavor_list_and_describe(cli) -> None:
    flavors = json.loads(cli("artifact-store", "flavor", "list", "-o", "json").out)
    assert {
        "name": "local",
        "integration": "local",
        "installed": True,
        "schemes": ["file://"],
        "registered from": None,
        "error": None,
    } in flavors
    described = cli("artifact-store", "flavor", "describe", "local")
    assert described.code == 0 and "path" in described.out


def error_of(result) -> str:
    assert result.code != 0
    assert result.out == ""
    assert "Traceback" not in result.err
    assert 1 <= len(result.err.strip().splitlines()) <= 2, result.err
    return result.err


def test_unknown_flavor_lists_the_known_ones(cli) -> None:
    err = error_of(cli("artifact-store", "register", "x", "--flavor=nope", "--path=/tmp/x"))
    assert "unknown flavor 'nope'; known flavors: " in err and "local" in err
    assert "fix: holdall artifact-store flavor list" in err


def test_wrong_scheme_lists_the_supported_ones(cli) -> None:
    err = error_of(cli("artifact-store", "register", "x", "--flavor=local", "--path=s3://b/p"))
    assert "'s3://' paths are not supported" in err and "file://" in err


def test_unknown_key_lists_the_valid_ones(cli) -> None:
    err = error_of(cli("artifact-store", "register", "x", "--flavor=local", "--region=eu"))
    assert "unknown config key 'region' for flavor 'local'; valid keys: " in err
    assert "--path" in err and "--compression" in err


def test_duplicate_names_are_refused_and_the_first_is_kept(cli, tmp_path: Path) -> None:
    assert cli("artifact-store", "register", "s", "-f", "local", f"--path={tmp_path}/a").code == 0
    err = error_of(cli("artifact-store", "register", "s", "-f", "local", f"--path={tmp_path}/b"))
    assert "an artifact store called 's' already exists" in err
    described = json.loads(cli("artifact-store", "describe", "s", "-o", "json").out)
    assert described["path"] == f"{tmp_path}/a"


def test_a_store_in_use_cannot_be_deleted(cli) -> None:
    cli("artifact-store", "register", "used", "--flavor=local")
    cli("stack", "register", "st", "-a", "used")
    err = error_of(cli("artifact-store", "delete", "used"))
    assert "artifact store 'used' is used by stack(s): st" in err
    assert "fix: holdall stack update st -a" in err
    assert any(
        s["name"] == "used" for s in json.loads(cli("artifact-store", "list", "-o", "json").out)
    )


def test_a_value_from_a_missing_file(cli) -> None:
    err = error_of(cli("artifact-store", "register", "x", "--flavor=local", "--path=@/no/such"))
    assert "cannot read --path from '/no/such': no such file" in err


def test_a_value_read_from_a_file(cli, tmp_path: Path) -> None:
    value_file = tmp_path / "path.txt"
    value_file.write_text(f"{tmp_path}/from-file\n")
    assert cli("artifact-store", "register", "f", "-f", "local", f"--path=@{value_file}").code == 0
    described = json.loads(cli("artifact-store", "describe", "f", "-o", "json").out)
    assert described["path"] == f"{tmp_path}/from-file"


@pytest.mark.parametrize("name", ["a/b", "..", "", "-x", "x" * 200])
def test_bad_names_are_refused(cli, name: str) -> None:
    err = error_of(cli("artifact-store", "register", name, "--flavor=local"))
    assert "invalid artifact store name" in err


def test_describe_and_delete_of_a_missing_store(cli) -> None:
    assert "no artifact store called 'ghost'" in error_of(
        cli("artifact-store", "describe", "ghost")
    )
    assert "no artifact store called 'ghost'" in error_of(cli("artifact-store", "delete", "ghost"))


def test_update_with_nothing_to_change(cli) -> None:
    assert "nothing to update" in error_of(cli("artifact-store", "update", "default"))


def test_every_command_has_help(cli) -> None:
    for command in (
        [],
        ["integration"],
        ["integration", "list"],
        ["integration", "describe"],
        ["artifact-store"],
        ["artifact-store", "register"],
        ["artifact-store", "list"],
        ["artifact-store", "describe"],
        ["artifact-store", "update"],
        ["artifact-store", "delete"],
        ["artifact-store", "flavor"],
        ["artifact-store", "flavor", "list"],
        ["artifact-store", "flavor", "describe"],
        ["stack"],
        ["stack", "register"],
        ["stack", "list"],
        ["stack", "describe"],
        ["stack", "set"],
        ["stack", "copy"],
        ["stack", "update"],
        ["stack", "delete"],
        ["db"],
        ["db", "status"],
        ["db", "upgrade"],
    ):
        result = cli(*command, "--help")
        assert result.code == 0 and "Usage: holdall" in result.out, command


def test_a_store_holding_versions_cannot_be_deleted(cli, database_url: str) -> None:
    from holdall import Client

    cli("artifact-store", "register", "kept", "--flavor=local")
    cli("stack", "register", "st", "-a", "kept", "--set")
    Client().save_artifact({"kept": True}, "thing")
    Client().save_artifact({"kept": True}, "thing")
    cli("stack", "set", "default")
    cli("stack", "delete", "st")
    err = error_of(cli("artifact-store", "delete", "kept"))
    assert "artifact store 'kept' holds 2 artifact version(s); deleting it would leave" in err
    assert "fix: keep 'kept' registered" in err
    assert Client().load_artifact("thing", 1) == {"kept": True}


def test_a_store_with_a_save_in_progress_cannot_be_deleted(cli, database_url: str) -> None:
    from holdall import Client
    from holdall.artifacts.versions import Producer, abandon, reserve

    client = Client()
    client.register_artifact_store("busy", "local")
    store = client.artifact_store(client.get_artifact_store("busy"))
    row = reserve(client.database, "thing", store, Producer())
    err = error_of(cli("artifact-store", "delete", "busy"))
    assert "artifact store 'busy' has 1 save(s) in progress" in err
    assert "holdall artifact gc" in err
    # Once that save is abandoned, nothing lives in the store and it may go.
    abandon(client.database, store, row.id)
    assert cli("artifact-store", "delete", "busy").code == 0


def test_a_store_holding_versions_keeps_its_location_but_not_its_settings(
    cli, tmp_path: Path, database_url: str
) -> None:
    from holdall import Client

    Client().save_artifact({"kept": True}, "thing")  # in the default store
    err = error_of(cli("artifact-store", "update", "default", f"--path={tmp_path}/elsewhere"))
    assert "artifact store 'default' holds 1 artifact version(s); changing --path" in err
    assert "fix: register a new store for the new location" in err
    # The same path, written another way, moves nothing.
    path = Client().get_artifact_store("default").path
    assert cli("artifact-store", "update", "default", f"--path={path}/").code == 0
    assert Client().load_artifact("thing") == {"kept": True}
