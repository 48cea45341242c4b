"""Storage classes per version on S3 (moto models classes, RestoreObject and GET of an
archived object): moving a version in place, the archived load named with its restore, the
restore itself, and what a local store or an unknown class is told."""

from __future__ import annotations

import json

import pytest

from holdall import Client
from holdall.artifact_stores.failures import StoreUnavailableError
from holdall.errors import ConfigError, StateError
from tests.fixtures.integrations import require
from tests.fixtures.moto import S3Server
from tests.integrations.s3.test_s3_store import s3_stack

require("holdall_s3")
MARKER = "zenml-artifacts/.holdall-store.json"


def _classes(server: S3Server, bucket: str, uri: str, files: dict) -> set[str]:
    s3 = server.client()
    prefix = uri.removeprefix(f"s3://{bucket}/")
    heads = [s3.head_object(Bucket=bucket, Key=f"{prefix}/{path}") for path in files]
    return {head.get("StorageClass", "STANDARD") for head in heads}


def test_a_version_moves_to_another_class_in_place_and_still_loads(
    s3_server: S3Server, cli, tmp_path
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    tree = tmp_path / "model"
    tree.mkdir()
    for name in ("weights.bin", "config.json"):
        (tree / name).write_bytes(name.encode() * 1000)
    saved = client.save_artifact(tree, "model")
    client.save_artifact(b"stays", "model")
    moved = cli("artifact", "version", "update", "model", "1", "--storage-class", "standard_ia")
    assert moved.code == 0, moved.err
    assert "model:1 is in storage class STANDARD_IA" in moved.out
    assert _classes(s3_server, bucket, saved.uri, saved.files) == {"STANDARD_IA"}
    head = s3_server.client().head_object(Bucket=bucket, Key=MARKER)
    assert head.get("StorageClass", "STANDARD") == "STANDARD"  # the store's own record stays
    loaded = client.load_artifact("model", 1)  # the same bytes: its checksums still hold
    assert (loaded / "weights.bin").read_bytes() == b"weights.bin" * 1000
    described = json.loads(cli("artifact", "describe", "model:1", "-o", "json").out)
    assert described["storage_class"] == "STANDARD_IA"
    usage = json.loads(cli("artifact-store", "usage", "s3_store", "-o", "json").out)
    assert usage[0]["classes"] == {"STANDARD_IA": saved.size, "own": 5}
    again = cli("artifact", "version", "update", "model", "1", "--storage-class", "STANDARD_IA")
    assert again.code == 0, again.err  # already there: nothing to do, no error


def test_a_large_object_moves_class_through_a_multipart_copy_keeping_its_encryption(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """s3fs copies an object over 150 MiB in parts (S3 copies at most 5 GiB in one call):
    its threshold lowered, a 9 MiB object takes that path here."""
    import s3fs.core

    monkeypatch.setattr(s3fs.core, "MANAGED_COPY_THRESHOLD", 8 * 2**20)
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, sse="AES256")
    payload = bytes(range(256)) * (9 * 2**12)
    saved = client.save_artifact(payload, "weights")
    client.set_artifact_version_storage_class("weights", 1, "GLACIER_IR")
    prefix = saved.uri.removeprefix(f"s3://{bucket}/")
    (path,) = saved.files
    head = s3_server.client().head_object(Bucket=bucket, Key=f"{prefix}/{path}")
    assert head["StorageClass"] == "GLACIER_IR"
    assert head["ETag"].strip('"').endswith("-1")  # made by a multipart copy of one part
    assert head["ServerSideEncryption"] == "AES256"
    assert client.load_artifact("weights", 1) == payload


def test_an_archived_version_names_its_restore_and_loads_once_restored(
    s3_server: S3Server, cli
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    client.save_artifact({"kept": "for years"}, "ledger")
    client.set_artifact_version_storage_class("ledger", 1, "GLACIER")
    with pytest.raises(StoreUnavailableError) as caught:
        client.load_artifact("ledger", 1)
    message = str(caught.value)
    assert message.startswith("ledger:1 is archived in GLACIER:"), message
    assert "holdall artifact version restore ledger 1 --wait" in message
    asked = cli("artifact", "version", "restore", "ledger", "1", "--days", "2")
    assert asked.code == 0, asked.err
    assert "Asked to restore 1 file(s) of ledger:1 for 2 day(s)" in asked.out
    waited = cli("artifact", "version", "restore", "ledger", "1", "--wait", "--timeout", "60")
    # moto restores at once (S3 takes hours): the second ask finds it restored.
    assert waited.code == 0 and "ledger:1 is restored already" in waited.out, waited.err
    assert client.load_artifact("ledger", 1) == {"kept": "for years"}
    state = client.wait_for_restore("ledger", 1, timeout_s=60)
    assert state.readable == state.files == 1


def test_bad_classes_and_stores_without_classes_are_refused(s3_server: S3Server, cli) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    client.save_artifact(1, "x")
    unknown = cli("artifact", "version", "update", "x", "1", "--storage-class", "COLDLINE")
    assert unknown.code == 1 and "S3 has no storage class 'COLDLINE'" in unknown.err
    assert "STANDARD_IA" in unknown.err and "Traceback" not in unknown.err
    with pytest.raises(StateError, match="x:1 is not archived"):
        client.restore_artifact_version("x", 1)
    local = Client()
    local.activate_stack("default")
    local.save_artifact(2, "on_disk")
    with pytest.raises(ConfigError, match="which has one storage class"):
        local.set_artifact_version_storage_class("on_disk", 1, "GLACIER")
    missing = cli("artifact", "version", "restore", "x", "9")
    assert missing.code == 1 and "has no version 9" in missing.err


def test_prune_with_a_storage_class_moves_what_the_rules_let_go(s3_server: S3Server, cli) -> None:
    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    for number in range(4):
        client.save_artifact(f"day {number}".encode(), "metrics")
    client.update_artifact_version("metrics", 1, ["baseline"])
    tier = ("artifact", "prune", "--keep-last", "1", "--storage-class", "GLACIER_IR")
    dry = cli(*tier, "--dry-run")
    assert dry.code == 0, dry.err
    assert "would move metrics:3" in dry.out and "would move metrics:2" in dry.out
    assert "keep metrics:1 where it is: tagged baseline" in dry.out
    moved = cli(*tier, "-y")
    assert moved.code == 0, moved.err
    assert sorted(line for line in moved.out.splitlines() if line.startswith("Moved")) == [
        "Moved metrics:2 to GLACIER_IR",
        "Moved metrics:3 to GLACIER_IR",
    ]
    classes = {v.version: v.storage_class for v in client.list_artifact_versions("metrics")}
    assert classes == {1: None, 2: "GLACIER_IR", 3: "GLACIER_IR", 4: None}
    assert client.load_artifact("metrics", 2) == b"day 1"  # instant retrieval: read as it is
    again = cli(
        "artifact", "prune", "--keep-last", "1", "--storage-class", "GLACIER_IR", "--dry-run"
    )
    assert "keep metrics:2 where it is: in GLACIER_IR already" in again.out


def test_waiting_for_a_restore_reports_progress_and_is_bounded(s3_server: S3Server) -> None:
    """moto restores at once; S3 takes hours. The wait's own loop is shown here with a store
    that reports its one file restoring for the first three polls (its other calls real)."""
    from holdall_s3.store import S3ArtifactStore

    from holdall.artifacts.tiers import wait_until_readable
    from holdall.errors import HoldallError

    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket)
    version = client.save_artifact(b"slow to come back", "cold")
    store = client.active_stack.artifact_store
    assert isinstance(store, S3ArtifactStore)

    class SlowRestore(S3ArtifactStore):
        polls = 0

        def restore_state(self, path: str) -> str:
            SlowRestore.polls += 1
            return "restoring" if SlowRestore.polls <= 3 else super().restore_state(path)

    slow = SlowRestore(store.config, name=store.name, id=store.id)
    seen: list[tuple[int, int]] = []
    pauses: list[float] = []
    state = wait_until_readable(
        slow, version, 3600, lambda s, waited: seen.append((s.readable, s.files)), pauses.append
    )
    assert state.readable == 1 and seen == [(0, 1), (0, 1), (0, 1), (1, 1)]
    assert pauses == [1.0, 2.0, 4.0]  # growing pauses between polls
    SlowRestore.polls = 0
    with pytest.raises(HoldallError) as caught:
        wait_until_readable(slow, version, 0, sleep=pauses.append)
    assert "cold:1 is still being restored after" in str(caught.value)
    assert "--wait --timeout" in str(caught.value)


def test_a_lifecycle_rule_for_the_store_s_folder_keeps_every_other_rule(
    s3_server: S3Server, cli
) -> None:
    bucket = s3_server.new_bucket()
    s3_stack(s3_server, bucket)
    s3 = s3_server.client()
    theirs = {
        "ID": "logs-expire",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Expiration": {"Days": 7},
    }
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [theirs]})
    args = ("artifact-store", "lifecycle", "s3_store", "--transition", "30:standard_ia",
            "--transition", "180:GLACIER")  # fmt: skip
    dry = cli(*args, "--dry-run")
    assert dry.code == 0, dry.err
    assert "Would add the lifecycle rules of 's3_store'" in dry.out and '"Days": 180' in dry.out
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 1
    added = cli(*args)
    assert added.code == 0 and "Added the lifecycle rules of 's3_store'" in added.out, added.err
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["logs-expire"]["Expiration"] == {"Days": 7}  # theirs, kept
    (ours,) = [rule for name, rule in rules.items() if name.startswith("holdall-")]
    assert ours["Filter"]["And"]["Prefix"] == "zenml-artifacts/"
    # Written with "ObjectSizeGreaterThan": 131072 beside the prefix (the marker stays in
    # STANDARD), which moto drops from what it keeps: the dry run above shows it written.
    assert '"ObjectSizeGreaterThan": 131072' in dry.out
    assert [(t["Days"], t["StorageClass"]) for t in ours["Transitions"]] == [
        (30, "STANDARD_IA"),
        (180, "GLACIER"),
    ]
    same = cli(*args)
    assert "are as asked already" in same.out
    removed = cli("artifact-store", "lifecycle", "s3_store", "--remove")
    assert removed.code == 0 and "Removed the lifecycle rules of 's3_store'" in removed.out
    left = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [rule["ID"] for rule in left] == ["logs-expire"]
    for bad, words in [
        ("30", "is not DAYS:CLASS"),
        ("x:GLACIER", "is not DAYS:CLASS"),
        ("30:NEARLINE", "S3 has no storage class 'NEARLINE'"),
    ]:
        refused = cli("artifact-store", "lifecycle", "s3_store", "--transition", bad)
        assert refused.code == 1 and words in refused.err, (bad, refused.err)
    falling = cli(*args[:3], "--transition", "90:GLACIER", "--transition", "30:STANDARD_IA")
    assert falling.code == 1 and "the days must rise" in falling.err
    local = cli("artifact-store", "lifecycle", "default", "--transition", "30:GLACIER")
    assert local.code == 1 and "has one storage class" in local.err


def test_a_step_whose_input_is_archived_fails_before_it_runs_naming_it(s3_server: S3Server) -> None:
    """A store that saves into GLACIER: the first step's output is archived as soon as it is
    saved, so the next step cannot be given it."""
    from holdall import pipeline
    from holdall.pipelines.runner import StepFailedError
    from tests.fixtures.pipelines import make_numbers, total

    @pipeline
    def archived_pipeline():
        total(make_numbers())

    bucket = s3_server.new_bucket()
    client = s3_stack(s3_server, bucket, storage_class="GLACIER")
    with pytest.raises(StepFailedError) as caught:
        archived_pipeline()
    message = str(caught.value)
    assert "step 'total' of run" in message and "numbers:1 is archived" in message, message
    assert "holdall artifact version restore numbers 1 --wait" in message
    steps = caught.value.run.steps
    assert steps["total"].status == "failed" and not steps["total"].outputs  # it never ran
    client.restore_artifact_version("numbers", 1)
    assert client.load_artifact("numbers", 1) == {"values": [1, 2, 3]}
