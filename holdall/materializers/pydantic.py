"""pydantic models as their JSON."""

from __future__ import annotations

from typing import Any

from holdall.errors import HoldallError
from holdall.materializers.base import BaseMaterializer


class PydanticMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("pydantic.main.BaseModel",)
    FILE = "data.json"

    def save(self, data: Any) -> None:
        with self.artifact_store.open(self.path(self.FILE), "wb") as handle:
            handle.write(data.model_dump_json().encode("utf-8"))

    def load(self, data_type: type) -> Any:
        from pydantic import BaseModel

        if not issubclass(data_type, BaseModel):
            recorded = getattr(data_type, "recorded", data_type.__qualname__)
            raise HoldallError(
                f"this artifact is a {recorded} model, and its module is not imported here "
                "(holdall imports no module that a database names)",
                fix=f"import {recorded.partition(':')[0]} before loading it",
            )
        with self.artifact_store.open(self.path(self.FILE), "rb") as handle:
            return data_type.model_validate_json(handle.read())
