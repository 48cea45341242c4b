"""What a pipeline function builds when it runs: step invocations wired by their outputs."""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from holdall.errors import HoldallError

if TYPE_CHECKING:
    from holdall.pipelines.steps import Step

_current: ContextVar[Graph | None] = ContextVar("holdall_pipeline_graph", default=None)


class PipelineDefinitionError(HoldallError):
    pass


@dataclass(frozen=True)
class OutputRef:
    """Stands for a step's output while the pipeline is being laid out."""

    invocation: Invocation
    output: str

    def __repr__(self) -> str:
        return f"<output '{self.output}' of step '{self.invocation.name}'>"


@dataclass(eq=False)  # compared by identity: two calls of one step are two invocations
class Invocation:
    name: str
    step: Step
    arguments: inspect.BoundArguments

    def upstream(self) -> dict[str, OutputRef]:
        return {k: v for k, v in self.arguments.arguments.items() if isinstance(v, OutputRef)}

    def parameters(self) -> dict[str, Any]:
        return {k: v for k, v in self.arguments.arguments.items() if not isinstance(v, OutputRef)}


@dataclass
class Graph:
    pipeline: str
    invocations: list[Invocation] = field(default_factory=list)

    def add(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            arguments = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionError(
                f"pipeline '{self.pipeline}' calls step '{step.name}' with wrong arguments: {exc}",
                fix=f"call it as {step.name}{step.signature}",
            ) from None
        arguments.apply_defaults()
        for value in arguments.arguments.values():
            if isinstance(value, OutputRef) and not any(
                value.invocation is i for i in self.invocations
            ):
                raise PipelineDefinitionError(
                    f"step '{step.name}' is given {value!r}, which is not from this pipeline"
                )
        taken = {i.name for i in self.invocations}
        name, count = step.name, 1
        while name in taken:  # the same step called twice: step, step_2, ...
            count += 1
            name = f"{step.name}_{count}"
        invocation = Invocation(name, step, arguments)
        self.invocations.append(invocation)
        refs = tuple(OutputRef(invocation, output) for output in step.outputs)
        if not refs:
            return None
        return refs[0] if len(refs) == 1 else refs

    def __enter__(self) -> Graph:
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)


def current_graph() -> Graph | None:
    return _current.get()
