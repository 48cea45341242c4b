"""ZenML's file I/O on one scheme, routed by path: what lies inside a holdall-backed store's
root goes to that holdall store, every other path to the filesystem ZenML had for the scheme.

ZenML picks a filesystem by scheme alone, and its materializers write through it, not
through the artifact store. Taking a whole scheme would send other buckets (or, for local
folders, every local file ZenML touches) to a holdall store that refuses paths outside its
root; leaving the scheme alone would let ZenML write a local store's files directly, half a
file at a time.
"""

from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import Callable
from typing import Any

from zenml.io.filesystem import BaseFilesystem
from zenml.io.filesystem_registry import default_filesystem_registry

# Per scheme, the root of each holdall-backed store -> that ZenML artifact store.
Routes = dict[str, Any]
COPY_CHUNK = 8 * 1024 * 1024


def route(scheme: str, root: str, store: Any) -> None:
    """From now on, ZenML's file I/O inside `root` goes to `store`'s file API."""
    _router(scheme).HOLDALL_ROUTES[_key(scheme, root)] = store


def as_text(path: Any) -> str:
    """A path as ZenML gives it (str or bytes), as text."""
    return path.decode() if isinstance(path, bytes) else str(path)


def _key(scheme: str, path: Any) -> str:
    text = as_text(path)
    if not scheme:  # a local path, as the store's root is written: absolute
        text = os.path.abspath(text)
    return text.rstrip("/") or "/"


def _router(scheme: str) -> Any:
    try:
        current = default_filesystem_registry.get_filesystem_for_scheme(scheme)
    except ValueError:  # nothing of ZenML's for this scheme (its integration not installed)
        current = None
    if current is not None and hasattr(current, "HOLDALL_ROUTES"):
        return current
    routes: Routes = {}
    members: dict[str, Any] = {"SUPPORTED_SCHEMES": {scheme}, "HOLDALL_ROUTES": routes}
    # ZenML's file API is the abstract methods of its BaseFilesystem, as ZenML finds it.
    for name, method in inspect.getmembers(BaseFilesystem):
        if getattr(method, "__isabstractmethod__", False):
            members[name] = staticmethod(_by_path(name, scheme, routes, current))
    copy = _stream_copy(scheme, routes, current)
    members["copyfile"] = staticmethod(_by_paths("copyfile", scheme, routes, current, copy))
    members["rename"] = staticmethod(_by_paths("rename", scheme, routes, current, _refuse_rename))
    router = type("HoldallRouting", (BaseFilesystem,), members)
    default_filesystem_registry.register(router)
    return router


def _store_for(scheme: str, routes: Routes, path: Any) -> Any:  # None: not inside one
    key = _key(scheme, path)
    for root in sorted(routes, key=len, reverse=True):  # the innermost store first
        if key == root or key.startswith(root.rstrip("/") + "/"):
            return routes[root]
    return None


def _elsewhere(scheme: str, fallback: Any, name: str) -> Callable[..., Any]:
    if fallback is None:
        raise ValueError(
            f"no file system for scheme '{scheme}' outside the holdall-backed artifact "
            "stores (install ZenML's integration for it)"
        )
    return getattr(fallback, name)  # type: ignore[no-any-return]


def _by_path(name: str, scheme: str, routes: Routes, fallback: Any) -> Callable[..., Any]:
    def call(path: Any, *args: Any, **kwargs: Any) -> Any:
        store = _store_for(scheme, routes, path)
        if store is not None:
            return getattr(store, name)(path, *args, **kwargs)
        return _elsewhere(scheme, fallback, name)(path, *args, **kwargs)

    return call


def _by_paths(
    name: str, scheme: str, routes: Routes, fallback: Any, across: Callable[..., None]
) -> Callable[..., None]:
    """`copyfile` or `rename`: within one store, by it; outside any, by ZenML's own file
    system; across a store's edge, by `across`."""

    def call(src: Any, dst: Any, overwrite: bool = False) -> None:
        source, target = _store_for(scheme, routes, src), _store_for(scheme, routes, dst)
        if source is not None and source is target:
            getattr(source, name)(src, dst, overwrite=overwrite)
        elif source is None and target is None:
            _elsewhere(scheme, fallback, name)(src, dst, overwrite=overwrite)
        else:
            across(src, dst, overwrite)

    return call


def _stream_copy(scheme: str, routes: Routes, fallback: Any) -> Callable[..., None]:
    open_ = _by_path("open", scheme, routes, fallback)
    exists = _by_path("exists", scheme, routes, fallback)

    def copy(src: Any, dst: Any, overwrite: bool) -> None:
        if not overwrite and exists(dst):
            raise FileExistsError(f"{dst} already exists and overwrite is false")
        with open_(src, "rb") as reading, open_(dst, "wb") as writing:  # written whole
            shutil.copyfileobj(reading, writing, COPY_CHUNK)

    return copy


def _refuse_rename(src: Any, dst: Any, overwrite: bool) -> None:
    # As ZenML answers a rename between two of its file systems.
    raise NotImplementedError(
        f"renaming {src} to {dst} crosses the edge of a holdall-backed artifact store"
    )
