"""The `aws` service connector: AWS credentials held once, handed to S3 stores as
aiobotocore's own refreshable credentials. The auth methods are plain pydantic models;
botocore and aiobotocore are imported only inside the methods that call AWS. What the
credentials reach is checked through an S3 store (the core's verification), whose words
serve STS's failures too."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import datetime, timedelta, timezone
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

if TYPE_CHECKING:
    from holdall.artifact_stores.object_store import ObjectArtifactStore

ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)
# STS's bounds on the lifetime of what it issues (AssumeRole stops at 12 h, and at the role's
# own maximum; GetSessionToken at 36 h).
LIFETIME = {"iam-role": (900, 43_200), "session-token": (900, 129_600)}
DEFAULT_LIFETIME_S = 3600


class AWSAuth(AuthMethodConfig):
    region: str | None = None
    # S3 and STS alike: an S3-compatible service, or a test server.
    endpoint_url: str | None = None


class Implicit(AWSAuth):
    DESCRIPTION: ClassVar[str] = (
        "the AWS SDK's own chain on the machine that uses the store: environment, profile, "
        "instance or container role"
    )


class SecretKey(AWSAuth):
    DESCRIPTION: ClassVar[str] = "a long-lived access key"
    aws_access_key_id: str
    aws_secret_access_key: SecretStr


class STSToken(SecretKey, ExpiringToken):
    DESCRIPTION: ClassVar[str] = "temporary credentials from STS, used until they expire"
    TOKEN: ClassVar[str] = "STS token"
    TOKEN_FIELD: ClassVar[str] = "aws_session_token"
    aws_session_token: SecretStr


class IAMRole(SecretKey):
    DESCRIPTION: ClassVar[str] = (
        "AssumeRole from an access key: short-lived credentials for the role, renewed "
        "before they expire (--expiration-seconds: their lifetime)"
    )
    role_arn: str
    external_id: str | None = None
    role_session_name: str = "holdall"

    @field_validator("role_arn")
    @classmethod
    def _check_arn(cls, arn: str) -> str:
        if not ROLE_ARN.fullmatch(arn):
            raise ValueError(
                f"'{arn}' is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
            )
        return arn


class SessionToken(SecretKey):
    DESCRIPTION: ClassVar[str] = (
        "GetSessionToken from an access key: short-lived credentials for the same user, "
        "renewed before they expire"
    )


class AWSConnectorType(ServiceConnectorType):
    name = "aws"
    description = "Amazon Web Services: S3 buckets, through IAM users, roles and STS"
    auth_methods: ClassVar[dict[str, type[AuthMethodConfig]]] = {
        "implicit": Implicit,
        "secret-key": SecretKey,
        "sts-token": STSToken,
        "iam-role": IAMRole,
        "session-token": SessionToken,
    }
    resource_types: ClassVar[dict[str, str]] = {
        "s3-bucket": "an S3 bucket (s3://NAME or NAME)",
        "aws-generic": "the AWS account itself (what STS says the credentials are)",
    }
    container_type = "s3-bucket"
    container_schemes = ("s3://",)

    def check_expiration(self, method: str, seconds: int | None) -> None:
        if seconds is None or method not in LIFETIME:
            return
        least, most = LIFETIME[method]
        if not least <= seconds <= most:
            raise ConnectorError(
                f"--expiration-seconds for {method} must be between {least} and {most} "
                "(what STS issues)",
                fix=f"--expiration-seconds={DEFAULT_LIFETIME_S}",
            )

    # -- talking to AWS, with botocore -------------------------------------------------------

    def _client(self, auth: AWSAuth, service: str, frozen: dict[str, str] | None) -> Any:
        # botocore, not boto3: it comes with s3fs (pinned by aiobotocore), and a boto3
        # requirement of our own would make pip search for a boto3 that pins the same one.
        import botocore.session
        from botocore.config import Config

        keys = frozen or {}
        return botocore.session.Session().create_client(
            service,
            region_name=auth.region or ("us-east-1" if auth.endpoint_url else None),
            endpoint_url=auth.endpoint_url,
            # Bounded waits, as a store's (botocore alone tries again: holdall_s3.store).
            config=Config(
                connect_timeout=auth.connect_timeout,
                read_timeout=auth.read_timeout,
                retries={"total_max_attempts": auth.tries, "mode": "standard"},
            ),
            aws_access_key_id=keys.get("access_key"),
            aws_secret_access_key=keys.get("secret_key"),
            aws_session_token=keys.get("token"),
        )

    def _issue(self, auth: AuthMethodConfig, lifetime: int | None) -> dict[str, str] | None:
        """Credentials as botocore's metadata ({access_key, secret_key, token, expiry_time}),
        fetched now; None for implicit."""
        if isinstance(auth, IAMRole | SessionToken):
            return self._from_sts(auth, lifetime or DEFAULT_LIFETIME_S)
        if isinstance(auth, STSToken):
            auth.check_unexpired()
            return {
                **_keys(auth),
                "token": auth.aws_session_token.get_secret_value(),
                "expiry_time": (auth.expires_at or _far()).isoformat(),
            }
        if isinstance(auth, SecretKey):
            return {**_keys(auth), "token": "", "expiry_time": _far().isoformat()}
        return None

    def _from_sts(self, auth: IAMRole | SessionToken, lifetime: int) -> dict[str, str]:
        """New credentials from STS; botocore's error when it fails (a store words it)."""
        sts = self._client(auth, "sts", {**_keys(auth)})
        if isinstance(auth, IAMRole):
            extra = {"ExternalId": auth.external_id} if auth.external_id else {}
            issued = sts.assume_role(
                RoleArn=auth.role_arn,
                RoleSessionName=auth.role_session_name,
                DurationSeconds=lifetime,
                **extra,
            )["Credentials"]
        else:
            issued = sts.get_session_token(DurationSeconds=lifetime)["Credentials"]
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": issued["Expiration"].isoformat(),
        }

    def store_settings(self, auth: AuthMethodConfig) -> dict[str, Any]:
        assert isinstance(auth, AWSAuth)
        return {"endpoint_url": auth.endpoint_url, "region": auth.region}

    def account(self, auth: AuthMethodConfig, store: ObjectArtifactStore) -> str:
        # What STS says the credentials are: the account is not a bucket's to tell.
        assert isinstance(auth, AWSAuth)
        sts = self._client(auth, "sts", self._issue(auth, DEFAULT_LIFETIME_S))
        identity = sts.get_caller_identity()
        return f"{identity['Arn']} (account {identity['Account']})"

    # -- credentials for a store ---------------------------------------------------------------

    def credentials(self, auth: AuthMethodConfig, handout: Handout) -> Issued:
        """aiobotocore's credentials: static, or renewed from STS by aiobotocore itself."""
        assert isinstance(auth, AWSAuth)
        where = self.store_settings(auth)
        metadata = self._issue(auth, handout.expiration_seconds)
        if metadata is None:
            handout.record("issued", "ok", "the AWS SDK's own chain on this machine")
            return Issued(None, where)
        if not isinstance(auth, IAMRole | SessionToken):
            expiry = (
                auth.expires_at.isoformat()
                if isinstance(auth, STSToken) and auth.expires_at
                else None
            )
            handout.record("issued", "ok", f"expires {expiry}" if expiry else "long-lived keys")
            from aiobotocore.credentials import AioCredentials

            static = AioCredentials(
                metadata["access_key"], metadata["secret_key"], metadata["token"] or None
            )
            return Issued(static, where)
        handout.record("issued", "ok", f"expires {metadata['expiry_time']}")
        return Issued(self._refreshable(auth, handout, metadata), where)

    def _refreshable(
        self, auth: IAMRole | SessionToken, handout: Handout, metadata: dict[str, str]
    ) -> Any:
        from aiobotocore.credentials import AioRefreshableCredentials

        lifetime = handout.expiration_seconds or DEFAULT_LIFETIME_S

        async def renew() -> dict[str, str]:
            # aiobotocore asks for this inside an upload when the credentials come within the
            # renewal margin of their expiry; STS is called off the event loop.
            with handout.renewal():
                renewed = await asyncio.to_thread(self._from_sts, auth, lifetime)
            handout.renewed(renewed["expiry_time"])
            return renewed

        margin = handout.renewal_margin
        return AioRefreshableCredentials.create_from_metadata(
            metadata,
            refresh_using=renew,
            method=f"holdall-connector-{'iam-role' if isinstance(auth, IAMRole) else 'session'}",
            advisory_timeout=margin,
            # botocore insists on new credentials (and fails without them) inside this part
            # of the margin; before it, a failed renewal keeps the current ones.
            mandatory_timeout=min(margin * 2 / 3, lifetime / 2),
        )

    def auto_configure(self) -> tuple[str, dict[str, Any]]:
        import botocore.session

        session = botocore.session.Session()
        found = session.get_credentials()
        if found is None:
            raise ConnectorError(
                "found no AWS credentials in this environment (variables, profile, role)",
                fix="aws configure, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            )
        frozen = found.get_frozen_credentials()
        values: dict[str, Any] = {
            "aws_access_key_id": frozen.access_key,
            "aws_secret_access_key": frozen.secret_key,
        }
        region = session.get_config_variable("region")
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        values |= {k: v for k, v in (("region", region), ("endpoint_url", endpoint)) if v}
        if frozen.token:
            return "sts-token", {**values, "aws_session_token": frozen.token}
        return "secret-key", values


def _keys(auth: SecretKey) -> dict[str, str]:
    return {
        "access_key": auth.aws_access_key_id,
        "secret_key": auth.aws_secret_access_key.get_secret_value(),
    }


def _far() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=3650)


def aio_session(issued: Issued) -> Any:
    """An aiobotocore session whose credentials are the connector's (renewed by aiobotocore
    itself when they are refreshable), for s3fs."""
    from aiobotocore.session import AioSession
    from botocore.credentials import CredentialProvider

    session = AioSession()
    if issued.credentials is not None:

        class FromConnector(CredentialProvider):  # type: ignore[misc]
            METHOD = CANONICAL_NAME = "holdall-connector"

            async def load(self) -> Any:
                return issued.credentials

        resolver = session.get_component("credential_provider")
        resolver.insert_before("env", FromConnector())
    return session
