"""The gcs store: the config mapped onto gcsfs, GCS's own upload (a resumable upload that
carries the storage class), and what its errors mean. The only module here that imports an
SDK; spooling, parallel reads and the wording of failures are the core's."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from typing import Any, get_args
from urllib.parse import quote

from holdall.artifact_stores.failures import Failure
from holdall.artifact_stores.object_store import FILESYSTEM_OPTIONS, ObjectArtifactStore
from holdall.errors import ConfigError
from holdall.waits import exponential_backoff
from holdall_gcp.flavor import GCSConfig, StorageClass

# gcsfs 2026 asks a gRPC endpoint for every bucket's type ("extended" buckets); against
# anything but Google itself (an emulator, a proxy) each call then retries for a minute. Off,
# unless the user turned it on.
EXTENDED_ENV = "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"
# A project for gcsfs when none is configured: the JSON API wants one only to list or create
# buckets, which a store never does.
DEFAULT_PROJECT = "holdall"
CONTENT_TYPE = "application/octet-stream"
# gcsfs sleeps 2**(k-1) s, plus up to 1, before try k + 1 (at most 32).
GCSFS_BACKOFF = exponential_backoff(1.0, 2.0, 32.0, jitter=1.0)


@functools.cache
def filesystem_class() -> type:
    """gcsfs's filesystem, with its requests tried `retries` + 1 times (gcsfs fixes six
    tries, with waits up to 32 s between them: a minute before an unreachable endpoint is
    reported)."""
    os.environ.setdefault(EXTENDED_ENV, "false")
    # gcsfs logs each failed request with its traceback; with no handler of the program's,
    # Python's last resort would print them on stderr above holdall's own one-line error.
    logging.getLogger("gcsfs").addHandler(logging.NullHandler())
    from gcsfs.core import GCSFileSystem
    from gcsfs.retry import retry_request

    request = GCSFileSystem._request.__wrapped__  # gcsfs's request, without its retries

    class HoldallGCSFileSystem(GCSFileSystem):  # type: ignore[misc]
        holdall_tries = 3

        async def _request(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            tried = retry_request(retries=self.holdall_tries)(request)
            return await tried(self, method, path, *args, **kwargs)

    return HoldallGCSFileSystem


class MissingBucket(FileNotFoundError):
    """The store's bucket answered 404 to a listing: the bucket itself is missing."""


def own_credentials(config: GCSConfig) -> tuple[Any, str | None]:
    """What gcsfs signs in with when no connector gives credentials, and their project.
    Application default ones are looked up here: handed token=None, gcsfs would fall back to
    anonymous access when they fail."""
    import json

    if config.anonymous:
        return "anon", None
    if config.token is not None:
        return json.loads(config.token.get_secret_value()), None  # a service account's key
    return application_default()


def filesystem_kwargs(
    config: GCSConfig, token: Any, project: str | None, endpoint_url: str | None
) -> dict[str, Any]:
    import aiohttp

    timeout = aiohttp.ClientTimeout(
        sock_connect=config.connect_timeout, sock_read=config.read_timeout
    )
    return {
        "project": config.project or project or DEFAULT_PROJECT,
        "token": token,
        "endpoint_url": endpoint_url,
        "default_location": config.location,
        # Bounded waits: a stalled endpoint fails after gcsfs's tries, never hangs. gcsfs
        # hands most requests its `requests_timeout`, which overrides the session's (None
        # there waits for ever); the session's serves the others.
        "requests_timeout": timeout,
        "session_kwargs": {"timeout": timeout},
        **FILESYSTEM_OPTIONS,
    }


def application_default() -> tuple[Any, str | None]:
    """This environment's application default credentials and their project; raises
    google-auth's DefaultCredentialsError when there are none, or they cannot be read."""
    import google.auth

    from holdall_gcp.connector import SCOPES

    credentials, project = google.auth.default(scopes=list(SCOPES))
    return credentials, project


