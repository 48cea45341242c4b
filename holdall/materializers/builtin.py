"""Values that need no library: JSON-able builtins, and bytes."""

from __future__ import annotations

import json
import math
from typing import Any

from holdall.materializers.base import BaseMaterializer

# What holdall 0.1.0 wrote: tuples marked, but a user's own {"__tuple__": ...} taken for one.
LEGACY_JSON_FILE = "data.json"
JSON_FILE = "value.json"
TUPLE, DICT = "__tuple__", "__dict__"
_SCALARS = (bool, int, float, str, type(None))


def _json_able(value: Any) -> bool:
    """Exactly the values JSON gives back as they were: no subclasses (an IntEnum would come
    back an int, a namedtuple a tuple, an OrderedDict a dict)."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)
    if kind in _SCALARS:
        return True
    if kind is list or kind is tuple:
        return all(_json_able(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _json_able(v) for k, v in value.items())
    return False


def _encode(value: Any) -> Any:
    # JSON has no tuple: a tuple becomes {"__tuple__": [...]}, and a dict of the user's that
    # could be read as such a marker (its one key is __tuple__ or __dict__) is wrapped in
    # {"__dict__": ...}, so that no value can be mistaken for another.
    if type(value) is tuple:
        return {TUPLE: [_encode(v) for v in value]}
    if type(value) is list:
        return [_encode(v) for v in value]
    if type(value) is dict:
        encoded = {k: _encode(v) for k, v in value.items()}
        return {DICT: encoded} if set(value) in ({TUPLE}, {DICT}) else encoded
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {TUPLE}:
            return tuple(_decode(v) for v in value[TUPLE])
        if set(value) == {DICT}:
            return {k: _decode(v) for k, v in value[DICT].items()}
        return {k: _decode(v) for k, v in value.items()}
    return value


def _decode_legacy(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {TUPLE}:
            return tuple(_decode_legacy(v) for v in value[TUPLE])
        return {k: _decode_legacy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_legacy(v) for v in value]
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
        return _json_able(data)

    def save(self, data: Any) -> None:
        with self.artifact_store.open(self.path(JSON_FILE), "wb") as handle:
            handle.write(json.dumps(_encode(data), ensure_ascii=False).encode("utf-8"))

    def load(self, data_type: type) -> Any:
        legacy = not self.artifact_store.exists(self.path(JSON_FILE))
        name, decode = (LEGACY_JSON_FILE, _decode_legacy) if legacy else (JSON_FILE, _decode)
        with self.artifact_store.open(self.path(name), "rb") as handle:
            return decode(json.loads(handle.read().decode("utf-8")))


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
