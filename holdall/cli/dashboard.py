"""`holdall dashboard`: serve the read-only pages (the `holdall[dashboard]` extra)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import click

DEFAULT_PORT = 8237


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file holding the token requests must carry; needed for any address but loopback.",
)
def dashboard(host: str, port: int, token_file: Path | None) -> None:
    """Serve artifacts, versions and their files as web pages (read-only). Opens nothing by
    itself: visit the address it prints."""
    from holdall.dashboard.access import Access, check_exposure, read_token
    from holdall.errors import ConfigError

    token = read_token(token_file) if token_file else None
    check_exposure(host, token)
    try:
        import uvicorn

        from holdall.dashboard.app import make_app
    except ImportError as exc:
        raise ConfigError(
            f"the dashboard needs its extra ({exc.name} is not installed)",
            fix="pip install 'holdall[dashboard]'",
        ) from None
    from holdall.client import Client

    listening = _listen(host, port)
    access = Access(token)
    config = uvicorn.Config(
        make_app(Client(), access),
        access_log=False,  # a login link's code must not land in a log
        log_level="warning",
    )
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{listening.getsockname()[1]}/"
    if access.open:
        click.echo(f"holdall dashboard: {address} (this machine only); Ctrl-C stops it")
    else:
        click.echo(
            f"holdall dashboard: {address}; log in once at {address}login?code="
            f"{access.login_code} (or send the header Authorization: Bearer <token>)"
        )
    logging.getLogger("uvicorn.error").addFilter(_one_line)
    uvicorn.Server(config).run(sockets=[listening])


def _one_line(record: logging.LogRecord) -> bool:
    """A request that failed (a download cut off because the file was damaged, say) is one
    line in the server's output, as every holdall error is; HOLDALL_DEBUG=1 keeps the
    traceback."""
    from holdall.errors import first_line
    from holdall.settings import debug

    if record.exc_info and record.exc_info[1] is not None and not debug():
        record.msg = f"a request failed: {first_line(record.exc_info[1])}"
        record.args = ()
        record.exc_info, record.exc_text = None, None
    return True


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the address is printed: what connects from then
    on is queued until the server takes it (port 0: a free one, as the tests ask)."""
    from holdall.errors import ConfigError

    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            fix="holdall dashboard --port 9000 (another port), or --host with this "
            "machine's address",
        ) from None
    listening.listen(128)
    return listening
