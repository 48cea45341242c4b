"""The contract a materializer fulfils, as in ZenML: save(data) and load(data_type)."""

from __future__ import annotations

from typing import Any, ClassVar


def type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class BaseMaterializer:
    """Writes one value under `self.uri` (a directory of its own) through `self.artifact_store`.

    ASSOCIATED_TYPES names the types it takes as "module.QualName" strings, so that choosing
    a materializer never imports numpy, pandas or anything else the value did not bring.
    """

    ASSOCIATED_TYPES: ClassVar[tuple[str, ...]] = ()
    # Whether loading may run code from the data (pickle): the data is verified in full first.
    LOAD_RUNS_CODE: ClassVar[bool] = False

    def __init__(self, uri: str, artifact_store: Any) -> None:
        self.uri = uri
        self.artifact_store = artifact_store

    @classmethod
    def can_save(cls, data: Any) -> bool:
        """Refine the type match by value (a dict that is not JSON-able, say)."""
        return True

    def path(self, name: str) -> str:
        return f"{self.uri}/{name}"

    def save(self, data: Any) -> None:
        raise NotImplementedError

    def load(self, data_type: type) -> Any:
        raise NotImplementedError
