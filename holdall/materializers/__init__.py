"""Materializers: how a value of a given type is written to an artifact store and read back."""

from holdall.materializers.base import BaseMaterializer
from holdall.materializers.registry import enable_pickle, register_materializer

__all__ = ["BaseMaterializer", "enable_pickle", "register_materializer"]
