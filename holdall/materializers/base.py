"""The contract a materializer fulfils, as in ZenML: save(data) and load(data_type)."""

from __future__ import annotations

from typing import Any, ClassVar


def type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class UnresolvedType:
    """What `load` is given when the saved value's type is in no module loaded here: holdall
    never imports a module a database names. `recorded` is its "module:QualName"."""

    recorded: ClassVar[str] = ""


class BaseMaterializer:
    """Writes one value under `self.uri` (a directory of its own) through `self.artifact_store`.

    ASSOCIATED_TYPES lists the types it takes, as the types themselves (as in ZenML) or as
    "module.QualName" strings, which let a library's materializer be chosen without importing
    the library. Defining a subclass registers it, as in ZenML (SKIP_REGISTRATION = True in
    its body opts out); `register_materializer` does the same explicitly.
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type | str, ...]] = ()
    # ZenML's; holdall keeps no artifact types, and accepts it so that ZenML code runs as is.
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[Any] = "BaseArtifact"
    SKIP_REGISTRATION: ClassVar[bool] = False
    # Whether loading may run code from the data (pickle): the data is verified in full first.
    LOAD_RUNS_CODE: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only the class's own setting counts: a subclass of a built-in still registers.
        if not cls.__dict__.get("SKIP_REGISTRATION", False) and cls.ASSOCIATED_TYPES:
            from holdall.materializers.registry import register_materializer

            register_materializer(cls)

    def __init__(self, uri: str, artifact_store: Any) -> None:
        self.uri = uri
        self.artifact_store = artifact_store

    @classmethod
    def can_save(cls, data: Any) -> bool:
        """Refine the type match by value (a dict that is not JSON-able, say)."""
        return True

    @classmethod
    def check_savable(cls, data: Any) -> None:
        """Raise a HoldallError for a value this materializer takes but cannot store; called
        before anything is written."""

    def path(self, name: str) -> str:
        return f"{self.uri}/{name}"

    def save(self, data: Any) -> None:
        raise NotImplementedError

    def load(self, data_type: type) -> Any:
        raise NotImplementedError

    # ZenML's hooks for its dashboard; holdall never calls them, and ZenML materializers that
    # override or call them through super() work unchanged.
    def extract_metadata(self, data: Any) -> dict[str, Any]:
        return {}

    def save_visualizations(self, data: Any) -> dict[str, Any]:
        return {}
