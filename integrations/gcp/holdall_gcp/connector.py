"""The `gcp` service connector: Google credentials held once, handed to GCS stores as
google-auth's own credentials, which gcsfs renews itself during a transfer. The auth methods
are plain pydantic models; google-auth is imported only inside the methods that use it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import SecretStr, field_validator

from holdall.connectors.base import (
    AuthMethodConfig,
    ConnectorError,
    Handout,
    ServiceConnectorType,
    unanswered,
)
from holdall.errors import first_line
from holdall_gcp.flavor import check_service_account_key

SCOPES = ("https://www.googleapis.com/auth/devstorage.full_control",)
GCS_ENDPOINT = "https://storage.googleapis.com"
DEFAULT_LIFETIME_S = 3600


class GCPAuth(AuthMethodConfig):
    project: str | None = None
    endpoint_url: str | None = None  # GCS elsewhere: an emulator


class Implicit(GCPAuth):
    DESCRIPTION: ClassVar[str] = (
        "application default credentials of the machine that uses the store"
    )


class ServiceAccount(GCPAuth):
    DESCRIPTION: ClassVar[str] = "a service account's key (--service_account_json=@key.json)"
    service_account_json: SecretStr

    @field_validator("service_account_json")
    @classmethod
    def _check_key(cls, key: SecretStr) -> SecretStr:
        check_service_account_key("service_account_json", key)
        return key

    @property
    def info(self) -> dict[str, Any]:
        return dict(json.loads(self.service_account_json.get_secret_value()))


class OAuth2Token(GCPAuth):
    DESCRIPTION: ClassVar[str] = "an OAuth 2.0 access token, used until it expires"
    token: SecretStr
    expires_at: datetime | None = None


class Impersonation(ServiceAccount):
    DESCRIPTION: ClassVar[str] = (
        "a source service account's key, impersonating the target service account "
        "(--target_principal=NAME@PROJECT.iam.gserviceaccount.com)"
    )
    target_principal: str
    # Another IAM credentials endpoint (a regional one, a test server); Google's by default.
    iam_endpoint_url: str | None = None

    @property
    def iam_endpoint(self) -> str | None:
        if not self.iam_endpoint_url:
            return None
        base = self.iam_endpoint_url.rstrip("/")
        return f"{base}/v1/projects/-/serviceAccounts/{self.target_principal}:generateAccessToken"


@dataclass(frozen=True)
class GCPCredentials:
    """What a GCS store gets: google-auth credentials, the project, and where GCS is."""

    credentials: Any
    project: str | None
    endpoint_url: str | None


def _refused(exc: Exception) -> ConnectorError:
    return ConnectorError(
        f"Google refused the connector's credentials ({str(exc).splitlines()[0]})",
        fix="check them, and give new ones: holdall service-connector update NAME "
        "--service_account_json=@key.json",
    )


class GCPConnectorType(ServiceConnectorType):
    name = "gcp"
    description = "Google Cloud: GCS buckets, through service accounts and OAuth 2.0 tokens"
    auth_methods: ClassVar[dict[str, type[AuthMethodConfig]]] = {
        "implicit": Implicit,
        "service-account": ServiceAccount,
        "oauth2-token": OAuth2Token,
        "impersonation": Impersonation,
    }
    resource_types: ClassVar[dict[str, str]] = {
        "gcs-bucket": "a GCS bucket (gs://NAME or NAME)",
        "gcp-generic": "the Google Cloud project itself",
    }
    container_type = "gcs-bucket"
    container_schemes = ("gs://", "gcs://")

    def _google(self, auth: AuthMethodConfig, lifetime: int | None) -> tuple[Any, str | None]:
        """google-auth credentials for `auth`, not yet refreshed, and the project."""
        assert isinstance(auth, GCPAuth)
        if isinstance(auth, Impersonation):
            from google.auth import impersonated_credentials
            from google.oauth2 import service_account

            source = service_account.Credentials.from_service_account_info(auth.info, scopes=SCOPES)
            target = impersonated_credentials.Credentials(
                source_credentials=source,
                target_principal=auth.target_principal,
                target_scopes=list(SCOPES),
                lifetime=lifetime or DEFAULT_LIFETIME_S,
                iam_endpoint_override=auth.iam_endpoint,
            )
            return target, auth.project or auth.info.get("project_id")
        if isinstance(auth, ServiceAccount):
            from google.oauth2 import service_account

            credentials = service_account.Credentials.from_service_account_info(
                auth.info, scopes=SCOPES
            )
            return credentials, auth.project or auth.info.get("project_id")
        if isinstance(auth, OAuth2Token):
            import google.oauth2.credentials

            if auth.expires_at and auth.expires_at <= datetime.now(timezone.utc):
                raise ConnectorError(
                    f"the connector's OAuth 2.0 token expired at {auth.expires_at.isoformat()}",
                    fix="give a new one: holdall service-connector update NAME --token=@FILE "
                    "--expires_at=...",
                )
            expiry = (
                auth.expires_at.astimezone(timezone.utc).replace(tzinfo=None)
                if (auth.expires_at)
                else None
            )
            token = google.oauth2.credentials.Credentials(
                token=auth.token.get_secret_value(), expiry=expiry
            )
            return token, auth.project
        found, project = _application_default()
        return found, auth.project or project

    def verify(
        self, auth: AuthMethodConfig, resource_type: str, resource_id: str | None
    ) -> list[str]:
        assert isinstance(auth, GCPAuth)
        from google.auth.transport.requests import AuthorizedSession

        credentials, project = self._google(auth, None)
        session = AuthorizedSession(credentials)
        base = f"{(auth.endpoint_url or GCS_ENDPOINT).rstrip('/')}/storage/v1"
        if resource_type == "gcp-generic":
            url, params = f"{base}/b", {"project": project or "", "maxResults": "1"}
            found = [f"project {project}"]
        elif resource_id:
            url, params = f"{base}/b/{quote(resource_id)}/o", {"maxResults": "1"}
            found = [f"gs://{resource_id}"]
        else:
            url, params = f"{base}/b", {"project": project or ""}
            found = []
        answer = _get(session, url, params, auth)
        if answer.status_code == 404:
            raise ConnectorError(f"bucket '{resource_id}' does not exist")
        if answer.status_code in (401, 403):
            raise _refused(RuntimeError(f"{answer.status_code}: {answer.text[:200]}"))
        if answer.status_code >= 400:
            raise ConnectorError(f"GCS answered {answer.status_code}: {answer.text[:200]}")
        if resource_type == "gcs-bucket" and not resource_id:
            found = sorted(f"gs://{item['name']}" for item in answer.json().get("items", []))
        return found

    def auto_configure(self) -> tuple[str, dict[str, Any]]:
        """Application default credentials: the key file GOOGLE_APPLICATION_CREDENTIALS
        names is taken as a service account; anything else stays `implicit` (resolved on
        the machine that uses the store)."""
        import os

        _, project = _application_default()
        values = {"project": project} if project else {}
        key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if key_file:
            with open(key_file, encoding="utf-8") as handle:
                key = handle.read()
            if json.loads(key).get("type") == "service_account":
                return "service-account", {**values, "service_account_json": key}
        return "implicit", values

    def credentials(self, auth: AuthMethodConfig, handout: Handout) -> GCPCredentials:
        assert isinstance(auth, GCPAuth)
        credentials, project = self._google(auth, handout.expiration_seconds)
        handout.record("issued", "ok", f"{type(credentials).__name__}, renewed by google-auth")
        return GCPCredentials(_audited(credentials, handout), project, auth.endpoint_url)


def _get(session: Any, url: str, params: dict[str, str], auth: GCPAuth) -> Any:
    """One GET, tried `auth.tries` times with its waits bounded (requests waits for ever
    unless told; google-auth's own token requests count in each try's time)."""
    import requests
    from google.auth.exceptions import GoogleAuthError, TransportError

    from holdall_gcp.store import GCSFS_BACKOFF

    def get() -> Any:
        try:
            return session.get(
                url,
                params=params,
                timeout=(auth.connect_timeout, auth.read_timeout),
                max_allowed_time=auth.connect_timeout + auth.read_timeout,
            )
        except TransportError:  # signing in: Google's token endpoint did not answer
            raise
        except GoogleAuthError as exc:
            raise _refused(exc) from None
        except requests.Timeout:
            raise
        except OSError as exc:  # requests' connection errors
            raise ConnectorError(
                f"cannot reach GCS: {first_line(exc)}", fix="check --endpoint_url and the network"
            ) from None

    for tried in range(1, auth.tries):
        try:
            return get()
        except (requests.Timeout, TransportError):
            time.sleep(GCSFS_BACKOFF(tried + 1) - GCSFS_BACKOFF(tried))  # as gcsfs sleeps
    try:
        return get()
    except TransportError as exc:
        raise ConnectorError(
            f"cannot reach Google's token endpoint to sign the connector in "
            f"({auth.tries} tries): {first_line(exc)}",
            fix="check the network between this machine and Google's token endpoint",
        ) from None
    except requests.Timeout as exc:
        endpoint = auth.endpoint_url or GCS_ENDPOINT
        raise unanswered("GCS", endpoint, auth, GCSFS_BACKOFF, first_line(exc)) from None


def _application_default() -> tuple[Any, str | None]:
    from google.auth.exceptions import DefaultCredentialsError

    from holdall_gcp.store import application_default

    try:
        found, project = application_default()
    except DefaultCredentialsError as exc:
        raise ConnectorError(
            f"found no application default credentials in this environment ({exc})",
            fix="gcloud auth application-default login, or set "
            "GOOGLE_APPLICATION_CREDENTIALS to a key file",
        ) from None
    return found, project


def _audited(credentials: Any, handout: Handout) -> Any:
    """The credentials, each refresh (a token fetched or renewed) recorded in the audit."""
    import google.auth.credentials

    class Audited(google.auth.credentials.Credentials):
        def __init__(self) -> None:
            super().__init__()
            self.inner = credentials
            # A token given as it is (oauth2-token) is used until it expires, not renewed.
            self.token, self.expiry = credentials.token, credentials.expiry

        def refresh(self, request: Any) -> None:
            try:
                self.inner.refresh(request)
            except Exception as exc:
                handout.record("renewed", "failed", str(exc).splitlines()[0][:200])
                raise
            self.token, self.expiry = self.inner.token, self.inner.expiry
            expires = self.expiry.isoformat() if self.expiry else "never"
            handout.record("renewed", "ok", f"token expires {expires}")

    return Audited()
