"""Any picklable value, only where the user has allowed it: loading a pickle runs code."""

from __future__ import annotations

import pickle
from typing import Any

from holdall.materializers.base import BaseMaterializer


class PickleMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("builtins.object",)
    LOAD_RUNS_CODE = True
    FILE = "data.pkl"

    def save(self, data: Any) -> None:
        with self.artifact_store.open(self.path(self.FILE), "wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, data_type: type) -> Any:
        # LOAD_RUNS_CODE: the store hands out bytes it has verified already, from memory.
        with self.artifact_store.open(self.path(self.FILE), "rb") as handle:
            return pickle.load(handle)
