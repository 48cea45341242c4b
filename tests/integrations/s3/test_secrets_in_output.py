"""A secret given to `register` or `update` appears in no output, traceback or clear file.

Every bad input below carries the secret; each runs with and without HOLDALL_DEBUG=1, as
its own process, and the output and the config dir are searched for the secret and its ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import holdall_process
from tests.fixtures.integrations import require

require("holdall_s3")

SECRET = "Zk4q-SECRET-7b1e0c9d-3a6f-tail9Xw2"
# pydantic shortens long inputs from the middle; what would leak is each end.
PIECES = (SECRET, SECRET[:8], SECRET[-6:], "7b1e0c9d")
KEY = f"--aws_secret_access_key={SECRET}"
REGISTER = ("artifact-store", "register")
GOOD = ("--flavor=s3", "--path=s3://good-bucket/p", "--aws_access_key_id=AKIATEST")
# Where a store that registers is looked at: nothing listens there, and it is said at once
# (AWS's own endpoint, unreachable here, would cost seconds of retries in every test).
NOWHERE = ("--endpoint_url=http://127.0.0.1:9", "--retries=0")

BAD_INPUTS = {
    "secret without its key id": (*REGISTER, "a", "--flavor=s3", "--path=s3://bb1", KEY),
    "a secret sorting after path": (
        *REGISTER,
        "a",
        "--flavor=s3",
        "--path=s3://bb1",
        f"--aws_session_token={SECRET}",
        "--sse_kms_key_id=k",
    ),
    "not a number": (*REGISTER, "a", *GOOD, KEY, "--max_concurrency=lots"),
    "too small": (*REGISTER, "a", *GOOD, KEY, "--multipart_chunksize=5"),
    "a bad choice": (*REGISTER, "a", *GOOD, KEY, "--sse=rot13"),
    "a bad scheme": (*REGISTER, "a", "--flavor=s3", "--path=gs://b/p", KEY),
    "a bad bucket": (*REGISTER, "a", "--flavor=s3", "--path=s3://B_/p", KEY),
    "a dot-dot path": (*REGISTER, "a", "--flavor=s3", "--path=s3://bb1/../x", KEY),
    "an unknown key": (*REGISTER, "a", *GOOD, KEY, "--colour=blue"),
    "an unknown flavor": (*REGISTER, "a", "--flavor=s4", "--path=s3://bb1", KEY),
    "a bad store name": (*REGISTER, "a/b", *GOOD, KEY),
    "secret as a bare argument": (*REGISTER, "a", *GOOD, "--aws_secret_access_key=", SECRET),
    "secret in client_kwargs": (
        *REGISTER,
        "a",
        *GOOD,
        f'--client_kwargs={{"aws_secret_access_key": "{SECRET}"}}',
    ),
    "secret deep in config_kwargs": (
        *REGISTER,
        "a",
        *GOOD,
        f'--config_kwargs={{"proxies": {{"token": "{SECRET}"}}}}',
    ),
    "secret in broken JSON": (*REGISTER, "a", *GOOD, f'--client_kwargs={{"key": "{SECRET}"'),
    "secret in s3_additional_kwargs": (
        *REGISTER,
        "a",
        *GOOD,
        f'--s3_additional_kwargs={{"Password": "{SECRET}"}}',
    ),
    "an SSE-C key in s3_additional_kwargs": (
        *REGISTER,
        "a",
        *GOOD,
        f'--s3_additional_kwargs={{"SSECustomerAlgorithm": "AES256", "SSECustomerKey": '
        f'"{SECRET}"}}',
    ),
    # Passwords in URLs are secrets wherever they appear.
    "a password in the endpoint": (
        *REGISTER,
        "a",
        *GOOD,
        f"--endpoint_url=http://id:{SECRET}@127.0.0.1:9",
    ),
    "a password in a proxy": (
        *REGISTER,
        "a",
        *GOOD,
        f'--config_kwargs={{"proxies": {{"https": "http://user:{SECRET}@proxy:3128"}}}}',
    ),
    "a key and secret in the path": (
        *REGISTER,
        "a",
        "--flavor=s3",
        f"--path=s3://AKIA:{SECRET}@bb1/x",
    ),
    "a password in a connector's endpoint": (
        "service-connector",
        "register",
        "c",
        "--type",
        "aws",
        "--auth-method=secret-key",
        "--aws_access_key_id=AKIATEST",
        "--aws_secret_access_key=fine",
        f"--endpoint_url=https://u:{SECRET}@s3.example:443",
        "--no-verify",
    ),
    "update with a bad value": (
        "artifact-store",
        "update",
        "existing",
        KEY,
        "--max_concurrency=0",
    ),
    "update of a missing store": ("artifact-store", "update", "ghost", KEY),
    "update to a bad choice": ("artifact-store", "update", "existing", KEY, "--sse=rot13"),
}


def _leaks(text: str) -> list[str]:
    # pydantic's `input_value=` shows a long value's ends, too short to search for alone.
    return [piece for piece in (*PIECES, "input_value") if piece in text]


def _files_holding_the_secret(folder: Path) -> list[str]:
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and any(p.encode() in path.read_bytes() for p in PIECES)
    ]


@pytest.fixture
def existing_store() -> None:
    registered = holdall_process(
        *REGISTER, "existing", *GOOD, *NOWHERE, "--aws_secret_access_key=first"
    )
    assert registered.code == 0, registered.err


@pytest.mark.parametrize("debug", ["0", "1"])
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_secret_in_bad_input_is_never_shown(
    case: str, debug: str, config_dir: Path, existing_store: None
) -> None:
    result = holdall_process(*BAD_INPUTS[case], env={"HOLDALL_DEBUG": debug})
    assert result.code != 0, result.out
    assert result.err.startswith("error:") or "Traceback" in result.err
    assert _leaks(result.out + result.err) == [], result.err
    assert _files_holding_the_secret(config_dir) == []


def test_a_stored_secret_is_in_no_clear_file_and_no_output(config_dir: Path) -> None:
    registered = holdall_process(*REGISTER, "ok", *GOOD, *NOWHERE, KEY)
    assert registered.code == 0, registered.err
    outputs = [registered]
    for command in (
        ("artifact-store", "describe", "ok"),
        ("artifact-store", "describe", "ok", "-o", "json"),
        ("artifact-store", "list", "-o", "json"),
        ("artifact-store", "update", "ok", KEY, "--max_concurrency=3"),
    ):
        outputs.append(holdall_process(*command, env={"HOLDALL_DEBUG": "1"}))
        assert outputs[-1].code == 0, outputs[-1].err
    assert [_leaks(r.out + r.err) for r in outputs] == [[]] * len(outputs)
    assert _files_holding_the_secret(config_dir) == []
