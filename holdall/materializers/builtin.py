"""Values that need no library: JSON-able builtins, and bytes."""

from __future__ import annotations

import json
import math
from typing import Any

from holdall.materializers.base import BaseMaterializer

JSON_FILE = "data.json"


def _json_able(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_json_able(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_able(v) for k, v in value.items())
    return False


def _restore_tuples(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_restore_tuples(v) for v in value["__tuple__"])
        return {k: _restore_tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_tuples(v) for v in value]
    return value


def _mark_tuples(value: Any) -> Any:
    # JSON has no tuple; what was a tuple comes back as one.
    if isinstance(value, tuple):
        return {"__tuple__": [_mark_tuples(v) for v in value]}
    if isinstance(value, list):
        return [_mark_tuples(v) for v in value]
    if isinstance(value, dict):
        return {k: _mark_tuples(v) for k, v in value.items()}
    return value


class BuiltinMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = (
        "builtins.bool",
        "builtins.int",
        "builtins.float",
        "builtins.str",
        "builtins.NoneType",
        "builtins.list",
        "builtins.dict",
        "builtins.tuple",
    )

    @classmethod
    def can_save(cls, data: Any) -> bool:
        return _json_able(data) and not (isinstance(data, dict) and set(data) == {"__tuple__"})

    def save(self, data: Any) -> None:
        with self.artifact_store.open(self.path(JSON_FILE), "wb") as handle:
            handle.write(json.dumps(_mark_tuples(data), ensure_ascii=False).encode("utf-8"))

    def load(self, data_type: type) -> Any:
        with self.artifact_store.open(self.path(JSON_FILE), "rb") as handle:
            return _restore_tuples(json.loads(handle.read().decode("utf-8")))


class BytesMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("builtins.bytes",)
    FILE = "data.bin"

    def save(self, data: Any) -> None:
        with self.artifact_store.open(self.path(self.FILE), "wb") as handle:
            handle.write(data)

    def load(self, data_type: type) -> Any:
        with self.artifact_store.open(self.path(self.FILE), "rb") as handle:
            return handle.read()
