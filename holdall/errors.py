"""One error shape everywhere: what failed, why, and the exact command that fixes it."""

from __future__ import annotations


class HoldallError(Exception):
    """An error the user can act on. `fix` is the command (or step) that resolves it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class NotFoundError(HoldallError):
    pass


class AlreadyExistsError(HoldallError):
    pass


class InUseError(HoldallError):
    pass


class ConfigError(HoldallError):
    """Invalid flavor configuration (unknown key, wrong scheme, bad value)."""


class FlavorError(HoldallError):
    """A flavor that is unknown, not installed, or broken."""


class CatalogueError(HoldallError):
    """flavors.yaml does not match its schema."""


class StateError(HoldallError):
    """The config dir or metadata database cannot be read or written."""


class PathOutsideStoreError(HoldallError, PermissionError):
    """A path that resolves outside the artifact store's root."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text (an SDK's may run to a page), or its type."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def error_text(exc: BaseException) -> str:
    """What went wrong, for a report that goes on past it: a HoldallError's message, or the
    exception's type and text."""
    if isinstance(exc, HoldallError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
