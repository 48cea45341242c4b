"""@step: a function whose call, inside a pipeline, becomes a node of the run."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, overload

from holdall.compression import Compression
from holdall.names import check_name
from holdall.pipelines.graph import current_graph
from holdall.pipelines.outputs import output_names


class Step:
    def __init__(
        self, func: Callable[..., Any], name: str | None = None, compression: str | None = None
    ) -> None:
        self.func = func
        self.name = check_name("step", name or func.__name__)
        if compression is not None:
            Compression(compression)  # refused where the step is written, not when it runs
        # How its outputs are stored, instead of the store's setting (None: the store's).
        self.compression = compression
        self.signature = inspect.signature(func)
        self.outputs = output_names(func)
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        graph = current_graph()
        if graph is None:
            return self.func(*args, **kwargs)  # outside a pipeline: a plain function call
        return graph.add(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<step {self.name}>"


@overload
def step(func: Callable[..., Any], /) -> Step: ...


@overload
def step(
    *, name: str | None = None, compression: str | None = None
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    compression: str | None = None,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Mark a function as a step: `@step`, or `@step(name="...", compression="zstd")` (how
    its outputs are stored: none, zstd or auto, instead of the store's setting)."""
    if func is not None:
        return Step(func)
    return lambda f: Step(f, name=name, compression=compression)
