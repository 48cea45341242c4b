"""Asking before a change, when there is someone to ask."""

from __future__ import annotations

import sys

import click

from holdall.errors import HoldallError


def confirm(question: str) -> None:
    """Go on only on a yes. Ctrl-C is left to end the command with 130, as anywhere else."""
    click.echo(f"{question} [y/N]: ", nl=False)
    line = sys.stdin.readline() if sys.stdin is not None and not sys.stdin.closed else ""
    if not line:  # end of input: stdin closed, or /dev/null, or nobody there
        click.echo()
        raise HoldallError(
            "cannot ask for confirmation: there is no input (stdin is closed)",
            fix="pass -y to go ahead without asking",
        )
    if line.strip().lower() not in ("y", "yes"):
        raise click.Abort()
