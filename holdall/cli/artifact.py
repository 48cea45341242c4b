"""`holdall artifact ...`: the versions pipelines saved, where they came from, and clean-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from holdall.cli.output import OUTPUT_OPTION, print_record, print_rows
from holdall.errors import HoldallError

if TYPE_CHECKING:
    from holdall.artifacts.views import ArtifactVersion


def _client() -> Any:
    from holdall.client import Client

    return Client()


def _version(spec: str, include_deleted: bool = False) -> Any:
    name, _, version = spec.partition(":")
    return _client().get_artifact_version(name, version or None, include_deleted)


def version_record(artifact: Any) -> dict[str, Any]:
    return {
        "name": artifact.name,
        "version": artifact.version,
        "uri": artifact.uri,
        "data_type": artifact.data_type,
        "size": artifact.size,
        "created": artifact.created.isoformat(timespec="seconds"),
        "tags": list(artifact.tags),
        "deleted": (
            f"{artifact.deleted.isoformat(timespec='seconds')} by {artifact.deleted_by}"
            if artifact.deleted
            else None
        ),
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
@click.option("--deleted", is_flag=True, help="Show deleted versions (tombstones) too.")
@click.option("-t", "--tag", help="Only the versions holding this tag.")
@OUTPUT_OPTION
def versions(name: str, deleted: bool, tag: str | None, output: str) -> None:
    """List the versions of one artifact."""
    found = _client().list_artifact_versions(name, include_deleted=deleted, tag=tag)
    rows = [version_record(v) for v in found]
    columns = ["version", "created", "size", "tags", "data_type", "uri"]
    print_rows(rows, columns + (["deleted"] if deleted else []), output)


def _yes_option(function: Any) -> Any:
    return click.option("-y", "--yes", is_flag=True, help="Do not ask before deleting.")(function)


def _say_deleted(result: Any) -> None:
    for item in result.done:
        click.echo(f"Deleted {item.label} ({item.size} bytes); its record stays for lineage")
    for label, reason in result.failed.items():
        click.echo(f"could not remove the data of {label}: {reason}", err=True)
    if result.failed:
        raise HoldallError(
            f"{len(result.failed)} version(s) are marked deleted (no load sees them) but "
            "their data is still stored (listed above)",
            fix="fix what each one names, then finish the delete: holdall artifact gc",
        )


@artifact.group("version")
def version() -> None:
    """One version of an artifact."""


@version.command("update")
@click.argument("name")
@click.argument("number", metavar="VERSION")
@click.option("-t", "--tag", "add", multiple=True, help="Give it this tag (repeatable).")
@click.option("-r", "--remove-tag", "remove", multiple=True, help="Take this tag off it.")
@click.option(
    "--exclusive",
    is_flag=True,
    default=None,
    help="A new tag is exclusive: one version per artifact holds it; tagging another moves it.",
)
@click.option(
    "--storage-class",
    help="Move its files to this class or tier (S3 STANDARD_IA, GLACIER; GCS NEARLINE; "
    "Azure Cool, Archive).",
)
def update_version(
    name: str,
    number: str,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    exclusive: bool | None,
    storage_class: str | None,
) -> None:
    """Change a version's tags, or move it to another storage class."""
    if not add and not remove and storage_class is None:
        raise click.UsageError(
            "nothing to change: give -t/--tag TAG, -r/--remove-tag TAG or --storage-class CLASS"
        )
    client = _client()
    if add or remove:
        found = client.update_artifact_version(
            name, number, list(add), list(remove), exclusive=exclusive
        )
        click.echo(f"{found.label} holds tags: {', '.join(found.tags) or '(none)'}")
    if storage_class is not None:
        moved = client.set_artifact_version_storage_class(name, number, storage_class)
        click.echo(f"{moved.label} is in storage class {moved.storage_class}")


