"""Schema revisions: databases made by earlier releases upgrade in place, once, with their data."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from holdall.client import Client
from holdall.metadata.database import Database
from holdall.metadata.schema import BASELINE, HEAD, known_revisions
from holdall.metadata.tables import Base
from tests.conftest import REPO, holdall_process
from tests.core.test_cli_artifact_store import error_of
from tests.core.test_metadata import race
from tests.fixtures.legacy import RELEASES, SAVED, SECRETS_KEY, LegacyDatabase, lay_out

UPGRADED = f"from schema revision {BASELINE} to {HEAD}"


@pytest.fixture(params=RELEASES)
def release(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def legacy(
    database_url: str,
    tmp_path: Path,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    release: str,
) -> Iterator[LegacyDatabase]:
    """The database and store that a release left, with artifacts and runs in them."""
    monkeypatch.setenv("HOLDALL_SECRETS_KEY", SECRETS_KEY)
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    yield lay_out(release, kind, tmp_path / "legacy", config_dir, database_url)


def _revision_of(release: str) -> str:
    """The schema revision a release expects, as its CHANGELOG entry states it."""
    changelog = (REPO / "CHANGELOG.md").read_text()
    entry = changelog.split(f"## {release.removeprefix('v')}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"\*\*Schema revision: (\d{4})\.\*\*", entry)
    assert match, f"CHANGELOG.md names no schema revision for {release}"
    return match.group(1)


def _differences(url: str) -> list[object]:
    """What the upgraded schema lacks, or has beyond, what tables.py declares."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _revision(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.scalar(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def test_head_is_the_newest_script_and_the_history_is_one_line() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "holdall.metadata:migrations")
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [HEAD]
    assert [s.revision for s in scripts.walk_revisions()][-1] == BASELINE
    assert known_revisions() == {s.revision for s in scripts.walk_revisions()}


def _journal_mode(url: str) -> str:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


def test_a_new_database_gets_exactly_the_schema_of_the_models(database_url: str) -> None:
    Client().list_artifact_stores()
    assert _revision(database_url) == HEAD
    assert _differences(database_url) == []
    if database_url.startswith("sqlite"):
        assert _journal_mode(database_url) == "wal"


def test_a_database_of_each_release_upgrades_in_place_with_its_data(
    legacy: LegacyDatabase, release: str
) -> None:
    made_by = _revision(legacy.url) if release != "v0.1.0" else None  # 0.1.0 recorded none
    if made_by is not None:
        assert made_by == _revision_of(release)
    first = holdall_process("artifact", "list", "-o", "json")
    assert first.code == 0, first.err
    if made_by != HEAD:
        assert f"from schema revision {made_by or BASELINE} to {HEAD}" in first.err
    listed = {a["name"]: a["versions"] for a in json.loads(first.out)}
    expected = {"config": 2, "blob": 1, "matrix": 1, "tree": 1, "numbers": 1, "sum": 1}
    if legacy.url.startswith("sqlite") and release == "v0.1.0":
        expected["orphan"] = 1
    assert listed == expected
    assert _revision(legacy.url) == HEAD
    assert _differences(legacy.url) == []
    if legacy.url.startswith("sqlite"):
        assert _journal_mode(legacy.url) == "wal"  # 0.1.0 used a rollback journal

    again = holdall_process("artifact", "list")
    assert again.code == 0 and "upgraded" not in again.err

    # Every old version still loads, verified against the checksums the release recorded.
    client = Client()
    for (name, version), value in SAVED.items():
        assert client.load_artifact(name, version) == value
    assert client.load_artifact("matrix").tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    tree = client.load_artifact("tree")
    assert (tree / "a.txt").read_text() == "alpha\n"
    assert (tree / "sub" / "b.bin").read_bytes() == bytes(range(256))
    assert client.load_artifact_version(client.get_artifact_version("sum")) == 6
    lineage = holdall_process("artifact", "lineage", "sum")
    assert lineage.code == 0 and "numbers:1" in lineage.out, lineage.out

    # The stored secret still opens with the key it was sealed with, and stays masked.
    described = json.loads(holdall_process("artifact-store", "describe", "cloud", "-o", "json").out)
    assert described["config"]["aws_secret_access_key"] == "[HIDDEN]"
    cloud = client.artifact_store(client.get_artifact_store("cloud"))
    assert cloud.config.aws_secret_access_key.get_secret_value() == "fixture-secret-9876"  # type: ignore[attr-defined]

    # New work goes on beside the old.
    assert client.save_artifact({"learning_rate": 0.01}, "config").version == 3
    assert client.active_stack_model.name == "legacy"


