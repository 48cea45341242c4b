"""The s3 store: the config mapped onto s3fs, and what botocore's errors mean (the only module
here that imports an SDK). Spooling, parts, parallel reads and the wording of failures are the
core's (holdall.artifact_stores.object_store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

from holdall.artifact_stores.failures import Failure
from holdall.artifact_stores.object_store import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PART_SIZE,
    FILESYSTEM_OPTIONS,
    ObjectArtifactStore,
)
from holdall.waits import exponential_backoff
from holdall_s3.flavor import S3Config, StorageClass

# botocore alone tries a request again (`retries`): s3fs's tries around botocore's would
# multiply every wait on a stalled endpoint. A body cut off mid-read, which botocore has
# handed over by then, is read again by the core (Failure.CUT).
S3FS_TRIES = 1
# botocore's standard retry mode sleeps up to 2**(k-1) s (at most 20) before try k + 1; s3fs
# sleeps 0.1 s after its one try fails.
BOTOCORE_BACKOFF = exponential_backoff(1.0, 2.0, 20.0)
S3FS_SLEEP = 0.1
MISSING_CODES = frozenset({"NoSuchBucket"})
SMALLEST_TIERED = 128 * 1024  # bytes: a lifecycle rule leaves smaller objects where they are
ARCHIVED_CODES = frozenset({"InvalidObjectState"})  # GLACIER, DEEP_ARCHIVE: restore first
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
REFUSED_CODES = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",  # STS's, for a key it does not know
        "InvalidToken",
        "SignatureDoesNotMatch",
        "403",
    }
)


def filesystem_kwargs(config: S3Config) -> dict[str, Any]:
    """s3fs's arguments for a config: what dvc-s3 does, and no more."""
    client_kwargs = dict(config.client_kwargs)
    if config.region:
        client_kwargs["region_name"] = config.region
    config_kwargs = {
        # Bounded waits: a stalled endpoint fails after its tries, never hangs.
        "connect_timeout": config.connect_timeout,
        "read_timeout": config.read_timeout,
        # total_max_attempts counts every try; botocore reads `max_attempts` here as retries
        # (one try more than the budget the messages state).
        "retries": {"total_max_attempts": config.tries, "mode": "standard"},
        **config.config_kwargs,
    }
    if config.addressing_style:
        config_kwargs["s3"] = {
            **config_kwargs.get("s3", {}),
            "addressing_style": config.addressing_style,
        }
    from s3fs.utils import SSEParams

    encryption = SSEParams(server_side_encryption=config.sse, sse_kms_key_id=config.sse_kms_key_id)
    additional = {**config.s3_additional_kwargs, **encryption.to_kwargs()}
    if config.storage_class:
        additional["StorageClass"] = config.storage_class
    kwargs: dict[str, Any] = {
        "endpoint_url": config.endpoint_url,
        "client_kwargs": client_kwargs,
        "config_kwargs": config_kwargs,
        "s3_additional_kwargs": additional,
        **FILESYSTEM_OPTIONS,
        "default_block_size": config.part_size or DEFAULT_PART_SIZE,
        "max_concurrency": config.max_concurrency or DEFAULT_CONCURRENCY,
    }
    if config.aws_access_key_id and config.aws_secret_access_key:
        kwargs["key"] = config.aws_access_key_id
        kwargs["secret"] = config.aws_secret_access_key.get_secret_value()
        if config.aws_session_token:
            kwargs["token"] = config.aws_session_token.get_secret_value()
    return kwargs


def _what_it_does(rule: dict[str, Any]) -> Any:
    """A lifecycle rule as far as it matters here: enabled, for which folder, moving what
    when (moto drops the size filter from what it keeps)."""
    where = rule.get("Filter", {})
    prefix = where.get("And", {}).get("Prefix", where.get("Prefix"))
    moves = [(t.get("Days"), t.get("StorageClass")) for t in rule.get("Transitions", [])]
    return rule.get("Status"), prefix, moves


