"""The azure store: adlfs over the client access.py builds, Azure's own block upload (blocks
staged `max_concurrency` at a time, then committed with the access tier), and what its errors
mean. Spooling, parallel reads and the wording of failures are the core's."""

from __future__ import annotations

import asyncio
import base64
import functools
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar, get_args

from holdall.artifact_stores.failures import Failure, StoreUnavailableError, exception_chain
from holdall.artifact_stores.object_store import FILESYSTEM_OPTIONS, ObjectArtifactStore
from holdall.errors import HoldallError
from holdall_azure.access import ACCOUNT_SETTINGS, AzureAccess, blob_service, retry_backoff
from holdall_azure.flavor import AccessTier, AzureConfig, split_location

T = TypeVar("T")

# adlfs marks each blob it writes as a file (its own folders are blobs marked otherwise).
FILE_METADATA = {"is_directory": "false"}


@functools.cache
def filesystem_class() -> type:
    """adlfs's filesystem over a client built here (adlfs builds its own with the SDK's
    retries and no timeouts, and only `https://` for an account host)."""
    from adlfs import AzureBlobFileSystem

    class HoldallAzureFileSystem(AzureBlobFileSystem):  # type: ignore[misc]
        def __init__(self, *, make_client: Any, **kwargs: Any) -> None:
            self.make_client = make_client
            super().__init__(**kwargs)

        def do_connect(self) -> None:
            self.service_client = self.make_client()

    return HoldallAzureFileSystem


