"""holdall: versioned ML artifacts, with lineage, in the storage you already have."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from holdall.client import Client

__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    # `import holdall` stays cheap: the client (and SQLAlchemy behind it) loads on first use.
    if name == "Client":
        from holdall.client import Client

        return Client
    raise AttributeError(f"module 'holdall' has no attribute {name!r}")
