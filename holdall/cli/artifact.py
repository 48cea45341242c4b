"""`holdall artifact ...`: the versions pipelines saved, where they came from, and clean-up."""

from __future__ import annotations

from typing import Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows
from holdall.errors import HoldallError


def _client() -> Any:
    from holdall.client import Client

    return Client()


def _version(spec: str) -> Any:
    name, _, version = spec.partition(":")
    return _client().get_artifact_version(name, version or None)


def version_record(artifact: Any) -> dict[str, Any]:
    return {
        "name": artifact.name,
        "version": artifact.version,
        "uri": artifact.uri,
        "data_type": artifact.data_type,
        "size": artifact.size,
        "created": artifact.created.isoformat(timespec="seconds"),
    }


@click.group()
def artifact() -> None:
    """Artifacts: the versioned inputs and outputs of pipeline steps."""


@artifact.command("list")
@OUTPUT_OPTION
def list_artifacts(output: str) -> None:
    """List every artifact with its latest version."""
    rows = [
        {"name": name, "latest_version": latest, "versions": count}
        for name, latest, count in _client().list_artifacts()
    ]
    print_rows(rows, ["name", "latest_version", "versions"], output)


@artifact.command("versions")
@click.argument("name")
@OUTPUT_OPTION
def versions(name: str, output: str) -> None:
    """List the versions of one artifact."""
    rows = [version_record(v) for v in _client().list_artifact_versions(name)]
    print_rows(rows, ["version", "created", "size", "data_type", "uri"], output)


@artifact.command("describe")
@click.argument("spec", metavar="NAME[:VERSION]")
@OUTPUT_OPTION
def describe(spec: str, output: str) -> None:
    """Show one version (the latest unless VERSION is given)."""
    version = _version(spec)
    producer = version.producer_step
    record = {
        **version_record(version),
        "materializer": version.materializer,
        "checksum": version.checksum,
        "producer_step": producer.name if producer else None,
        "pipeline_run": producer.run.name if producer else None,
        # Each file's own checksum: the hex b3sum prints for the stored file.
        "files": {
            path: {"size": size, "checksum": digest}
            if output == "json"
            else f"{digest}  ({size} bytes)"
            for path, (size, digest) in version.files.items()
        },
    }
    print_record(record, output)


@artifact.command("lineage")
@click.argument("spec", metavar="NAME[:VERSION]")
@click.option(
    "--format",
    "style",
    type=click.Choice(["tree", "mermaid", "dot"]),
    default="tree",
    show_default=True,
    help="A tree for the terminal, or a graph to draw.",
)
def lineage(spec: str, style: str) -> None:
    """Show the steps and artifacts a version was made from."""
    from holdall.artifacts import lineage as graph

    root = graph.lineage(_version(spec))
    render = {"tree": graph.render_tree, "mermaid": graph.render_mermaid, "dot": graph.render_dot}
    click.echo(render[style](root))


@artifact.command("gc")
@click.option("--dry-run", is_flag=True, help="Say what would be removed, remove nothing.")
@click.option(
    "--older-than",
    type=float,
    default=24.0,
    show_default=True,
    metavar="HOURS",
    help="Collect saves in progress on other machines once they are this old.",
)
def gc(dry_run: bool, older_than: float) -> None:
    """Clear away interrupted saves (never visible as versions) and mark interrupted runs
    failed."""
    from datetime import timedelta

    sweep = _client().artifact_gc(timedelta(hours=older_than), dry_run)
    verb = "would remove" if dry_run else "removed"
    collected = 0
    for item in sweep.saves():
        what = item.uri if item.data_found else "(no data was written)"
        click.echo(f"{verb} {item.label}: {what}  [{item.reason}]")
        collected += 1
    for spool in sweep.spools():
        click.echo(f"{verb} {spool}  [staged by a process that is gone]")
    for killed in sweep.migrations():
        where = f"the migration from '{killed.source}' to '{killed.target}' left"
        gone = f"[its process {killed.process} is gone]"
        if dry_run:
            click.echo(f"would clear what {where} half copied  {gone}")
        else:
            what = ", ".join(killed.cleared) or "nothing"
            click.echo(f"cleared what {where} half copied: {what}  {gone}")
    for copy in sweep.loaded_copies():
        click.echo(f"{verb} {copy}  [a loaded copy, replaced or left half done]")
    runs = sweep.runs()
    for item in runs:
        click.echo(f"{'would mark' if dry_run else 'marked'} {item.label} failed  [{item.reason}]")
    problems = sweep.problems
    done = "found" if dry_run else "cleaned up"
    click.echo(f"{collected} interrupted save(s) and {len(runs)} interrupted run(s) {done}")
    for problem in problems:
        click.echo(f"skipped {problem.label}: {problem.reason}", err=True)
    if problems:
        raise HoldallError(
            f"{len(problems)} interrupted save(s) could not be cleaned up (listed above); "
            "everything else was",
            fix="fix what each one names (a bucket, credentials, a store), then run "
            "holdall artifact gc again",
        )
