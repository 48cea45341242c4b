"""Entry point of the `holdall` command: the group, and the one place errors are reported."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

import click

from holdall import __version__
from holdall.cli.artifact import artifact
from holdall.cli.artifact_store import artifact_store
from holdall.cli.cache import cache
from holdall.cli.dashboard import dashboard
from holdall.cli.db import db
from holdall.cli.integration import integration
from holdall.cli.pipeline import pipeline
from holdall.cli.secrets import secrets
from holdall.cli.service_connector import service_connector
from holdall.cli.stack import stack
from holdall.cli.tag import tag
from holdall.errors import HoldallError
from holdall.settings import DEBUG_ENV, debug


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="holdall")
def cli() -> None:
    """holdall: versioned ML artifacts, with lineage, in the storage you already have."""


cli.add_command(integration)
cli.add_command(artifact_store)
cli.add_command(service_connector)
cli.add_command(stack)
cli.add_command(artifact)
cli.add_command(pipeline)
cli.add_command(tag)
cli.add_command(cache)
cli.add_command(db)
cli.add_command(secrets)
cli.add_command(dashboard)


INTERRUPTED = 130  # 128 + SIGINT, what a shell shows for a command Ctrl-C stopped


def _fail(message: str, code: int = 1) -> int:
    click.echo(f"error: {message}", err=True)
    return code


def _quiet_libraries() -> None:
    """SDKs log their own failures (gcsfs logs a traceback when it gives up on a request):
    the error holdall reports is the one line; HOLDALL_DEBUG=1 lets their logs through."""
    if debug():
        logging.basicConfig(level=logging.WARNING)
    elif not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())


def run(argv: list[str] | None = None) -> int:
    _quiet_libraries()
    try:
        result = cli.main(args=argv, prog_name="holdall", standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C inside a command into Abort; it is still an interruption.
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            return _fail("interrupted", INTERRUPTED)
        return _fail("aborted")
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "holdall"
        return _fail(f"{exc.format_message()}\n  fix: {command} --help", exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except HoldallError as exc:
        if debug():
            traceback.print_exc()
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", INTERRUPTED)
    except OSError as exc:
        if debug():
            traceback.print_exc()
        return _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:
        if debug():
            raise
        return _fail(
            f"unexpected {type(exc).__name__}: {exc}\n  set {DEBUG_ENV}=1 to see the traceback", 2
        )
    return result if isinstance(result, int) else 0


def main() -> None:
    code = run()
    if code == INTERRUPTED:
        _die_of_sigint()
    sys.exit(code)


def _die_of_sigint() -> None:
    """End as a program Ctrl-C stopped, once cleaned up: killed by SIGINT (the shell shows
    130). A shell script running holdall stops only then: bash goes on after a child that
    merely exits 130. Python does this after its own shutdown for a KeyboardInterrupt no one
    caught; the one `run` caught and reported goes on up, its traceback unshown."""
    sys.excepthook = _unshown_interrupt
    raise KeyboardInterrupt


def _unshown_interrupt(
    kind: type[BaseException], value: BaseException, trace: TracebackType | None
) -> None:
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, trace)
