"""What every store backed by a bucket shares, written once: S3, GCS and Azure supply only
their filesystem, their upload call, the probe that checks access, and what their SDK's
errors mean.

- Writes are spooled to local disk (`spool_dir`) and uploaded whole when closed: the object
  appears complete or not at all.
- Uploads go up in parts, `max_concurrency` at a time; the part grows with the object so
  that no upload needs more parts than the service allows.
- Reads fetch `max_concurrency` ranges at once (see ranged.py).
- Waits are bounded (`connect_timeout`, `read_timeout`, see holdall.waits) and what the
  network drops is tried again (`retries`); a message about an endpoint that does not answer
  names the longest the tries can take, the SDK's sleeps between them included.
- Every failure of the service says what it is (a missing bucket, refused or expired
  credentials, an endpoint that cannot be reached or does not answer) and how to fix it, at
  first use and in the middle of an operation alike.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import IO, Any, ClassVar

from pydantic import Field, field_validator

from holdall.artifact_stores.config import ArtifactStoreConfig, split_scheme
from holdall.artifact_stores.failures import (
    Failure,
    Owner,
    StoreUnavailableError,
    exception_chain,
)
from holdall.artifact_stores.filesystem import FilesystemArtifactStore
from holdall.artifact_stores.ownership import MARKER
from holdall.artifact_stores.ranged import RangedReader
from holdall.artifact_stores.staged import is_write_mode
from holdall.errors import HoldallError, first_line
from holdall.waits import Waits, no_backoff

KiB, MiB, GiB = 1024, 1024 * 1024, 1024 * 1024 * 1024
IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}", re.ASCII)


def is_ip_address(name: str) -> bool:
    """Whether a bucket name is shaped like an IPv4 address, which S3 and GCS refuse."""
    return IP_ADDRESS.fullmatch(name) is not None


# Every object store's filesystem is its own (fsspec's instance cache would share clients,
# and credentials, between stores with equal arguments), and lists afresh each time: a
# listing cached here goes stale as soon as another process writes or deletes, and a stale
# "not there" would make a delete leave data behind.
FILESYSTEM_OPTIONS: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}


class ObjectStoreConfig(ArtifactStoreConfig, Waits):
    """Settings with one meaning on every cloud."""

    # The service's limits on one upload in parts.
    PART_LIMIT: ClassVar[int] = 10_000
    MIN_PART_SIZE: ClassVar[int] = 5 * MiB
    MAX_PART_SIZE: ClassVar[int] = 5 * GiB
    PART_ALIGN: ClassVar[int] = 1  # a part's size is a multiple of this
    # What the service calls its top level ("bucket", "container"), for messages.
    CONTAINER: ClassVar[str] = "bucket"

    part_size: int | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=64)
    spool_dir: str | None = None
    # Loads read through this machine's cache (holdall/artifacts/cache.py).
    cache: bool = True

    @field_validator("part_size")
    @classmethod
    def _check_part_size(cls, size: int | None) -> int | None:
        if size is not None and not cls.MIN_PART_SIZE <= size <= cls.MAX_PART_SIZE:
            raise ValueError(
                f"part_size must be between {cls.MIN_PART_SIZE} and {cls.MAX_PART_SIZE} bytes"
            )
        return size

    @field_validator("path")
    @classmethod
    def _check_container_name(cls, path: str) -> str:
        cls.check_container_name(split_scheme(path)[1].split("/", 1)[0])
        return path

    @classmethod
    def check_container_name(cls, name: str) -> None:
        """Refuse a bucket name the service would refuse: ValueError, saying its rules."""

    @field_validator("spool_dir")
    @classmethod
    def _check_spool_dir(cls, folder: str | None) -> str | None:
        if folder is not None and not os.path.isabs(folder):
            raise ValueError(f"spool_dir must be an absolute path, not '{folder}'")
        return folder

    @property
    def container(self) -> str:
        return split_scheme(self.path)[1].split("/", 1)[0]

    @property
    def prefix(self) -> str:
        """The store's folder inside its container ('' for the whole container)."""
        return split_scheme(self.path)[1].partition("/")[2]


