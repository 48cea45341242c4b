"""`holdall stack ...`: register, activate, copy, update, delete."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import holdall_process
from tests.core.test_cli_artifact_store import error_of


def stacks(cli) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(cli("stack", "list", "-o", "json").out)}


def test_the_tour(cli, tmp_path: Path) -> None:
    assert (
        cli(
            "artifact-store", "register", "local_store", "--flavor=local", f"--path={tmp_path}/a"
        ).code
        == 0
    )
    assert (
        cli(
            "artifact-store", "register", "other_store", "--flavor=local", f"--path={tmp_path}/b"
        ).code
        == 0
    )
    assert cli("stack", "register", "dev", "-a", "local_store").code == 0
    assert cli("stack", "set", "dev").code == 0
    assert cli("stack", "copy", "dev", "migrated").code == 0
    assert cli("stack", "update", "migrated", "-a", "other_store").code == 0
    listed = stacks(cli)
    assert listed["dev"] == {"name": "dev", "artifact_store": "local_store", "active": True}
    assert listed["migrated"] == {
        "name": "migrated",
        "artifact_store": "other_store",
        "active": False,
    }
    assert listed["default"]["active"] is False
    described = json.loads(cli("stack", "describe", "-o", "json").out)
    assert described["name"] == "dev" and described["artifact_store_path"] == f"{tmp_path}/a"


def test_the_active_stack_survives_across_processes() -> None:
    assert holdall_process("artifact-store", "register", "s", "--flavor=local").code == 0
    assert holdall_process("stack", "register", "other", "-a", "s", "--set").code == 0
    listed = json.loads(holdall_process("stack", "list", "-o", "json").out)
    assert [s["name"] for s in listed if s["active"]] == ["other"]


def test_a_stack_naming_a_missing_store(cli) -> None:
    err = error_of(cli("stack", "register", "st", "-a", "nosuch"))
    assert "no artifact store called 'nosuch'; registered: default" in err
    assert "fix: holdall artifact-store register nosuch" in err
    assert "st" not in stacks(cli)
    err = error_of(cli("stack", "update", "default", "-a", "nosuch"))
    assert "no artifact store called 'nosuch'" in err
    assert stacks(cli)["default"]["artifact_store"] == "default"


def test_duplicate_stack_names(cli) -> None:
    cli("stack", "register", "st", "-a", "default")
    assert "a stack called 'st' already exists" in error_of(
        cli("stack", "register", "st", "-a", "default")
    )
    assert "a stack called 'st' already exists" in error_of(cli("stack", "copy", "default", "st"))


def test_the_active_and_the_default_stack_cannot_be_deleted(cli) -> None:
    cli("stack", "register", "st", "-a", "default", "--set")
    err = error_of(cli("stack", "delete", "st"))
    assert "stack 'st' is the active stack" in err and "fix: holdall stack set default" in err
    assert "cannot be deleted" in error_of(cli("stack", "delete", "default"))
    assert cli("stack", "set", "default").code == 0
    assert cli("stack", "delete", "st").code == 0
    assert set(stacks(cli)) == {"default"}


def test_missing_stacks(cli) -> None:
    for command in (
        ["set", "ghost"],
        ["describe", "ghost"],
        ["delete", "ghost"],
        ["copy", "ghost", "new"],
        ["update", "ghost", "-a", "default"],
    ):
        assert "no stack called 'ghost'" in error_of(cli("stack", *command))


def test_current_names_the_active_stack_unless_a_stack_is_called_so(cli, tmp_path: Path) -> None:
    assert cli("artifact-store", "register", "s", "--flavor=local", f"--path={tmp_path}").code == 0
    assert cli("stack", "register", "dev", "-a", "s").code == 0
    assert cli("stack", "set", "dev").code == 0
    copied = cli("stack", "copy", "current", "migrated")  # the README's (and ZenML's) habit
    assert copied.code == 0, copied.err
    described = json.loads(cli("stack", "describe", "migrated", "-o", "json").out)
    assert described["artifact_store"] == "s"
    assert cli("stack", "register", "current", "-a", "default").code == 0  # now a real name
    assert cli("stack", "copy", "current", "again").code == 0
    again = json.loads(cli("stack", "describe", "again", "-o", "json").out)
    assert again["artifact_store"] == "default"