class S3ArtifactStore(ObjectArtifactStore):
    config: S3Config
    SERVICE = "S3"

    def make_filesystem(self) -> Any:
        import s3fs

        kwargs = filesystem_kwargs(self.config)
        if self.credentials is not None:
            from holdall_s3.connector import aio_session

            issued = self.credentials()  # from the service connector, renewed by aiobotocore
            kwargs["session"] = aio_session(issued)
            kwargs["endpoint_url"] = kwargs["endpoint_url"] or issued.settings.get("endpoint_url")
            region = issued.settings.get("region")
            if region and "region_name" not in kwargs["client_kwargs"]:
                kwargs["client_kwargs"]["region_name"] = region
        filesystem = s3fs.S3FileSystem(**kwargs)
        filesystem.retries = S3FS_TRIES  # a class setting of s3fs's, not an argument
        return filesystem

    def backoff(self, tries: int) -> float:
        return BOTOCORE_BACKOFF(tries) + S3FS_SLEEP

    def reach_fix(self) -> str:
        return "check --endpoint_url, --region and the network"

    def archive(self) -> str:
        return f"the {self.config.storage_class or 'GLACIER'} storage class"

    def restore_fix(self, path: str) -> str:
        bucket, _, key = path.partition("/")
        return (
            f"aws s3api restore-object --bucket {bucket} --key {key} --restore-request "
            "Days=7, then load it again once restored"
        )

    # Express One Zone is a kind of bucket, not a class an object moves to.
    STORAGE_CLASSES = tuple(c for c in get_args(StorageClass) if c != "EXPRESS_ONEZONE")
    ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")

    def set_storage_class(self, path: str, storage_class: str) -> None:
        target = self.resolve(path)
        if self.storage_class_of(path) == storage_class:
            return  # S3 refuses a copy onto itself that changes nothing
        # A copy onto itself in the new class: one CopyObject, or (s3fs, over 150 MiB; S3
        # copies at most 5 GiB in one call) a multipart copy, whose new upload takes the
        # store's encryption settings as every upload does.
        self.filesystem.cp_file(target, target, StorageClass=storage_class)

    def _head(self, path: str) -> dict[str, Any]:
        bucket, _, key = self.resolve(path).partition("/")
        return dict(self.filesystem.call_s3("head_object", Bucket=bucket, Key=key))

    def storage_class_of(self, path: str) -> str:
        return str(self._head(path).get("StorageClass") or "STANDARD")  # absent: STANDARD

    def request_restore(self, path: str, days: int, speed: str) -> None:
        bucket, _, key = self.resolve(path).partition("/")
        request = {"Days": days, "GlacierJobParameters": {"Tier": speed}}
        self.filesystem.call_s3("restore_object", Bucket=bucket, Key=key, RestoreRequest=request)

    def restore_state(self, path: str) -> str:
        head = self._head(path)
        if head.get("StorageClass") not in self.ARCHIVE_CLASSES:
            return "readable"
        restore = str(head.get("Restore") or "")  # 'ongoing-request="false", expiry-date=...'
        if 'ongoing-request="true"' in restore:
            return "restoring"
        return "restored" if 'ongoing-request="false"' in restore else "archived"

    def upload_file(self, local: str, target: str, part_size: int, tiered: bool) -> None:
        # One parallel multipart upload (s3fs aborts it if it fails): the object appears
        # whole, its parts sent at once.
        plain = not tiered and self.config.storage_class
        standard = {"StorageClass": "STANDARD"} if plain else {}
        self.filesystem.put_file(
            local, target, chunksize=part_size, max_concurrency=self.concurrency, **standard
        )

    def probe(self, filesystem: Any) -> None:
        # A listing of the store's own folder, not head_bucket: credentials limited to a
        # prefix may list that prefix and nothing else.
        prefix = self.config.prefix
        filesystem.call_s3(
            "list_objects_v2",
            Bucket=self.config.bucket,
            Prefix=prefix + "/" if prefix else "",
            MaxKeys=1,
        )

    def list_containers(self, filesystem: Any) -> list[str]:
        # Asked here: s3fs's own listing of buckets answers [] when AWS refuses it.
        listed = filesystem.call_s3("list_buckets")
        return sorted(str(bucket["Name"]) for bucket in listed.get("Buckets", []))

    def read_lifecycle(self) -> tuple[list[Any], Any]:
        try:
            found = self.filesystem.call_s3(
                "get_bucket_lifecycle_configuration", Bucket=self.config.bucket
            )
        except Exception as exc:
            if "NoSuchLifecycleConfiguration" not in str(exc):
                raise
            return [], None
        return list(found.get("Rules", [])), None  # S3 has no version to write against

    def write_lifecycle(self, rules: list[Any], version: Any) -> None:
        bucket = self.config.bucket
        if not rules:  # S3 takes no empty configuration
            self.filesystem.call_s3("delete_bucket_lifecycle", Bucket=bucket)
            return
        self.filesystem.call_s3(
            "put_bucket_lifecycle_configuration",
            Bucket=bucket,
            LifecycleConfiguration={"Rules": rules},
        )

    def own_rules(self, transitions: Sequence[tuple[int, str]]) -> list[Any]:
        return [self._rule(f"holdall-{self.id}", transitions)]

    def is_own_rule(self, rule: Any) -> bool:
        return bool(rule.get("ID") == f"holdall-{self.id}")

    def rule_effect(self, rule: Any) -> Any:
        return _what_it_does(rule)

    def _rule(self, rule_id: str, transitions: Sequence[tuple[int, str]]) -> dict[str, Any]:
        prefix = self.config.prefix
        return {
            "ID": rule_id,
            "Status": "Enabled",
            # The store's folder only, and objects over 128 KiB only (S3's own default for
            # transitions): the store's marker, read by every process, stays readable.
            "Filter": {
                "And": {
                    "Prefix": f"{prefix}/" if prefix else "",
                    "ObjectSizeGreaterThan": SMALLEST_TIERED,
                }
            },
            "Transitions": [{"Days": days, "StorageClass": kind} for days, kind in transitions],
        }

    def remove_files(self, paths: Sequence[str]) -> None:
        # DeleteObjects, a thousand keys a request (s3fs batches them); missing keys are no
        # error to S3.
        if paths:
            self.filesystem.rm([self.resolve(path) for path in paths])

    def discard_incomplete_uploads(self, path: str) -> int:
        bucket, _, prefix = self.resolve(path).partition("/")
        listed = self.filesystem.call_s3(
            "list_multipart_uploads", Bucket=bucket, Prefix=prefix.rstrip("/") + "/"
        )
        uploads = listed.get("Uploads", [])
        for upload in uploads:
            self.filesystem.call_s3(
                "abort_multipart_upload",
                Bucket=bucket,
                Key=upload["Key"],
                UploadId=upload["UploadId"],
            )
        return len(uploads)

    def classify(self, exc: BaseException) -> Failure | None:
        from aiohttp import ClientPayloadError, ServerDisconnectedError
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            IncompleteReadError,
            NoCredentialsError,
            ReadTimeoutError,
            ResponseStreamingError,
        )

        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in MISSING_CODES:
                return Failure.MISSING_CONTAINER
            if code in ARCHIVED_CODES:
                return Failure.ARCHIVED
            if code in EXPIRED_CODES:
                return Failure.EXPIRED
            if code in REFUSED_CODES:
                return Failure.REFUSED
            return None
        if isinstance(exc, NoCredentialsError):
            return Failure.NO_CREDENTIALS
        if isinstance(exc, ReadTimeoutError):
            return Failure.TIMED_OUT
        cut = (ClientPayloadError, ServerDisconnectedError, ConnectionClosedError)
        if isinstance(exc, (*cut, IncompleteReadError, ResponseStreamingError)):
            return Failure.CUT
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
            return Failure.UNREACHABLE
        if isinstance(exc, FileNotFoundError) and "bucket does not exist" in str(exc):
            return Failure.MISSING_CONTAINER  # s3fs's words, its cause dropped
        return super().classify(exc)

    def credential_fix(self) -> str:
        return (
            f"holdall artifact-store update {self.name or 'NAME'} --aws_access_key_id=KEY "
            "--aws_secret_access_key=@FILE, or fix the AWS credentials of this environment"
        )