DEFAULT_PART_SIZE = 8 * MiB
# Connections per transfer. Each holds a part in memory (and the SDK a copy or two of it):
# 4 parts of 8 MiB bound an upload or a load to about 100 MiB.
DEFAULT_CONCURRENCY = 4


class ObjectArtifactStore(FilesystemArtifactStore):
    config: ObjectStoreConfig
    SERVICE: ClassVar[str] = "the object store"  # its name in messages: "S3", "GCS"
    # A service connector whose verify runs through this store: its failures are the
    # connector's (failures.connector_owner).
    speaking_for: Owner | None = None

    # -- what each cloud supplies -----------------------------------------------------------

    def upload_file(self, local: str, target: str, part_size: int, tiered: bool) -> None:
        """Upload one local file to `target` in parts of `part_size`, `concurrency` at once;
        on failure, nothing may remain (an unfinished multipart upload is aborted). `tiered`:
        in the store's own storage class or tier; else in the service's standard one."""
        raise NotImplementedError

    def probe(self, filesystem: Any) -> None:
        """The cheapest call that proves the store's folder can be listed with these
        credentials (credentials limited to that folder included); raises the SDK's error."""
        raise NotImplementedError

    def list_containers(self, filesystem: Any) -> list[str]:
        """The names of the buckets (containers) these credentials can list; raises the
        SDK's error. fsspec lists them at its root."""
        return sorted(name.strip("/") for name in filesystem.ls("", detail=False))

    def classify(self, exc: BaseException) -> Failure | None:
        """What one exception of the SDK means, or None for an error of its own kind (a
        missing file is a missing file)."""
        if isinstance(exc, PermissionError):
            return Failure.REFUSED
        if isinstance(exc, TimeoutError):
            return Failure.TIMED_OUT
        if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            return Failure.CUT
        if isinstance(exc, ConnectionError):
            return Failure.UNREACHABLE
        return None

    def backoff(self, tries: int) -> float:
        """The longest its SDK sleeps in all between `tries` tries of one request."""
        return no_backoff(tries)

    def archive(self) -> str:
        """Where an archived object is, in the service's words ("the GLACIER storage class")."""
        return "an archive class"

    def restore_fix(self, path: str) -> str:
        """The command that makes the archived object at `path` (its full key) readable."""
        return f"restore {path} with {self.SERVICE}'s own tools, then load it again"

    # -- storage classes (tiers), per object ------------------------------------------------

    # The classes a version can be moved to, in the service's own words, and those whose
    # objects are read only after a restore.
    STORAGE_CLASSES: ClassVar[tuple[str, ...]] = ()
    ARCHIVE_CLASSES: ClassVar[tuple[str, ...]] = ()

    def set_storage_class(self, path: str, storage_class: str) -> None:
        """Move the object at `path` (a full path, as `resolve` gives) to `storage_class`,
        in place: its bytes, checksum and name unchanged."""
        raise NotImplementedError(f"{self.SERVICE} stores have no storage classes here")

    def storage_class_of(self, path: str) -> str:
        """The class the object at `path` is in now."""
        raise NotImplementedError(f"{self.SERVICE} stores have no storage classes here")

    def request_restore(self, path: str, days: int, speed: str) -> None:
        """Ask for the archived object at `path` to be made readable for `days`, at
        `speed` (the service's own words: Standard, Bulk, Expedited, High)."""
        raise NotImplementedError(f"{self.SERVICE} has no archive to restore from")

    def restore_state(self, path: str) -> str:
        """ "archived" (a restore is needed), "restoring", or "readable"."""
        return "readable"

    def lifecycle_rule(
        self, transitions: Sequence[tuple[int, str]], dry_run: bool
    ) -> tuple[list[Any], list[Any]]:
        """Make the bucket's lifecycle rules for this store's folder move its objects through
        `transitions` ((days, class) pairs; none: remove them), keeping every rule that is
        not this store's; (this store's rules before, and now), as the service writes them.
        `dry_run` changes nothing."""
        rules, version = self.read_lifecycle()
        before = [rule for rule in rules if self.is_own_rule(rule)]
        after = self.own_rules(transitions) if transitions else []
        if [self.rule_effect(r) for r in before] == [self.rule_effect(r) for r in after]:
            return before, before
        if not dry_run:
            others = [rule for rule in rules if not self.is_own_rule(rule)]
            self.write_lifecycle(others + after, version)
        return before, after

    def read_lifecycle(self) -> tuple[list[Any], Any]:
        """The bucket's lifecycle rules, and what the service calls their version (for a
        write that fails if another changed them meanwhile; None where it has none)."""
        raise HoldallError(
            f"holdall does not write {self.SERVICE}'s lifecycle rules",
            fix=f"set them with {self.SERVICE}'s own tools; move versions one by one with "
            "holdall artifact version update NAME VERSION --storage-class CLASS",
        )

    def write_lifecycle(self, rules: list[Any], version: Any) -> None:
        """Make `rules` the bucket's whole lifecycle configuration."""
        raise NotImplementedError

    def own_rules(self, transitions: Sequence[tuple[int, str]]) -> list[Any]:
        """The rules that move this store's objects through `transitions`."""
        raise NotImplementedError

    def is_own_rule(self, rule: Any) -> bool:
        raise NotImplementedError

    def rule_effect(self, rule: Any) -> Any:
        """A rule as far as it matters here (a service may write the rest back otherwise)."""
        return rule

    def credential_fix(self) -> str:
        """The command that gives the store other credentials."""
        return f"holdall artifact-store update {self.name or 'NAME'} with other credentials"

    # -- settings ---------------------------------------------------------------------------

    @property
    def concurrency(self) -> int:
        return self.config.max_concurrency or DEFAULT_CONCURRENCY

    def part_size_for(self, size: int) -> int:
        """The configured part size, grown so that `size` fits in the service's part limit."""
        config = type(self.config)
        part = max(self.config.part_size or DEFAULT_PART_SIZE, config.MIN_PART_SIZE)
        needed = -(-size // config.PART_LIMIT)
        part = max(part, -(-needed // config.PART_ALIGN) * config.PART_ALIGN)
        if part > config.MAX_PART_SIZE:
            most = config.MAX_PART_SIZE * config.PART_LIMIT
            raise HoldallError(
                f"a file of {size} bytes is larger than {self.SERVICE} takes in one object "
                f"({most} bytes: {config.PART_LIMIT} parts of {config.MAX_PART_SIZE})",
                fix="split the artifact into several files (a Path artifact of a folder)",
            )
        return part

    # -- the file API over a bucket ---------------------------------------------------------

    @property
    def filesystem(self) -> Any:
        # Made on first use, which may look up credentials (and fail to find them).
        with self.translated():
            raw = FilesystemArtifactStore.filesystem.fget(self)  # type: ignore[attr-defined]
        return _Translating(raw, self.translated)

    def check_access(self, filesystem: Any) -> None:
        with self.translated():
            self.probe(filesystem)

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """The SDK's failures inside the block, put in words (see describe)."""
        try:
            yield
        except HoldallError:
            raise
        except Exception as exc:
            error = self.translate(exc)
            if error is None:
                raise
            raise error from None

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> IO[Any]:
        if is_write_mode(mode) or mode.replace("t", "") not in ("r", "rb"):
            return super().open(path, mode, **kwargs)
        target = self.resolve(path)
        filesystem = self.filesystem
        info = filesystem.info(target)
        if info.get("type") == "directory":
            raise IsADirectoryError(path)

        def fetch(ranges: Sequence[tuple[int, int]]) -> list[bytes]:
            starts, ends = [s for s, _ in ranges], [e for _, e in ranges]

            def read() -> list[bytes]:
                paths = [target] * len(ranges)
                return list(filesystem.cat_ranges(paths, starts, ends, on_error="raise"))

            # A body cut off mid-read comes after the SDK's own tries (it has handed the
            # answer over by then): the ranges are asked again, up to `retries` times.
            for _ in range(self.config.retries):
                try:
                    return read()
                except StoreUnavailableError as exc:
                    if exc.failure is not Failure.CUT:
                        raise self._with_path(exc, target) from None
            try:
                return read()
            except StoreUnavailableError as exc:
                raise self._with_path(exc, target) from None

        size = int(info.get("size") or 0)
        part = self.config.part_size or DEFAULT_PART_SIZE
        reader = io.BufferedReader(RangedReader(fetch, size, part, self.concurrency))
        if "b" in mode:
            return reader
        return io.TextIOWrapper(
            reader, encoding=kwargs.get("encoding") or "utf-8", errors=kwargs.get("errors")
        )

    def spool_dir(self) -> str:
        spool = self.config.spool_dir or tempfile.gettempdir()
        if not os.path.isdir(spool):
            raise HoldallError(
                f"the spool_dir {spool} of artifact store '{self.name}' is not a folder",
                fix=f"mkdir -p {spool}, or holdall artifact-store update {self.name or 'NAME'} "
                "--spool_dir=/a/folder/with/room",
            )
        return spool

    def upload(self, local: str, target: str) -> None:
        part_size = self.part_size_for(os.path.getsize(local))
        # The store's marker is read back by every process before it writes: in an archive
        # class (S3 GLACIER, Azure Archive) no process could read it without a restore.
        tiered = posixpath.basename(target) != MARKER
        # A cloud's own upload may call its SDK directly, around the translating filesystem.
        with self.translated():
            self.upload_file(local, target, part_size, tiered)

    def remove_versions(self, folders: Mapping[str, Sequence[str]]) -> None:
        # No folders, only keys: every file the manifests name, in one batch (S3 deletes a
        # thousand keys a request).
        self.remove_files([f"{top}/{path}" for top, paths in folders.items() for path in paths])

    def _has_directories(self) -> bool:
        return False

    def _not_for_us(self, exc: Exception) -> bool:
        return isinstance(exc, StoreUnavailableError) and exc.failure is Failure.REFUSED

    # -- failures ---------------------------------------------------------------------------

    def translate(self, exc: BaseException) -> HoldallError | None:
        if isinstance(exc, HoldallError):
            return None
        # Innermost first: the SDK's own error says more than the wrapper around it; but a
        # transport's error inside a sign-in is the sign-in's (its token endpoint, not the
        # store's, was out of reach).
        links = reversed(list(exception_chain(exc)))
        found = [(failure, link) for link in links if (failure := self.classify(link))]
        if not found:
            return None
        failure, link = found[0]
        if any(kind is Failure.SIGN_IN_UNREACHABLE for kind, _ in found):
            failure = Failure.SIGN_IN_UNREACHABLE
        return self.describe(failure, first_line(link))

    def describe(self, failure: Failure, reason: str) -> StoreUnavailableError:
        message, fix = self._words(failure, reason)
        return StoreUnavailableError(message, fix=fix, failure=failure)

    def _words(self, failure: Failure, reason: str) -> tuple[str, str]:
        config, owner = self.config, self.owner
        target = owner.reaching or f"{config.CONTAINER} '{config.container}'"
        where = f" at {self.endpoint}" if self.endpoint else ""
        if failure is Failure.MISSING_CONTAINER:
            return (f"{target} of {owner.label} does not exist{where}", owner.container_fix)
        if failure is Failure.REFUSED:
            return (
                f"{self.SERVICE}{where} refused the credentials of {owner.credentials_label} "
                f"for {target} ({reason})",
                owner.credentials_fix,
            )
        if failure is Failure.NO_CREDENTIALS:
            return (
                f"found no credentials for {owner.credentials_label} ({reason})",
                owner.credentials_fix,
            )
        if failure is Failure.EXPIRED:
            return (
                f"the credentials of {owner.credentials_label} expired ({reason})",
                owner.expired_fix,
            )
        if failure is Failure.SIGN_IN_UNREACHABLE:
            return (
                f"cannot reach the endpoint that issues tokens for "
                f"{owner.credentials_label}: {reason}",
                "check the network between this machine and that endpoint",
            )
        if failure is Failure.TIMED_OUT:
            return (
                f"{self.SERVICE}{where} did not answer {owner.label} "
                f"{config.describe_budget(self.backoff)}: {reason}",
                f"{self.reach_fix()}; where answers are slow: {owner.update} --read_timeout=120",
            )
        if failure is Failure.CUT:
            return (
                f"the connection to {self.SERVICE}{where} was cut on each of {config.tries} "
                f"tries, for {target} of {owner.label}: {reason}",
                f"{self.reach_fix()}; on a network that drops connections: {owner.update} "
                "--retries=5",
            )
        if failure is Failure.ARCHIVED:
            return (
                f"an object of {owner.label} is in {self.archive()}: {self.SERVICE} reads it "
                f"only once it is restored ({reason})",
                self.restore_fix("OBJECT"),
            )
        return (f"cannot reach {target} of {owner.label}{where}: {reason}", self.reach_fix())

    @property
    def owner(self) -> Owner:
        """Whose access fails: the store's own, unless a connector speaks through it."""
        if self.speaking_for is not None:
            return self.speaking_for
        name = self.name or "NAME"
        label = f"artifact store '{self.name}'" if self.name else "the artifact store"
        if self.connector:
            credentials_fix = (
                f"holdall service-connector update {self.connector} with credentials that "
                f"work (holdall service-connector verify {self.connector} checks them)"
            )
            expired_fix = credentials_fix
        else:
            credentials_fix = self.credential_fix()
            expired_fix = (
                f"renew them ({credentials_fix}), or use a service connector, which renews "
                "them itself"
            )
        via = f" from service connector '{self.connector}'" if self.connector else ""
        return Owner(
            label=label,
            credentials_label=label + via,
            update=f"holdall artifact-store update {name}",
            credentials_fix=credentials_fix,
            expired_fix=expired_fix,
            container_fix=f"create the {self.config.CONTAINER}, or point the store at "
            f"another: holdall artifact-store update {name} --path={self._example_path()}",
        )

    def _with_path(self, exc: StoreUnavailableError, path: str) -> StoreUnavailableError:
        """An archived object's error, naming the object and its restore."""
        if exc.failure is not Failure.ARCHIVED:
            return exc
        return StoreUnavailableError(
            f"{path} of {self.owner.label} is in {self.archive()}: {self.SERVICE} reads it "
            "only once it is restored (which takes hours)",
            fix=self.restore_fix(path),
            failure=Failure.ARCHIVED,
        )

    def reach_fix(self) -> str:
        """What to check when the service cannot be reached: the settings that say where."""
        return "check --endpoint_url and the network" if self.endpoint else "check the network"

    @property
    def endpoint(self) -> str | None:
        return getattr(self.config, "endpoint_url", None)

    def _example_path(self) -> str:
        return f"{self.config.usual_scheme()}{self.config.CONTAINER.upper()}/PREFIX"


class _Translating:
    """The SDK's filesystem, each call's failures put in words (see describe)."""

    def __init__(
        self, filesystem: Any, translated: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._filesystem = filesystem
        self._translated = translated

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._filesystem, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._translated():
                return attribute(*args, **kwargs)

        return call
