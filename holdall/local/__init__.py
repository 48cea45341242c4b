"""The local-folder integration: part of the core, found through the same entry point group."""

from holdall.integration import Integration

INTEGRATION = Integration(
    name="local",
    artifact_stores={"local": "holdall.local.flavor:LocalFlavor"},
)
