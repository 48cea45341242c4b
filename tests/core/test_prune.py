"""`holdall artifact prune`: retention rules, what always stays (tagged, used), why each
survivor survives, bad input, and prunes racing each other, a tagger and a migration."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from holdall import Client, pipeline
from holdall.artifacts.deletion import DeletedError
from holdall.artifacts.prune import Rules, plan, prune
from holdall.errors import ConfigError
from holdall.metadata.tables import ArtifactVersionRow
from tests.core.test_metadata import race
from tests.core.test_migration import two_stores
from tests.fixtures.pipelines import make_numbers, total


@pipeline
def numbers_pipeline():
    total(make_numbers())


def _age(client: Client, label: str, days: float) -> None:
    """Make a version look `days` old (as if saved then)."""
    name, _, number = label.partition(":")
    version = client.get_artifact_version(name, number)
    then = datetime.now(timezone.utc) - timedelta(days=days)
    with client.database.session() as session:
        session.execute(
            update(ArtifactVersionRow)
            .where(ArtifactVersionRow.id == version.id)
            .values(committed=then, created=then)
        )


def test_keep_last_keeps_the_newest_and_every_tagged_or_used_version(cli) -> None:
    client = Client()
    for number in range(5):
        client.save_artifact(
            f"blob {number}" * 100, "blob", tags=["golden"] if number == 0 else None
        )
    client.save_artifact(1, "other")
    numbers_pipeline()  # total:1 took numbers:1 as its input
    numbers_pipeline()
    dry = cli("artifact", "prune", "--keep-last", "1", "--dry-run")
    assert dry.code == 0, dry.err
    assert "would delete blob:2" in dry.out and "would delete blob:4" in dry.out
    assert "keep blob:5: among the newest 1 of blob" in dry.out
    assert "keep blob:1: tagged golden" in dry.out
    assert "keep numbers:1: used by run " in dry.out and "(step total)" in dry.out
    assert "would delete total:1" in dry.out  # made by a run, used by none
    assert "would delete 4 version(s)" in dry.out, dry.out
    assert len(client.list_artifact_versions("blob")) == 5  # a dry run deletes nothing
    done = cli("artifact", "prune", "--keep-last", "1", "-y")
    assert done.code == 0, done.err
    assert "Pruned 4 version(s)" in done.out
    assert [v.version for v in client.list_artifact_versions("blob")] == [1, 5]
    with pytest.raises(DeletedError, match="blob:3 was deleted on"):
        client.load_artifact("blob", 3)
    assert client.load_artifact("numbers", 1) == {"values": [1, 2, 3]}
    used = cli("artifact", "prune", "--keep-last", "1", "--include-used", "-y")
    assert used.code == 0 and "Deleted numbers:1" in used.out
    lineage = cli("artifact", "lineage", "total:1").out
    assert "(deleted)" in lineage  # total:1 went first; its input's tombstone is named


def test_older_than_keeps_what_is_newer_and_both_rules_must_let_a_version_go() -> None:
    client = Client()
    for number in range(4):
        client.save_artifact(number, "metric")
    _age(client, "metric:1", 100)
    _age(client, "metric:2", 100)
    _age(client, "metric:4", 100)  # the newest, old or not
    the_plan = client.plan_artifact_prune(older_than=timedelta(days=90))
    assert [c.label for c in the_plan.doomed] == ["metric:4", "metric:2", "metric:1"]
    assert the_plan.kept == {"metric:3": "newer than 90 days"}
    assert len(client.list_artifact_versions("metric")) == 4  # a plan deletes nothing
    both = client.plan_artifact_prune(keep_last=1, older_than=timedelta(days=90))
    assert both.kept["metric:4"] == "among the newest 1 of metric"
    deleted = client.prune_artifacts(keep_last=1, older_than=timedelta(days=90))
    assert sorted(d.label for d in deleted.done) == ["metric:1", "metric:2"]
    assert [v.version for v in client.list_artifact_versions("metric")] == [3, 4]


def test_bad_rules_are_refused_before_anything_is_read(cli) -> None:
    Client().save_artifact(1, "x")
    for args, words in [
        ((), "say what to prune"),
        (("--keep-last", "0"), "--keep-last 0 would keep nothing"),
        (("--older-than", "-1"), "--older-than -1 is not an age"),
        (("--keep-last", "x"), "'x' is not a valid integer"),
    ]:
        result = cli("artifact", "prune", *args, "-y")
        assert result.code in (1, 2) and words in result.err, (args, result.err)
        assert "Traceback" not in result.err
    assert [v.version for v in Client().list_artifact_versions("x")] == [1]
    unasked = cli("artifact", "prune", "--keep-last", "1")
    assert "Nothing to prune" in unasked.out  # one version: nothing to ask about
    with pytest.raises(ConfigError):
        Rules()


def test_a_prune_takes_from_its_plan_only_what_the_rules_still_let_go() -> None:
    client = Client()
    for number in range(3):
        client.save_artifact(number, "late")
    rules = Rules(keep_last=1)
    the_plan = plan(client.database, rules)
    assert [c.label for c in the_plan.doomed] == ["late:2", "late:1"]
    agreed = [c.version_id for c in the_plan.doomed]
    client.update_artifact_version("late", 1, ["keep-me"])  # between plan and delete
    client.save_artifact(3, "late")  # late:3 falls out of the newest 1, after the plan
    deleted = prune(client.database, rules, client.stores.by_id, within=agreed)
    assert [d.label for d in deleted.done] == ["late:2"]  # of the plan, what still may go
    assert client.load_artifact("late", 1) == 0
    assert client.load_artifact("late", 3) == 2
    unbounded = prune(client.database, rules, client.stores.by_id)
    assert [d.label for d in unbounded.done] == ["late:3"]


def test_two_prunes_at_once_delete_each_version_once(database_url: str) -> None:
    client = Client()
    for number in range(12):
        client.save_artifact(number, "many")
    results = race([["artifact", "prune", "--keep-last", "3", "-y"] for _ in range(3)])
    assert [r.code for r in results] == [0, 0, 0], [r.err for r in results]
    deleted = [line for r in results for line in r.out.splitlines() if line.startswith("Deleted")]
    assert sorted(deleted) == sorted(
        f"Deleted many:{n} (1 bytes); its record stays for lineage" for n in range(1, 10)
    )
    assert [v.version for v in client.list_artifact_versions("many")] == [10, 11, 12]


def test_a_prune_beside_a_migration_loses_nothing_that_should_stay(tmp_path: Path) -> None:
    client = two_stores(tmp_path)
    values = {n: f"value {n}".encode() * 2000 for n in range(1, 21)}
    for number in sorted(values):
        client.save_artifact(values[number], "blob")
    migrating = subprocess.Popen(
        [sys.executable, "-m", "holdall", "artifact-store", "migrate", "old", "new",
         "--delete-source", "--jobs", "2", "-o", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deleted = client.prune_artifacts(keep_last=5)
    out, err = migrating.communicate(timeout=300)
    assert migrating.returncode == 0, err
    summary = json.loads(out)
    assert not summary["failed"]
    assert {d.label for d in deleted.done} == {f"blob:{n}" for n in range(1, 16)}
    for number in range(16, 21):  # kept: whole, wherever they are now
        assert client.load_artifact("blob", number) == values[number]
    for number in range(1, 16):  # pruned: no copy left in either store
        assert not (tmp_path / "old" / "_saved" / "blob" / str(number)).exists()
        assert not (tmp_path / "new" / "_saved" / "blob" / str(number)).exists()
