"""The zenml integration's declaration: it adds no holdall flavor; it gives ZenML one
(holdall_zenml.flavor.HoldallArtifactStoreFlavor). Imports neither ZenML nor any SDK."""

from holdall.integration import Integration

__version__ = "0.2.0"

INTEGRATION = Integration(name="zenml")
