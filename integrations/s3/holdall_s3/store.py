"""The s3 store: the config mapped onto s3fs (the only module here that imports an SDK)."""

from __future__ import annotations

from typing import Any

from holdall.artifact_stores.base import BaseArtifactStore
from holdall.errors import HoldallError
from holdall_s3.flavor import S3Config

DEFAULT_PART_SIZE = 8 * 1024 * 1024
# Parts in flight at once: each holds a part in memory (and botocore a copy or two of it),
# so this bounds what an upload costs in memory: about 40 MiB with 8 MiB parts.
DEFAULT_CONCURRENCY = 2


class StoreUnavailableError(HoldallError):
    pass


def filesystem_kwargs(config: S3Config) -> dict[str, Any]:
    """s3fs's arguments for a config: what dvc-s3 does, and no more."""
    client_kwargs = dict(config.client_kwargs)
    if config.region:
        client_kwargs["region_name"] = config.region
    config_kwargs = dict(config.config_kwargs)
    if config.addressing_style:
        config_kwargs["s3"] = {
            **config_kwargs.get("s3", {}),
            "addressing_style": config.addressing_style,
        }
    additional = dict(config.s3_additional_kwargs)
    if config.sse:
        additional["ServerSideEncryption"] = config.sse
    if config.sse_kms_key_id:
        additional["SSEKMSKeyId"] = config.sse_kms_key_id
    kwargs: dict[str, Any] = {
        "endpoint_url": config.endpoint_url,
        "client_kwargs": client_kwargs,
        "config_kwargs": config_kwargs,
        "s3_additional_kwargs": additional,
        # One filesystem per store: fsspec's instance cache would share clients (and
        # credentials) between stores that happen to have equal arguments.
        "skip_instance_cache": True,
    }
    if config.aws_access_key_id and config.aws_secret_access_key:
        kwargs["key"] = config.aws_access_key_id
        kwargs["secret"] = config.aws_secret_access_key.get_secret_value()
        if config.aws_session_token:
            kwargs["token"] = config.aws_session_token.get_secret_value()
    # boto3's own default part size; s3fs would buffer 50 MiB per open file.
    kwargs["default_block_size"] = config.multipart_chunksize or DEFAULT_PART_SIZE
    kwargs["max_concurrency"] = config.max_concurrency or DEFAULT_CONCURRENCY
    return kwargs


class S3ArtifactStore(BaseArtifactStore):
    config: S3Config

    def make_filesystem(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(**filesystem_kwargs(self.config))

    def upload(self, local: str, target: str) -> None:
        # One parallel multipart upload: the object appears whole, its parts sent at once.
        self.filesystem.put_file(
            local,
            target,
            chunksize=self.config.multipart_chunksize or DEFAULT_PART_SIZE,
            max_concurrency=self.config.max_concurrency or DEFAULT_CONCURRENCY,
        )

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

    def _has_directories(self) -> bool:
        return False

    def check_access(self, filesystem: Any) -> None:
        from botocore.exceptions import BotoCoreError

        bucket = self.config.bucket
        where = f" at {self.config.endpoint_url}" if self.config.endpoint_url else ""
        label = f"artifact store '{self.name}'" if self.name else "the artifact store"
        try:
            filesystem.call_s3("head_bucket", Bucket=bucket)
        except FileNotFoundError:
            raise StoreUnavailableError(
                f"bucket '{bucket}' of {label} does not exist{where}",
                fix=f"create the bucket, or point the store at another: holdall artifact-store "
                f"update {self.name or 'NAME'} --path=s3://BUCKET/PREFIX",
            ) from None
        except PermissionError as exc:
            raise StoreUnavailableError(
                f"S3{where} refused the credentials of {label} for bucket '{bucket}' ({exc})",
                fix=f"holdall artifact-store update {self.name or 'NAME'} "
                "--aws_access_key_id=KEY --aws_secret_access_key=@FILE, or fix the AWS "
                "credentials of this environment",
            ) from None
        except (OSError, BotoCoreError) as exc:
            raise StoreUnavailableError(
                f"cannot reach bucket '{bucket}' of {label}{where}: {exc}",
                fix="check --endpoint_url, the region and the network",
            ) from None
