"""What a failure of a cloud's service means, and who is told: the kinds every cloud's SDK
errors are sorted into (a store's `classify`), and the party whose settings mend them. A store
speaks for itself; a service connector's verify speaks through a store of its cloud, and the
same words then name the connector and the command that mends it."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from holdall.errors import HoldallError


class Failure(enum.Enum):
    MISSING_CONTAINER = "missing container"
    REFUSED = "refused credentials"
    NO_CREDENTIALS = "no credentials"
    EXPIRED = "expired credentials"
    UNREACHABLE = "unreachable endpoint"
    # The endpoint that issues tokens for the credentials (Google's, Entra ID's), not reached
    SIGN_IN_UNREACHABLE = "unreachable token endpoint"
    TIMED_OUT = "no answer"
    CUT = "connection cut"
    ARCHIVED = "archived"  # in a class or tier read only after a restore


class StoreUnavailableError(HoldallError):
    def __init__(
        self, message: str, fix: str | None = None, failure: Failure | None = None
    ) -> None:
        super().__init__(message, fix)
        self.failure = failure


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what caused it, outermost first (SDKs wrap their transport's errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


@dataclass(frozen=True)
class Owner:
    """Whose access failed, in words, and the commands that mend it."""

    label: str  # "artifact store 's3_store'", "service connector 'aws'"
    # Whose credentials they are: the label, and where they come from when not its own.
    credentials_label: str
    # The command whose options change its settings ("holdall artifact-store update s3").
    update: str
    credentials_fix: str
    expired_fix: str
    container_fix: str  # a missing bucket: make it, or point at another
    # What was being reached, when not the store's bucket ("the buckets it can list").
    reaching: str | None = None


def connector_owner(
    name: str,
    credential_options: list[str],
    container_option: str,
    registering: bool = False,
    reaching: str | None = None,
) -> Owner:
    """A service connector, checked by its verify (or its registration: then mended by
    registering it again, as it is not recorded yet)."""
    update = (
        f"holdall service-connector register {name} ..."
        if registering
        else f"holdall service-connector update {name}"
    )
    given = " ".join(credential_options)
    credentials_fix = f"give credentials that work: {update}" + (f" {given}" if given else "")
    return Owner(
        label=f"service connector '{name}'",
        credentials_label=f"service connector '{name}'",
        update=update,
        credentials_fix=credentials_fix,
        expired_fix=credentials_fix,
        container_fix=f"create it, or name another: {update} {container_option}",
        reaching=reaching,
    )
