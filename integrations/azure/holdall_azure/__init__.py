"""The azure integration's declaration: imports no SDK."""

from holdall.integration import Integration

__version__ = "0.2.0"

INTEGRATION = Integration(
    name="azure",
    artifact_stores={"azure": "holdall_azure.flavor:AzureFlavor"},
    service_connectors={"azure": "holdall_azure.connector:AzureConnectorType"},
)
