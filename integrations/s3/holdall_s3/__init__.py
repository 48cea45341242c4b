"""The s3 integration's declaration: imports no SDK."""

from holdall.integration import Integration

__version__ = "0.2.0"

INTEGRATION = Integration(
    name="s3",
    artifact_stores={"s3": "holdall_s3.flavor:S3Flavor"},
    service_connectors={"aws": "holdall_s3.connector:AWSConnectorType"},
)
