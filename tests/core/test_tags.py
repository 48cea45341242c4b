"""Tags on versions: many per version, exclusive ones that move, selection by tag, and what
happens to tags when versions are deleted; on SQLite and PostgreSQL, with processes racing."""

from __future__ import annotations

import json

import pytest

from holdall import Client
from holdall.errors import ConfigError, InUseError, NotFoundError
from tests.core.test_cli_artifact_store import error_of
from tests.core.test_metadata import race


def test_a_version_holds_many_tags_and_is_found_by_them() -> None:
    client = Client()
    client.save_artifact({"acc": 0.7}, "model", tags=["candidate", "nightly"])
    second = client.save_artifact({"acc": 0.9}, "model", tags=["nightly", "nightly"])
    assert second.tags == ("nightly",)
    assert client.get_artifact_version("model", 1).tags == ("candidate", "nightly")
    assert [v.version for v in client.list_artifact_versions("model", tag="nightly")] == [1, 2]
    assert client.load_artifact("model", tag="candidate") == {"acc": 0.7}
    assert client.get_artifact_version("model", tag="nightly").version == 2  # the latest
    with pytest.raises(NotFoundError, match="no version of artifact 'model' holds tag 'gone'"):
        client.load_artifact("model", tag="gone")
    untagged = client.update_artifact_version("model", 1, remove_tags=["candidate"])
    assert untagged.tags == ("nightly",)
    listed = {t.name: (t.exclusive, t.versions) for t in client.list_tags()}
    assert listed == {"candidate": (False, 0), "nightly": (False, 2)}


def test_an_exclusive_tag_moves_from_version_to_version_within_one_artifact() -> None:
    client = Client()
    client.create_tag("production", exclusive=True)
    for value in (1, 2, 3):
        client.save_artifact(value, "model")
    client.save_artifact("other", "encoder", tags=["production"])
    client.update_artifact_version("model", 1, ["production"])
    assert client.load_artifact("model", tag="production") == 1
    moved = client.update_artifact_version("model", 3, ["production"])
    assert moved.tags == ("production",)
    assert client.get_artifact_version("model", 1).tags == ()
    assert client.load_artifact("model", tag="production") == 3
    assert client.load_artifact("encoder", tag="production") == "other"  # its own artifact's
    again = client.save_artifact(4, "model", tags=["production"])  # a save takes it too
    assert [v.version for v in client.list_artifact_versions("model", tag="production")] == [
        again.version
    ]
    with pytest.raises(ConfigError, match="tag 'production' exists and is exclusive"):
        client.update_artifact_version("model", 2, ["production"], exclusive=False)


MOVES = 6


def test_processes_moving_an_exclusive_tag_at_once_leave_it_on_one_version(
    database_url: str,
) -> None:
    client = Client()
    client.create_tag("production", exclusive=True)
    for value in range(MOVES):
        client.save_artifact(value, "model")
    results = race(
        [
            ["artifact", "version", "update", "model", str(number), "-t", "production"]
            for number in range(1, MOVES + 1)
        ]
    )
    assert [r.code for r in results] == [0] * MOVES, [r.err for r in results]
    holders = client.list_artifact_versions("model", tag="production")
    assert len(holders) == 1, [v.label for v in holders]
    assert {t.name: t.versions for t in client.list_tags()} == {"production": 1}


def test_a_deleted_version_holds_no_tag() -> None:
    client = Client()
    client.create_tag("production", exclusive=True)
    client.save_artifact(1, "model", tags=["production", "reviewed"])
    client.delete_artifact_version("model", 1)
    assert {t.name: t.versions for t in client.list_tags()} == {"production": 0, "reviewed": 0}
    tombstone = client.get_artifact_version("model", 1, include_deleted=True)
    assert tombstone.tags == ()
    with pytest.raises(NotFoundError):
        client.load_artifact("model", tag="production")


def test_bad_tags_are_refused_in_one_line(cli) -> None:
    client = Client()
    client.save_artifact(1, "model")
    spaced = cli("artifact", "version", "update", "model", "1", "-t", "in production")
    assert spaced.code == 1 and "invalid tag name 'in production'" in spaced.err
    huge = cli("artifact", "version", "update", "model", "1", "-t", "x" * 100 * 1024)
    assert huge.code == 1 and "(102402 characters)" in huge.err
    assert len(huge.err) < 400, huge.err  # the name is not echoed whole
    nothing = cli("artifact", "version", "update", "model", "1")
    assert nothing.code == 2 and "nothing to change" in nothing.err
    missing = cli("artifact", "version", "update", "model", "9", "-t", "a")
    assert missing.code == 1 and "has no version 9" in error_of(missing)
    with pytest.raises(ConfigError):
        client.save_artifact(2, "model", tags=["../escape"])
    assert [v.version for v in client.list_artifact_versions("model")] == [1]  # nothing saved


def test_tags_from_the_command_line(cli) -> None:
    client = Client()
    for value in (1, 2):
        client.save_artifact(value, "model")
    made = cli("artifact", "version", "update", "model", "1", "-t", "production", "--exclusive")
    assert made.code == 0 and "model:1 holds tags: production" in made.out, made.err
    moved = cli("artifact", "version", "update", "model", "2", "-t", "production", "-t", "qa")
    assert moved.code == 0 and "model:2 holds tags: production, qa" in moved.out
    listed = json.loads(cli("artifact", "versions", "model", "-t", "production", "-o", "json").out)
    assert [v["version"] for v in listed] == [2] and listed[0]["tags"] == ["production", "qa"]
    described = json.loads(
        cli("artifact", "describe", "model", "-t", "production", "-o", "json").out
    )
    assert described["version"] == 2
    tags = json.loads(cli("tag", "list", "-o", "json").out)
    assert tags == [
        {"name": "production", "exclusive": True, "versions": 1},
        {"name": "qa", "exclusive": False, "versions": 1},
    ]
    held = cli("tag", "delete", "qa")
    assert held.code == 1 and "holdall tag delete qa --force" in held.err
    assert cli("tag", "delete", "qa", "--force").code == 0
    with pytest.raises(InUseError):
        client.delete_tag("production")
    assert cli("tag", "register", "production").code == 1  # exists already