class GCSArtifactStore(ObjectArtifactStore):
    config: GCSConfig
    SERVICE = "GCS"

    def make_filesystem(self) -> Any:
        endpoint_url = self.config.endpoint_url
        if self.credentials is None:
            token, project = own_credentials(self.config)
        else:
            issued = self.credentials()  # from the service connector; gcsfs renews them
            token, project = issued.credentials, issued.settings.get("project")
            endpoint_url = endpoint_url or issued.settings.get("endpoint_url")
        kwargs = filesystem_kwargs(self.config, token, project, endpoint_url)
        filesystem = filesystem_class()(**kwargs)
        filesystem.holdall_tries = self.config.retries + 1
        return filesystem

    def backoff(self, tries: int) -> float:
        return GCSFS_BACKOFF(tries)

    STORAGE_CLASSES = get_args(StorageClass)  # ARCHIVE is read as it is: no restore

    def set_storage_class(self, path: str, storage_class: str) -> None:
        from fsspec.asyn import sync

        filesystem = self.filesystem
        sync(filesystem.loop, self._rewrite, filesystem, self.resolve(path), storage_class)
        filesystem.invalidate_cache(self.resolve(path))

    @staticmethod
    async def _rewrite(filesystem: Any, target: str, storage_class: str) -> None:
        """GCS changes a class by rewriting the object onto itself (a large one in several
        calls, each handing on a token)."""
        bucket, key, _ = filesystem.split_path(target)
        route = "b/{}/o/{}/rewriteTo/b/{}/o/{}"
        token: dict[str, str] = {}
        while True:
            out = await filesystem._call(
                "POST", route, bucket, key, bucket, key,
                json={"storageClass": storage_class}, json_out=True, **token,
            )  # fmt: skip
            if out.get("done", True):
                return
            token = {"rewriteToken": out["rewriteToken"]}

    def read_lifecycle(self) -> tuple[list[Any], Any]:
        bucket = self.filesystem.call(
            "GET", "b/{}", self.config.container, fields="lifecycle,metageneration",
            json_out=True,
        )  # fmt: skip
        return list(bucket.get("lifecycle", {}).get("rule", [])), bucket.get("metageneration")

    def write_lifecycle(self, rules: list[Any], version: Any) -> None:
        # Against the configuration read: a change another tool made meanwhile fails the
        # write (412) instead of being lost. An empty list is how GCS's own client clears.
        match = {"ifMetagenerationMatch": version} if version is not None else {}
        self.filesystem.call(
            "PATCH", "b/{}", self.config.container, json={"lifecycle": {"rule": rules}},
            json_out=True, **match,
        )  # fmt: skip

    def own_rules(self, transitions: Sequence[tuple[int, str]]) -> list[Any]:
        # One rule a class (a GCS rule has one action). GCS has no size condition: the
        # store's marker moves with the rest, and stays readable at once in every GCS class.
        return [
            {
                "action": {"type": "SetStorageClass", "storageClass": kind},
                "condition": {"age": days, "matchesPrefix": [self._own_prefix()]},
            }
            for days, kind in transitions
        ]

    def is_own_rule(self, rule: Any) -> bool:
        condition = rule.get("condition", {})
        return bool(
            rule.get("action", {}).get("type") == "SetStorageClass"
            and set(condition) == {"age", "matchesPrefix"}
            and condition["matchesPrefix"] == [self._own_prefix()]
        )

    def rule_effect(self, rule: Any) -> Any:
        condition = rule.get("condition", {})
        return int(condition.get("age", -1)), rule.get("action", {}).get("storageClass")

    def _own_prefix(self) -> str:
        # A GCS rule has no id: a store's rules are known by their prefix, which a store at
        # the root of its bucket does not have.
        if not self.config.prefix:
            raise ConfigError(
                f"artifact store '{self.name}' is the whole bucket "
                f"{self.config.container}: its lifecycle rules would be the bucket's, and "
                "holdall could not tell them from others",
                fix="set the bucket's rules with GCS's own tools (gcloud storage buckets "
                "update --lifecycle-file)",
            )
        return f"{self.config.prefix}/"

    def storage_class_of(self, path: str) -> str:
        return str(self.filesystem.info(self.resolve(path)).get("storageClass") or "STANDARD")

    def upload_file(self, local: str, target: str, part_size: int, tiered: bool) -> None:
        from fsspec.asyn import sync

        # A resumable upload takes its chunks one after another, never at once: the
        # `max_concurrency` parts another cloud would have in flight go as one chunk (the
        # same bytes in memory, a quarter of the round trips).
        chunk = part_size * self.concurrency
        filesystem = self.filesystem
        sync(filesystem.loop, self._upload, filesystem, local, target, chunk, tiered)

    async def _upload(
        self, filesystem: Any, local: str, target: str, part_size: int, tiered: bool
    ) -> None:
        """One resumable upload in chunks of `part_size`; a failure cancels it, so that no
        object appears."""
        from gcsfs.core import upload_chunk

        bucket, key, _ = filesystem.split_path(target)
        body = {"name": key}
        if self.config.storage_class and tiered:
            body["storageClass"] = self.config.storage_class
        size = os.path.getsize(local)
        if size <= part_size:  # one request, the object's resource and its bytes together
            with open(local, "rb") as source:
                await self._upload_at_once(filesystem, bucket, body, source.read())
            filesystem.invalidate_cache(target)
            return
        headers, _ = await filesystem._call(
            "POST",
            f"{filesystem._location}/upload/storage/v1/b/{quote(bucket)}/o?name={quote(key)}",
            uploadType="resumable",
            json=body,
            headers={"X-Upload-Content-Type": CONTENT_TYPE},
        )
        location = headers["Location"]
        try:
            with open(local, "rb") as source:
                offset = 0
                while offset < size or offset == size == 0:
                    chunk = source.read(part_size)
                    await upload_chunk(filesystem, location, chunk, offset, size, CONTENT_TYPE)
                    offset += len(chunk)
                    if not chunk:
                        break
        except BaseException:
            await filesystem._call("DELETE", location)
            raise
        filesystem.invalidate_cache(target)

    @staticmethod
    async def _upload_at_once(
        filesystem: Any, bucket: str, resource: dict[str, str], data: bytes
    ) -> None:
        """GCS's multipart upload: the object's resource (its name, its storage class) and
        its bytes in one request."""
        import json

        boundary = os.urandom(16).hex()
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                json.dumps(resource).encode(),
                f"\r\n--{boundary}\r\nContent-Type: {CONTENT_TYPE}\r\n\r\n".encode(),
                data,
                f"\r\n--{boundary}--".encode(),
            ]
        )
        await filesystem._call(
            "POST",
            f"{filesystem._location}/upload/storage/v1/b/{quote(bucket)}/o",
            uploadType="multipart",
            headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
            data=body,
        )

    def probe(self, filesystem: Any) -> None:
        # A listing of the store's own folder: credentials limited to it may list it.
        prefix = self.config.prefix
        try:
            filesystem.call(
                "GET",
                "b/{}/o",
                self.config.container,
                prefix=prefix + "/" if prefix else "",
                maxResults=1,
                json_out=True,
            )
        except FileNotFoundError:
            raise MissingBucket(self.config.container) from None

    def classify(self, exc: BaseException) -> Failure | None:
        import aiohttp
        from gcsfs.retry import HttpError
        from google.auth.exceptions import DefaultCredentialsError, RefreshError, TransportError

        if isinstance(exc, MissingBucket):
            return Failure.MISSING_CONTAINER
        if isinstance(exc, DefaultCredentialsError):
            return Failure.NO_CREDENTIALS
        if isinstance(exc, HttpError) and exc.code in (401, 403):
            return Failure.REFUSED
        if isinstance(exc, TransportError):  # signing in: the token endpoint, not reached
            return Failure.SIGN_IN_UNREACHABLE
        if isinstance(exc, RefreshError):
            return Failure.EXPIRED if "expired" in str(exc).lower() else Failure.REFUSED
        if isinstance(exc, aiohttp.ClientConnectorError):
            return Failure.UNREACHABLE
        if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
            return Failure.CUT
        if isinstance(exc, FileNotFoundError) and "bucket does not exist" in str(exc):
            return Failure.MISSING_CONTAINER
        return super().classify(exc)

    def credential_fix(self) -> str:
        name = self.name or "NAME"
        return (
            f"holdall artifact-store update {name} --token=@key.json (a service account's "
            "key), or fix the application default credentials of this environment (for a "
            f"public bucket or an emulator, no credentials: holdall artifact-store update "
            f"{name} --token=anon)"
        )
