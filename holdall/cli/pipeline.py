"""`holdall pipeline ...`: the runs of pipelines and what their steps did."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows


def _client() -> Any:
    from holdall.client import Client

    return Client()


def _time(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


@click.group()
def pipeline() -> None:
    """Pipelines and their runs."""


@pipeline.command("runs")
@click.argument("pipeline_name", required=False, metavar="[PIPELINE]")
@OUTPUT_OPTION
def runs(pipeline_name: str | None, output: str) -> None:
    """List runs, of every pipeline or of one."""
    rows = [
        {
            "name": r.name,
            "pipeline": r.pipeline,
            "status": r.status,
            "start": _time(r.start),
            "end": _time(r.end),
        }
        for r in _client().list_pipeline_runs(pipeline_name)
    ]
    print_rows(rows, ["name", "pipeline", "status", "start", "end"], output)


@pipeline.group("run")
def run() -> None:
    """One pipeline run."""


@run.command("describe")
@click.argument("run_name", metavar="RUN")
@OUTPUT_OPTION
def describe(run_name: str, output: str) -> None:
    """Show a run: its steps, what each was given and what it made."""
    found = _client().get_pipeline_run(None, run_name)
    steps = {
        name: {
            "status": s.status,
            "inputs": {k: v.label for k, v in s.inputs.items()},
            "outputs": {k: v.label for k, v in s.outputs.items()},
            **({"error": s.error} if s.error else {}),
        }
        for name, s in found.steps.items()
    }
    if output == "json":
        record = {
            "name": found.name,
            "pipeline": found.pipeline,
            "status": found.status,
            "start": _time(found.start),
            "end": _time(found.end),
            "steps": steps,
        }
        print_record(record, output)
        return
    click.echo(f"run {found.name} of pipeline {found.pipeline}: {found.status}")
    for name, step in steps.items():
        click.echo(f"  step {name}: {step['status']}")
        for label, mapping in (("in ", step["inputs"]), ("out", step["outputs"])):
            for key, value in mapping.items():
                click.echo(f"    {label} {key} = {value}")
        if "error" in step:
            click.echo(f"    error: {step['error']}")
