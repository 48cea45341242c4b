"""Running a laid-out pipeline on the active stack, one step after another.

Every input is loaded from the artifact store (checksum verified), never handed over in
memory, so a step receives exactly what was stored.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from holdall.artifacts.versions import Producer, load_current, save_value
from holdall.errors import HoldallError
from holdall.metadata.tables import PipelineRunRow, RunStatus, StepRunRow
from holdall.pipelines import records
from holdall.pipelines.graph import Graph, Invocation, OutputRef

if TYPE_CHECKING:
    from holdall.artifact_stores.base import BaseArtifactStore
    from holdall.artifacts.views import PipelineRun
    from holdall.metadata.database import Database
    from holdall.models import Stack


class StepFailedError(HoldallError):
    def __init__(self, message: str, fix: str, run: PipelineRun) -> None:
        super().__init__(message, fix)
        self.run = run


def _outputs(invocation: Invocation, result: Any) -> dict[str, Any]:
    names = invocation.step.outputs
    if len(names) <= 1:
        return dict(zip(names, [result], strict=False))
    if not isinstance(result, tuple) or len(result) != len(names):
        raise TypeError(
            f"step '{invocation.name}' declares {len(names)} outputs ({', '.join(names)}) "
            f"but returned {type(result).__name__}"
            + (f" of {len(result)}" if isinstance(result, tuple) else "")
        )
    return dict(zip(names, result, strict=True))


class Runner:
    """Runs a pipeline's steps in order on `stack`, recording the run in `database`; a saved
    input is loaded from its store (`store_by_id`), and the run is shown as `run_view` shows
    one."""

    def __init__(
        self,
        graph: Graph,
        database: Database,
        stack: Stack,
        store_by_id: Callable[[str], BaseArtifactStore],
        run_view: Callable[[str], PipelineRun],
    ) -> None:
        self.graph = graph
        self.database = database
        self.stack = stack
        self.store_by_id = store_by_id
        self.run_view = run_view
        self.produced: dict[tuple[int, str], str] = {}  # (invocation id, output) -> version id

    def run(self) -> PipelineRun:
        run = records.start_run(self.database, self.graph.pipeline, self.stack.model.id)
        for invocation in self.graph.invocations:
            try:
                self._run_step(run.id, invocation)
            except Exception as exc:
                records.finish(self.database, PipelineRunRow, run.id, RunStatus.FAILED)
                raise StepFailedError(
                    f"step '{invocation.name}' of run '{run.name}' failed: "
                    f"{type(exc).__name__}: {exc}",
                    fix=f"the outputs of the steps before it are kept: "
                    f"holdall pipeline run describe {run.name}",
                    run=self.run_view(run.id),
                ) from exc
            except BaseException:
                records.finish(self.database, PipelineRunRow, run.id, RunStatus.FAILED)
                raise
        records.finish(self.database, PipelineRunRow, run.id, RunStatus.COMPLETED)
        return self.run_view(run.id)

    def _run_step(self, run_id: str, invocation: Invocation) -> None:
        step_row = records.start_step(
            self.database, run_id, invocation.name, invocation.parameters()
        )
        try:
            arguments = invocation.arguments.arguments.copy()
            for parameter, ref in invocation.upstream().items():
                arguments[parameter] = self._load_input(step_row.id, parameter, ref)
            bound = invocation.step.signature.bind_partial()
            bound.arguments.update(arguments)
            result = invocation.step.func(*bound.args, **bound.kwargs)
            producer = Producer(self.graph.pipeline, invocation.name, run_id, step_row.id)
            for output, value in _outputs(invocation, result).items():
                version = save_value(
                    self.database,
                    self.stack.artifact_store,
                    value,
                    output,
                    producer,
                    compression=invocation.step.compression,
                )
                self.produced[(id(invocation), output)] = version.id
        except BaseException as exc:
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            records.finish(self.database, StepRunRow, step_row.id, RunStatus.FAILED, error)
            raise
        records.finish(self.database, StepRunRow, step_row.id, RunStatus.COMPLETED)

    def _load_input(self, step_run_id: str, parameter: str, ref: OutputRef) -> Any:
        version_id = self.produced[(id(ref.invocation), ref.output)]

        records.record_input(self.database, step_run_id, parameter, version_id)
        return load_current(self.database, version_id, self.store_by_id)