# PostgreSQL refused the deletion that orphaned them, so only SQLite has such versions.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("release", ["v0.1.0"])  # a database to upgrade
def test_versions_orphaned_by_0_1_0_get_their_store_back(legacy: LegacyDatabase) -> None:
    client = Client()
    assert client.load_artifact("orphan") == "left behind"
    recovered = [s for s in client.list_artifact_stores() if s.name.startswith("recovered-")]
    assert [(s.flavor, s.path) for s in recovered] == [("local", str(legacy.orphan_store))]
    database = legacy.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("release", ["v0.1.0"])  # a database to upgrade
def test_processes_opening_an_old_database_together_upgrade_it_once(
    legacy: LegacyDatabase,
) -> None:
    results = race([["artifact", "list", "-o", "json"] for _ in range(6)])
    assert [r.code for r in results] == [0] * 6, [r.err for r in results]
    assert sum(UPGRADED in r.err for r in results) == 1, [r.err for r in results]
    assert all(len(json.loads(r.out)) >= 6 for r in results)
    engine = create_engine(legacy.url)
    try:
        with engine.connect() as connection:
            upgrades = connection.execute(text("SELECT revision FROM schema_upgrades")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in upgrades] == [(HEAD,)]


def _fingerprint(url: str) -> str:
    if url.startswith("sqlite"):  # what it holds: folding the log in changes its bytes
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return "\n".join(connection.iterdump())
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = [
                connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                for table in ("alembic_version", "schema_upgrades", "stack_components")
            ]
    finally:
        engine.dispose()
    return repr(rows)


def test_a_database_from_a_newer_holdall_is_refused_and_left_alone(database_url: str) -> None:
    Client().list_artifact_stores()
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        connection.execute(
            text(
                "INSERT INTO schema_upgrades (revision, holdall_version, upgraded) "
                "VALUES ('9999', '7.3.0', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    before = _fingerprint(database_url)
    for command in (["artifact", "list"], ["db", "upgrade"], ["stack", "list"]):
        err = error_of(holdall_process(*command))
        assert "was upgraded by holdall 7.3.0 (schema revision 9999)" in err
        assert "fix: upgrade holdall: pip install --upgrade holdall" in err
    status = holdall_process("db", "status", "-o", "json")
    assert json.loads(status.out)["state"].startswith("newer than this holdall")
    assert _fingerprint(database_url) == before
    if database_url.startswith("sqlite"):
        assert _journal_mode(database_url) == "wal"  # as it was made; nothing switched it


@pytest.mark.parametrize("release", ["v0.1.0"])  # a database to upgrade
def test_the_automatic_upgrade_can_be_turned_off(legacy: LegacyDatabase) -> None:
    off = {"HOLDALL_DB_AUTO_UPGRADE": "0"}
    err = error_of(holdall_process("artifact", "list", env=off))
    assert f"is at schema revision {BASELINE} and this holdall needs {HEAD}" in err
    assert "fix: holdall db upgrade" in err
    status = json.loads(holdall_process("db", "status", "-o", "json", env=off).out)
    assert status["state"] == "needs upgrade: holdall db upgrade"
    assert status["current revision"].startswith(BASELINE)

    upgraded = holdall_process("db", "upgrade", env=off)
    assert upgraded.code == 0, upgraded.err
    assert f"from revision {BASELINE} to {HEAD}" in upgraded.out
    listed = holdall_process("artifact", "list", env=off)
    assert listed.code == 0 and "config" in listed.out
    assert "up to date" in holdall_process("db", "upgrade", env=off).out
    status = json.loads(holdall_process("db", "status", "-o", "json").out)
    assert status["state"] == "up to date" and status["last upgraded by"].startswith("holdall ")


@pytest.mark.parametrize("release", ["v0.1.0"])  # a database to upgrade
def test_a_switch_that_is_neither_on_nor_off_is_named(legacy: LegacyDatabase) -> None:
    err = error_of(holdall_process("artifact", "list", env={"HOLDALL_DB_AUTO_UPGRADE": "maybe"}))
    assert "HOLDALL_DB_AUTO_UPGRADE='maybe' is neither on nor off" in err


def test_db_status_on_a_new_machine_creates_nothing(config_dir: Path) -> None:
    status = holdall_process("db", "status", "-o", "json")
    assert status.code == 0, status.err
    assert json.loads(status.out)["state"] == "empty (created on first use)"
    assert not config_dir.exists()


def test_sqlite_enforces_foreign_keys(config_dir: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    from holdall.metadata.tables import StackRow

    database = Database(f"sqlite:///{config_dir / 'holdall.db'}")
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), database.session() as session:
        session.add(StackRow(name="dangling", artifact_store_id="no-such-store"))
