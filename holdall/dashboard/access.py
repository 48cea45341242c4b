"""Who may read the dashboard: anyone on this machine when it listens on loopback; with a
token, only requests that carry it (a bearer header) or a session that a one-time login link
opened. The token is compared in constant time and never printed or logged."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from holdall.errors import ConfigError

SESSION_COOKIE = "holdall_session"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the token file {path}: {exc.strerror}",
            fix=f"write a token into it: python -c 'import secrets; print(secrets.token_urlsafe"
            f"(32))' > {path} && chmod 600 {path}",
        ) from None
    if len(token) < 16:
        raise ConfigError(
            f"the token in {path} is {'empty' if not token else 'too short'} (16 characters "
            "at least)",
            fix=f"python -c 'import secrets; print(secrets.token_urlsafe(32))' > {path}",
        )
    return token


def check_exposure(host: str, token: str | None) -> None:
    """Listening beyond this machine needs a token: refuse to start without one."""
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"the dashboard would answer anyone who reaches {host} without a token",
            fix=f"holdall dashboard --host {host} --token-file ~/.holdall-token (or leave "
            "--host out: 127.0.0.1)",
        )


@dataclass
class Access:
    """`token` None: open (loopback). Otherwise one login code, good once, opens a session."""

    token: str | None
    login_code: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _sessions: set[str] = field(default_factory=set)

    @property
    def open(self) -> bool:
        return self.token is None

    def allows(self, authorization: str | None, session: str | None) -> bool:
        if self.token is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), self.token.encode()):
            return True
        return session is not None and any(hmac.compare_digest(session, s) for s in self._sessions)

    def log_in(self, code: str) -> str | None:
        """A new session for the login code, which then stops working; None if it is wrong
        or was used."""
        if self.token is None or not self.login_code:
            return None
        if not hmac.compare_digest(code.encode(), self.login_code.encode()):
            return None
        self.login_code = ""  # once
        session = secrets.token_urlsafe(32)
        self._sessions.add(session)
        return session