@version.command("restore")
@click.argument("name")
@click.argument("number", metavar="VERSION")
@click.option("--days", type=int, default=7, show_default=True, help="How long it stays readable.")
@click.option(
    "--speed",
    default="Standard",
    show_default=True,
    help="S3: Standard, Bulk or Expedited; Azure: Standard or High.",
)
@click.option("--wait", is_flag=True, help="Wait until it can be loaded, saying how it goes.")
@click.option(
    "--timeout",
    type=float,
    default=12 * 3600,
    show_default=True,
    metavar="SECONDS",
    help="The longest --wait waits.",
)
def restore_version(
    name: str, number: str, days: int, speed: str, wait: bool, timeout: float
) -> None:
    """Make an archived version (S3 GLACIER or DEEP_ARCHIVE, Azure Archive) readable again."""
    client = _client()
    before = client.restore_artifact_version(name, number, days, speed)
    label = f"{name}:{number}"
    if before.archived:
        click.echo(
            f"Asked to restore {before.archived} file(s) of {label} for {days} day(s)"
            + (f"; {before.restoring} already being restored" if before.restoring else "")
        )
    elif before.restoring:
        click.echo(f"{label} is being restored already ({before.restoring} file(s))")
    else:
        click.echo(f"{label} is restored already: it can be loaded")
        return
    if not wait:
        click.echo(f"See how it goes: holdall artifact version restore {name} {number} --wait")
        return

    def report(state: Any, waited: float) -> None:
        click.echo(
            f"{label}: {state.readable} of {state.files} file(s) readable after {waited:.0f} s",
            err=True,
        )

    client.wait_for_restore(name, number, timeout, report)
    click.echo(f"{label} can be loaded")


@version.command("delete")
@click.argument("name")
@click.argument("number", metavar="VERSION")
@_yes_option
def delete_version(name: str, number: str, yes: bool) -> None:
    """Delete a version's data; its record stays (who deleted it, when, and its lineage)."""
    from holdall.cli.prompt import confirm

    client = _client()
    if not yes:
        found = client.get_artifact_version(name, number)
        confirm(f"Delete {found.label} ({found.size} bytes at {found.uri})?")
    _say_deleted(client.delete_artifact_version(name, number))


@artifact.command("delete")
@click.argument("name")
@_yes_option
def delete_artifact(name: str, yes: bool) -> None:
    """Delete every version of an artifact; their records stay, for lineage."""
    from holdall.cli.prompt import confirm

    client = _client()
    if not yes:
        found = client.list_artifact_versions(name)
        size = sum(v.size for v in found)
        confirm(f"Delete all {len(found)} version(s) of {name} ({size} bytes)?")
    _say_deleted(client.delete_artifact(name))


@artifact.command("describe")
@click.argument("spec", metavar="NAME[:VERSION]")
@click.option("-t", "--tag", help="The version holding this tag (e.g. production).")
@OUTPUT_OPTION
def describe(spec: str, tag: str | None, output: str) -> None:
    """Show one version (the latest unless VERSION or a tag is given; a deleted one's record
    too)."""
    name, _, number = spec.partition(":")
    version = _client().get_artifact_version(name, number or None, True, tag=tag)
    producer = version.producer_step
    record = {
        **version_record(version),
        "materializer": version.materializer,
        "checksum": version.checksum,
        "storage_class": version.storage_class or "(its store's own)",
        "producer_step": producer.name if producer else None,
        "pipeline_run": producer.run.name if producer else None,
        # Each file's own checksum: the hex b3sum prints for the stored file.
        "files": {path: _file_record(version, path, output) for path in version.files},
    }
    print_record(record, output)


def _file_record(version: ArtifactVersion, path: str, output: str) -> Any:
    """A stored file's size and checksum, and if it is compressed, its codec and what it
    decompresses to."""
    size, digest = version.files[path]
    packing = version.codecs.get(path)
    plain = packing.plain if packing else None
    if output == "json":
        record: dict[str, Any] = {"size": size, "checksum": digest}
        if packing:
            record["codec"] = packing.codec
        if plain:
            record.update(plain_size=plain[0], plain_checksum=plain[1])
        return record
    if not packing:
        return f"{digest}  ({size} bytes)"
    unpacked = f", {plain[0]} decompressed" if plain else ""
    return f"{digest}  ({size} bytes, {packing.codec}{unpacked})"


@artifact.command("lineage")
@click.argument("spec", metavar="NAME[:VERSION]")
@click.option(
    "--format",
    "style",
    type=click.Choice(["tree", "mermaid", "dot", "svg"]),
    default="tree",
    show_default=True,
    help="A tree for the terminal, a graph to draw (mermaid, dot), or a picture (svg, which "
    "also shows what was made from the version).",
)
def lineage(spec: str, style: str) -> None:
    """Show the steps and artifacts a version was made from."""
    from holdall.artifacts import lineage as graph

    version = _version(spec, include_deleted=True)
    if style == "svg":
        from holdall.artifacts.drawing import render_svg

        picture = _client().lineage_graph(version)
        click.echo(render_svg(picture, highlight=graph.version_node(version.id), links=False))
        return
    root = graph.lineage(version)
    render = {"tree": graph.render_tree, "mermaid": graph.render_mermaid, "dot": graph.render_dot}
    click.echo(render[style](root))


