"""One error shape: one or two lines, non-zero exit, a traceback only with HOLDALL_DEBUG=1."""

from __future__ import annotations

from tests.conftest import holdall_process
from tests.core.test_cli_artifact_store import error_of

BAD = ("artifact-store", "register", "x", "--flavor=nope", "--path=/tmp/x")


def test_a_user_error_shows_no_traceback() -> None:
    err = error_of(holdall_process(*BAD))
    assert err.startswith("error: unknown flavor 'nope'")


def test_holdall_debug_shows_the_traceback() -> None:
    result = holdall_process(*BAD, env={"HOLDALL_DEBUG": "1"})
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert "FlavorError" in result.err


def test_usage_errors_are_short_too() -> None:
    err = error_of(holdall_process("artifact-store", "register", "x"))
    assert "Missing option '--flavor'" in err
    assert "fix: holdall artifact-store register --help" in err
    err = error_of(holdall_process("artifact-store", "register", "x", "-f", "local", "stray"))
    assert "an argument without --KEY= is not a setting" in err and "stray" not in err
