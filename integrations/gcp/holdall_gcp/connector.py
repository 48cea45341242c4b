"""The `gcp` service connector: Google credentials held once, handed to GCS stores as
google-auth's own credentials, which gcsfs renews itself during a transfer. The auth methods
are plain pydantic models; google-auth is imported only inside the methods that use it. What
the credentials reach is checked through a GCS store (the core's verification)."""

from __future__ import annotations

import json
from datetime import timezone
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr, field_validator

from holdall.connectors.base import (
    AuthMethodConfig,
    ConnectorError,
    ExpiringToken,
    Handout,
    Issued,
    ServiceConnectorType,
)
from holdall_gcp.flavor import check_service_account_key

if TYPE_CHECKING:
    from holdall.artifact_stores.object_store import ObjectArtifactStore

SCOPES = ("https://www.googleapis.com/auth/devstorage.full_control",)
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


class OAuth2Token(GCPAuth, ExpiringToken):
    DESCRIPTION: ClassVar[str] = "an OAuth 2.0 access token, used until it expires"
    TOKEN: ClassVar[str] = "OAuth 2.0 token"
    token: SecretStr


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

            auth.check_unexpired()
            expiry = (
                auth.expires_at.astimezone(timezone.utc).replace(tzinfo=None)
                if auth.expires_at
                else None
            )
            token = google.oauth2.credentials.Credentials(
                token=auth.token.get_secret_value(), expiry=expiry
            )
            return token, auth.project
        from holdall_gcp.store import application_default

        found, project = application_default()  # google-auth's error when there are none
        return found, auth.project or project

    def store_settings(self, auth: AuthMethodConfig) -> dict[str, Any]:
        assert isinstance(auth, GCPAuth)
        return {"project": auth.project, "endpoint_url": auth.endpoint_url}

    def account(self, auth: AuthMethodConfig, store: ObjectArtifactStore) -> str:
        # The project's buckets listed: what the credentials may do in it.
        filesystem = store.make_filesystem()
        store.list_containers(filesystem)
        return f"project {filesystem.project}"

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

    def credentials(self, auth: AuthMethodConfig, handout: Handout) -> Issued:
        """google-auth's credentials, which gcsfs renews itself."""
        credentials, project = self._google(auth, handout.expiration_seconds)
        handout.record("issued", "ok", f"{type(credentials).__name__}, renewed by google-auth")
        where = {**self.store_settings(auth), **({"project": project} if project else {})}
        return Issued(_audited(credentials, handout), where)


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
            with handout.renewal():
                self.inner.refresh(request)
            self.token, self.expiry = self.inner.token, self.inner.expiry
            handout.renewed(self.expiry.isoformat() if self.expiry else "never")

    return Audited()
