"""A step's outputs, read from its return annotation as ZenML reads them."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

from holdall.names import check_name

DEFAULT_OUTPUT = "output"


def _annotated_name(annotation: Any) -> str | None:
    if typing.get_origin(annotation) is Annotated:
        for extra in annotation.__metadata__:
            if isinstance(extra, str):
                return extra
    return None


def _return_annotation(func: Callable[..., Any]) -> Any:
    try:
        return typing.get_type_hints(func, include_extras=True).get(
            "return", inspect.Parameter.empty
        )
    except (NameError, TypeError):
        return inspect.signature(func).return_annotation  # unresolvable: taken as one output


def output_names(func: Callable[..., Any]) -> tuple[str, ...]:
    """("output",) unannotated; () for None; Annotated names; one per element of a tuple."""
    annotation = _return_annotation(func)
    if annotation is None or annotation is type(None):
        return ()
    named = _annotated_name(annotation)
    if named:
        return (check_name("output", named),)
    if typing.get_origin(annotation) is tuple:
        elements = typing.get_args(annotation)
        if elements and elements[-1] is not Ellipsis:
            names = tuple(
                check_name("output", _annotated_name(e) or f"{DEFAULT_OUTPUT}_{i}")
                for i, e in enumerate(elements)
            )
            if len(set(names)) != len(names):
                raise TypeError(f"step {func.__name__} names two outputs alike: {names}")
            return names
    return (DEFAULT_OUTPUT,)