@artifact.command("prune")
@click.option("--keep-last", type=int, metavar="N", help="Keep each artifact's newest N versions.")
@click.option(
    "--older-than", type=float, metavar="DAYS", help="Keep versions newer than this many days."
)
@click.option(
    "--include-used", is_flag=True, help="Let go versions that pipeline steps took as inputs."
)
@click.option("--artifact", "artifacts", multiple=True, help="Only this artifact (repeatable).")
@click.option(
    "--storage-class",
    help="Move what the rules let go to this class or tier (GLACIER_IR, Cool, ...) instead "
    "of deleting it.",
)
@click.option("--dry-run", is_flag=True, help="Say what would go and why the rest stays.")
@_yes_option
def prune(
    keep_last: int | None,
    older_than: float | None,
    include_used: bool,
    artifacts: tuple[str, ...],
    storage_class: str | None,
    dry_run: bool,
    yes: bool,
) -> None:
    """Delete the versions retention rules let go: not among the newest --keep-last, older
    than --older-than. Tagged versions, and versions a step used, always stay (the latter
    unless --include-used). Records stay as tombstones, for lineage."""
    from datetime import timedelta

    from holdall.cli.progress import size_text
    from holdall.cli.prompt import confirm

    client = _client()
    age = timedelta(days=older_than) if older_than is not None else None
    rules = {"include_used": include_used, "artifacts": artifacts}
    if storage_class is not None:
        _tier(client, storage_class, keep_last, age, rules, dry_run, yes)
        return
    the_plan = client.plan_artifact_prune(keep_last, age, **rules)
    if dry_run:
        for item in the_plan.doomed:
            click.echo(f"would delete {item.label} ({size_text(item.size)})")
        for label, why in the_plan.kept.items():
            click.echo(f"keep {label}: {why}")
        click.echo(
            f"would delete {len(the_plan.doomed)} version(s), {size_text(the_plan.size)}; "
            f"{len(the_plan.kept)} kept"
        )
        return
    if not the_plan.doomed:
        click.echo(f"Nothing to prune; {len(the_plan.kept)} version(s) kept")
        return
    # Asked about a plan, the prune deletes from that plan only; told --yes, whatever the
    # rules let go when it runs.
    within = None
    if not yes:
        confirm(f"Delete {len(the_plan.doomed)} version(s) ({size_text(the_plan.size)})?")
        within = [item.version_id for item in the_plan.doomed]
    deleted = client.prune_artifacts(keep_last, age, within=within, **rules)
    _say_deleted(deleted)
    click.echo(
        f"Pruned {len(deleted.done)} version(s), {size_text(deleted.size)}; "
        f"{len(the_plan.kept)} kept"
    )


def _tier(
    client: Any,
    storage_class: str,
    keep_last: int | None,
    age: Any,
    rules: dict[str, Any],
    dry_run: bool,
    yes: bool,
) -> None:
    """`prune --storage-class`: what the rules let go moves to a cheaper class."""
    from holdall.cli.progress import size_text
    from holdall.cli.prompt import confirm

    move = client.move_artifacts_to_storage_class
    the_plan, _ = move(storage_class, keep_last, age, dry_run=True, **rules)
    if dry_run:
        for item in the_plan.doomed:
            click.echo(f"would move {item.label} ({size_text(item.size)}) to {storage_class}")
        for label, why in the_plan.kept.items():
            click.echo(f"keep {label} where it is: {why}")
        click.echo(f"would move {len(the_plan.doomed)} version(s), {size_text(the_plan.size)}")
        return
    if the_plan.doomed and not yes:
        confirm(f"Move {len(the_plan.doomed)} version(s) to {storage_class}?")
    _, outcome = move(storage_class, keep_last, age, **rules)
    for label, error in outcome.items():
        if error is None:
            click.echo(f"Moved {label} to {storage_class}")
        else:
            click.echo(f"could not move {label}: {error}", err=True)
    failed = [label for label, error in outcome.items() if error]
    if failed:
        raise HoldallError(
            f"{len(failed)} version(s) stay where they were (listed above)",
            fix="fix what each names, then run the same prune again: it goes on",
        )


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
    for item in sweep.deletes():
        click.echo(
            f"{'would finish' if dry_run else 'finished'} the delete of {item.label}: "
            f"{item.uri}  [{item.reason}]"
        )
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
