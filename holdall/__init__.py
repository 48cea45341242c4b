"""holdall: versioned ML artifacts, with lineage, in the storage you already have."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from holdall.client import Client
    from holdall.pipelines import pipeline, step
    from holdall.shortcuts import load_artifact, save_artifact

__all__ = ["Client", "__version__", "load_artifact", "pipeline", "save_artifact", "step"]

# `import holdall` stays cheap: each name loads on first use (SQLAlchemy only with Client).
_LAZY = {
    "Client": "holdall.client",
    "pipeline": "holdall.pipelines",
    "step": "holdall.pipelines",
    "save_artifact": "holdall.shortcuts",
    "load_artifact": "holdall.shortcuts",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'holdall' has no attribute {name!r}")
