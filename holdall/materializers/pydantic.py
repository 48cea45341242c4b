"""pydantic models as their JSON."""

from __future__ import annotations

from typing import Any

from holdall.materializers.base import BaseMaterializer


class PydanticMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("pydantic.main.BaseModel",)
    FILE = "data.json"

    def save(self, data: Any) -> None:
        with self.artifact_store.open(self.path(self.FILE), "wb") as handle:
            handle.write(data.model_dump_json().encode("utf-8"))

    def load(self, data_type: type) -> Any:
        with self.artifact_store.open(self.path(self.FILE), "rb") as handle:
            return data_type.model_validate_json(handle.read())  # type: ignore[attr-defined]
