"""Shared fixtures: every test gets its own config dir, and a way to run the command."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from holdall.cli.main import run
from holdall.client import Client
from holdall.registry import get_registry

REPO = Path(__file__).resolve().parent.parent


def _own_temp_dir() -> None:
    """Under pytest-xdist, a temp dir for each test process and what it starts: tests look
    at what is left in the temp dir (spooled copies), which another process's tests would
    otherwise fill."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    own = tempfile.mkdtemp(prefix=f"holdall-tests-{worker}-")
    os.chmod(own, 0o755)  # PostgreSQL's server, run as its own user, keeps its data inside
    atexit.register(shutil.rmtree, own, ignore_errors=True)
    os.environ["TMPDIR"] = own
    tempfile.tempdir = None  # asked again: TMPDIR


_own_temp_dir()

pytest_plugins = [
    "tests.fixtures.moto",
    "tests.fixtures.gcs",
    "tests.fixtures.azurite",
    "tests.fixtures.postgres",
    "tests.fixtures.stores",
    "tests.fixtures.package_index",
]


@dataclass
class Result:
    code: int
    out: str
    err: str


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: spread over test processes, the long ones start at once and the
    short ones fill in around them, rather than one long test holding up the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "holdall-config"
    monkeypatch.setenv("HOLDALL_CONFIG_DIR", str(directory))
    monkeypatch.delenv("HOLDALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("HOLDALL_DEBUG", raising=False)
    get_registry.cache_clear()
    yield directory
    get_registry.cache_clear()
    # Each test's database is its own: its connections go with it (PostgreSQL counts them).
    Client.close_shared()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run `holdall ARGS...` in this process, as main() would, and capture what it prints."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def holdall_process(
    *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (), **kwargs
) -> Result:
    """Run `python -m holdall ARGS...` as its own process (for imports, tracebacks, races)."""
    completed = subprocess.run(
        [*prefix, sys.executable, "-m", "holdall", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kwargs,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def assert_interrupted(process: subprocess.Popen, err: str | bytes) -> None:
    """Ctrl-C ended `process` as a stopped command ends: its last word one line, no
    traceback, then killed by SIGINT (which a shell shows as 130)."""
    text = err.decode() if isinstance(err, bytes) else err
    assert process.returncode == -signal.SIGINT, text
    assert text.strip().splitlines()[-1] == "error: interrupted" and "Traceback" not in text