class AzureArtifactStore(ObjectArtifactStore):
    config: AzureConfig
    SERVICE = "Azure Blob Storage"

    def filesystem_path(self, location: str) -> str:
        # adlfs names a blob "container/path": the account is the client's, not the path's.
        container, _, inside = split_location(location)
        return f"{container}/{inside}" if inside else container

    @functools.cached_property
    def access(self) -> AzureAccess:
        """Made once: a connector's handout is one per store (azure-core renews its tokens),
        and a failure's words look at the same one."""
        if self.credentials is None:
            return AzureAccess.of_config(self.config)
        issued = self.credentials()  # from the service connector; azure-core renews tokens
        assert isinstance(issued, AzureAccess)
        return issued.for_store(self.config)

    def make_filesystem(self) -> Any:
        access = self.access
        config = self.config
        return filesystem_class()(
            make_client=lambda: blob_service(access, config),
            account_name=access.account,
            credential=access.token_credential,  # adlfs closes it with the filesystem
            anon=True,  # adlfs would otherwise build credentials of its own
            connection_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            max_concurrency=self.concurrency,
            **FILESYSTEM_OPTIONS,
        )

    @property
    def endpoint(self) -> str | None:
        # A connector's credentials are asked for at first use, never for a message.
        if self.credentials is not None and "access" not in vars(self):
            return None
        try:
            return self.access.account_url
        except HoldallError:
            return None

    # -- uploads ----------------------------------------------------------------------------

    def upload_file(self, local: str, target: str, part_size: int, tiered: bool) -> None:
        from fsspec.asyn import sync

        filesystem = self.filesystem
        container, _, key = target.partition("/")
        tier = self.tier() if tiered else None
        sync(filesystem.loop, self._upload, filesystem, local, container, key, part_size, tier)
        filesystem.invalidate_cache(target)

    STORAGE_CLASSES = get_args(AccessTier)
    ARCHIVE_CLASSES = ("Archive",)

    def _blob_call(self, path: str, call: Callable[[Any], Awaitable[T]]) -> T:
        from fsspec.asyn import sync

        filesystem = self.filesystem
        container, _, key = self.resolve(path).partition("/")

        async def run() -> T:
            blob = filesystem.service_client.get_blob_client(container, key)
            async with blob:
                return await call(blob)

        with self.translated():
            result: T = sync(filesystem.loop, run)
        return result

    def set_storage_class(self, path: str, storage_class: str) -> None:
        from azure.storage.blob import StandardBlobTier

        tier = StandardBlobTier(storage_class)
        self._blob_call(path, lambda blob: blob.set_standard_blob_tier(tier))

    def _properties(self, path: str) -> Any:
        return self._blob_call(path, lambda blob: blob.get_blob_properties())

    def storage_class_of(self, path: str) -> str:
        return str(self._properties(path).blob_tier or "Hot")

    def request_restore(self, path: str, days: int, speed: str) -> None:
        # Rehydration moves the blob out of Archive for good (Azure has no temporary
        # copy): to Hot; `days` has no meaning here.
        from azure.storage.blob import StandardBlobTier

        priority = "High" if speed.lower() in ("high", "expedited") else "Standard"
        self._blob_call(
            path,
            lambda blob: blob.set_standard_blob_tier(
                StandardBlobTier.HOT, rehydrate_priority=priority
            ),
        )

    def restore_state(self, path: str) -> str:
        properties = self._properties(path)
        if str(properties.archive_status or "").startswith("rehydrate-pending"):
            return "restoring"
        return "archived" if properties.blob_tier == "Archive" else "readable"

    def tier(self) -> Any:
        """The store's access tier, or None for the account's default."""
        from azure.storage.blob import StandardBlobTier

        return StandardBlobTier(self.config.access_tier) if self.config.access_tier else None

    async def _upload(
        self, filesystem: Any, local: str, container: str, key: str, part_size: int, tier: Any
    ) -> None:
        """One block blob: a file up to one block in a single request; a larger one as
        blocks, `concurrency` in flight, committed once all are staged. Until the commit no
        blob appears (Azure drops uncommitted blocks itself)."""
        size = os.path.getsize(local)
        blob = filesystem.service_client.get_blob_client(container, key)
        async with blob:
            if size <= part_size:
                with open(local, "rb") as source:
                    data = source.read()
                await blob.upload_blob(
                    data, overwrite=True, standard_blob_tier=tier, metadata=FILE_METADATA
                )
                return
            ids = await _stage_blocks(blob, local, size, part_size, self.concurrency)
            await blob.commit_block_list(ids, standard_blob_tier=tier, metadata=FILE_METADATA)

    def discard_incomplete_uploads(self, path: str) -> int:
        """Blobs under `path` with staged blocks and nothing committed (a killed upload):
        Azure keeps such blocks a week; committing an empty list drops them, and the empty
        blob that makes is deleted. gc calls this only for saves whose process is gone."""
        from fsspec.asyn import sync

        filesystem = self.filesystem
        container_name, _, prefix = self.resolve(path).partition("/")
        container = filesystem.service_client.get_container_client(container_name)
        under = prefix.rstrip("/") + "/"

        async def discard() -> int:
            committed = {b.name async for b in container.list_blobs(name_starts_with=under)}
            listed = container.list_blobs(name_starts_with=under, include=["uncommittedblobs"])
            pending = [b.name async for b in listed if b.name not in committed]
            for name in pending:
                async with container.get_blob_client(name) as blob:
                    await blob.commit_block_list([])
                    await blob.delete_blob()
            return len(pending)

        with self.translated():
            return int(sync(filesystem.loop, discard))

    # -- access and failures ----------------------------------------------------------------

    def backoff(self, tries: int) -> float:
        return retry_backoff(tries)

    def reach_fix(self) -> str:
        return f"check the account ({ACCOUNT_SETTINGS}) and the network"

    def probe(self, filesystem: Any) -> None:
        # A listing of the store's own folder: a SAS or a role limited to one container may
        # list it and nothing else.
        from fsspec.asyn import sync

        prefix = self.config.prefix

        async def first_blob() -> None:
            container = filesystem.service_client.get_container_client(self.config.container)
            pages = container.list_blobs(
                name_starts_with=prefix + "/" if prefix else None, results_per_page=1
            ).by_page()
            async for page in pages:
                async for _ in page:
                    break
                break

        sync(filesystem.loop, first_blob)

    def list_containers(self, filesystem: Any) -> list[str]:
        # Asked of the SDK: adlfs reads its listing back from its cache, which is off here.
        from fsspec.asyn import sync

        async def names() -> list[str]:
            return [str(c.name) async for c in filesystem.service_client.list_containers()]

        return sorted(sync(filesystem.loop, names))

    def archive(self) -> str:
        return "the Archive tier"

    def restore_fix(self, path: str) -> str:
        container, _, name = path.partition("/")
        return (
            f"az storage blob set-tier --tier Hot --rehydrate-priority Standard --account-name "
            f"{self.config.account or 'ACCOUNT'} --container-name {container} --name {name}, "
            "then load it again once rehydrated"
        )

    def classify(self, exc: BaseException) -> Failure | None:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            IncompleteReadError,
            ServiceRequestError,
            ServiceResponseError,
            ServiceResponseTimeoutError,
        )

        code = _error_code(exc)
        if code == "ContainerNotFound":
            return Failure.MISSING_CONTAINER
        if code == "BlobArchived":
            return Failure.ARCHIVED
        if isinstance(exc, ClientAuthenticationError):
            # azure-identity's: no credential found on this machine, or the one found refused
            name = type(exc).__name__
            return Failure.NO_CREDENTIALS if "Unavailable" in name else Failure.REFUSED
        if isinstance(exc, HttpResponseError) and exc.status_code in (401, 403):
            if "expired" in str(exc).lower() or self._sas_expired():
                return Failure.EXPIRED
            return Failure.REFUSED
        if isinstance(exc, ServiceResponseTimeoutError):
            return Failure.TIMED_OUT
        if isinstance(exc, IncompleteReadError | ServiceResponseError):
            return Failure.CUT  # the request went, its answer broke off
        if isinstance(exc, ServiceRequestError):
            return Failure.UNREACHABLE
        if isinstance(exc, FileNotFoundError) and "No such container" in str(exc):
            return Failure.MISSING_CONTAINER  # adlfs's words, its cause dropped
        return super().classify(exc)

    def describe(self, failure: Failure, reason: str) -> StoreUnavailableError:
        expired = self._sas_expired() if failure is Failure.EXPIRED else None
        return super().describe(failure, expired or reason)

    def _sas_expired(self) -> str | None:
        """Why Azure refused a SAS it would not call expired: it had (see sas_expiry)."""
        try:
            return self.access.sas_expired()
        except HoldallError:
            return None

    def credential_fix(self) -> str:
        return (
            f"holdall artifact-store update {self.name or 'NAME'} --connection_string=@FILE "
            "(or --account_key=@FILE, --sas_token=@FILE), or sign in on this machine (az login)"
        )


def _error_code(exc: BaseException) -> str | None:
    """The Azure error code anywhere in an exception's chain ("ContainerNotFound")."""
    for link in exception_chain(exc):
        code = getattr(link, "error_code", None)
        if code:
            return str(code)
    return None


def _block_ids(count: int) -> Iterator[str]:
    """Azure's block ids: base64, all of one length within a blob; a fresh prefix per upload,
    so that two uploads of the same name never commit each other's blocks."""
    upload = uuid.uuid4().hex
    for index in range(count):
        yield base64.b64encode(f"{upload}-{index:06d}".encode()).decode()


async def _stage_blocks(
    blob: Any, local: str, size: int, part_size: int, workers: int
) -> list[str]:
    """Stage the file's blocks, `workers` at a time (each holds one block in memory); their
    ids in order. A failure cancels the rest."""
    ids = list(_block_ids(-(-size // part_size)))
    queue = iter(enumerate(ids))

    async def worker() -> None:
        with open(local, "rb") as source:
            for index, block_id in queue:
                source.seek(index * part_size)
                await blob.stage_block(block_id, source.read(part_size))

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(workers, len(ids)))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return ids
