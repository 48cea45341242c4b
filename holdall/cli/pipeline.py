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


class _ListByDefault(click.Group):
    """`pipeline runs [PIPELINE]` lists, as before; `pipeline runs list|delete ...` as
    ZenML spells them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@pipeline.group("runs", cls=_ListByDefault)
def runs() -> None:
    """Pipeline runs: list them (the default), or delete one."""


@runs.command("list")
@click.argument("pipeline_name", required=False, metavar="[PIPELINE]")
@click.option("--deleted", is_flag=True, help="Show deleted runs (tombstones) too.")
@OUTPUT_OPTION
def list_runs(pipeline_name: str | None, deleted: bool, output: str) -> None:
    """List runs, of every pipeline or of one."""
    rows = [
        {
            "name": r.name,
            "pipeline": r.pipeline,
            "status": r.status,
            "start": _time(r.start),
            "end": _time(r.end),
            "deleted": f"{_time(r.deleted)} by {r.deleted_by}" if r.deleted else None,
        }
        for r in _client().list_pipeline_runs(pipeline_name, include_deleted=deleted)
    ]
    columns = ["name", "pipeline", "status", "start", "end"]
    print_rows(rows, columns + (["deleted"] if deleted else []), output)


@runs.command("delete")
@click.argument("run_name", metavar="RUN")
@click.option("--include-used", is_flag=True, help="Delete outputs other runs took as inputs too.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before deleting.")
def delete_run(run_name: str, include_used: bool, yes: bool) -> None:
    """Delete a run's outputs; its record stays, so that lineage still names it."""
    from holdall.cli.prompt import confirm
    from holdall.errors import HoldallError

    client = _client()
    found = client.get_pipeline_run(run_name)
    if not yes:
        confirm(f"Delete run {found.name} of pipeline {found.pipeline} and its outputs?")
    result = client.delete_pipeline_run(found.id, include_used)
    for item in result.outputs.done:
        click.echo(f"Deleted {item.label} ({item.size} bytes)")
    for label, why in result.kept.items():
        click.echo(f"kept {label}: {why} (--include-used deletes it)")
    for label, why in result.outputs.failed.items():
        click.echo(f"could not remove the data of {label}: {why}", err=True)
    if result.outputs.failed:
        raise HoldallError(
            f"run {found.name} is not deleted yet: {len(result.outputs.failed)} output(s) "
            "could not be removed (listed above)",
            fix=f"fix what each names, then again: holdall pipeline runs delete {found.name} -y",
        )
    click.echo(f"Deleted run {found.name}; its record stays for lineage")


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
