"""Service connectors: a cloud's credentials held once, handed to the stores that use them."""

from holdall.connectors.base import AuthMethodConfig, Handout, Issued, ServiceConnectorType

__all__ = ["AuthMethodConfig", "Handout", "Issued", "ServiceConnectorType"]
