"""numpy arrays as .npy files (never pickled object arrays)."""

from __future__ import annotations

from typing import Any

from holdall.materializers.base import BaseMaterializer


class NumpyMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = ("numpy.ndarray",)
    FILE = "data.npy"

    @classmethod
    def can_save(cls, data: Any) -> bool:
        return not data.dtype.hasobject

    def save(self, data: Any) -> None:
        import numpy

        with self.artifact_store.open(self.path(self.FILE), "wb") as handle:
            numpy.save(handle, data, allow_pickle=False)

    def load(self, data_type: type) -> Any:
        import numpy

        with self.artifact_store.open(self.path(self.FILE), "rb") as handle:
            return numpy.load(handle, allow_pickle=False)
