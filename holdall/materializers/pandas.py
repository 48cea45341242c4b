"""pandas DataFrames as parquet."""

from __future__ import annotations

import importlib.util
from typing import Any

from holdall.errors import HoldallError
from holdall.materializers.base import BaseMaterializer


def _require_parquet_engine() -> None:
    if importlib.util.find_spec("pyarrow") is None:
        raise HoldallError(
            "saving a pandas DataFrame needs a parquet engine, and pyarrow is not installed",
            fix="pip install pyarrow",
        )


class PandasMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("pandas.DataFrame", "pandas.core.frame.DataFrame")
    FILE = "data.parquet"

    def save(self, data: Any) -> None:
        _require_parquet_engine()
        with self.artifact_store.open(self.path(self.FILE), "wb") as handle:
            data.to_parquet(handle)

    def load(self, data_type: type) -> Any:
        import pandas

        _require_parquet_engine()
        with self.artifact_store.open(self.path(self.FILE), "rb") as handle:
            return pandas.read_parquet(handle)
