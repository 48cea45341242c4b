"""The gcp integration's declaration: imports no SDK."""

from holdall.integration import Integration

__version__ = "0.2.0"

INTEGRATION = Integration(
    name="gcp",
    artifact_stores={"gcs": "holdall_gcp.flavor:GCSFlavor"},
    service_connectors={"gcp": "holdall_gcp.connector:GCPConnectorType"},
)
