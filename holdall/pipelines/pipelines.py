"""@pipeline: calling it lays out the steps, then runs them on the active stack."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

from holdall.names import check_name
from holdall.pipelines.graph import Graph

if TYPE_CHECKING:
    from holdall.artifacts.views import PipelineRun


class Pipeline:
    def __init__(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.func = func
        self.name = check_name("pipeline", name or func.__name__)
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineRun:
        from holdall.client import Client

        with Graph(self.name) as graph:
            self.func(*args, **kwargs)
        return Client().run_pipeline(graph)

    def __repr__(self) -> str:
        return f"<pipeline {self.name}>"


@overload
def pipeline(func: Callable[..., Any], /) -> Pipeline: ...


@overload
def pipeline(*, name: str | None = None) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    func: Callable[..., Any] | None = None, /, *, name: str | None = None
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Mark a function as a pipeline: `@pipeline` or `@pipeline(name="...")`."""
    if func is not None:
        return Pipeline(func)
    return lambda f: Pipeline(f, name=name)
