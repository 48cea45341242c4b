"""Bad input found by trying holdall as a new user would: each gets a clear answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from holdall import Client
from holdall.errors import ConfigError, NotFoundError
from tests.conftest import assert_interrupted, holdall_process
from tests.core.test_cli_artifact_store import error_of


@pytest.mark.parametrize("name", ["model\n", "model\r\n", "\nmodel", "mo\ndel"])
def test_names_are_matched_whole(name: str, cli) -> None:
    with pytest.raises(ConfigError, match="invalid artifact name"):
        Client().save_artifact(1, name)
    assert "invalid artifact store name" in error_of(
        cli("artifact-store", "register", name, "--flavor=local")
    )
    assert "invalid stack name" in error_of(cli("stack", "register", name, "-a", "default"))
    assert [s["name"] for s in json.loads(cli("artifact-store", "list", "-o", "json").out)] == [
        "default"
    ]


def test_a_setting_read_from_a_huge_file_is_refused(cli, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"x" * (3 * 1024 * 1024))
    err = error_of(cli("artifact-store", "register", "big", "--flavor=local", f"--path=@{huge}"))
    assert "the file is larger than 1024 KiB, the most a setting takes" in err
    assert "big" not in cli("artifact-store", "list").out


def test_a_huge_setting_from_python_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="path is longer than 1024 KiB"):
        Client().register_artifact_store("big", "local", path=str(tmp_path) + "/x" * 600_000)


def test_a_setting_read_from_a_binary_file_is_refused(cli, tmp_path: Path) -> None:
    binary = tmp_path / "key.bin"
    binary.write_bytes(bytes(range(256)))
    err = error_of(cli("artifact-store", "register", "b", "--flavor=local", f"--path=@{binary}"))
    assert "the file is not UTF-8 text" in err


@pytest.mark.parametrize(
    "content, why",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", "not text"),
        (b"active_stack_id: [1, 2]\n", "active_stack_id is not a str"),
        (b"active_stack_id: 12\n", "active_stack_id is not a str"),
        (b"- just\n- a list\n", "not a YAML mapping"),
    ],
)
def test_a_damaged_config_yaml_is_named_with_its_fix(
    cli, config_dir: Path, content: bytes, why: str
) -> None:
    assert cli("stack", "list").code == 0
    (config_dir / "config.yaml").write_bytes(content)
    for command in (("stack", "list"), ("stack", "describe"), ("stack", "set", "default")):
        err = error_of(holdall_process(*command))
        assert f"{config_dir / 'config.yaml'} is damaged ({why})" in err
        assert "fix: rm" in err and "holdall stack set default" in err
    (config_dir / "config.yaml").unlink()
    assert cli("stack", "set", "default").code == 0  # the fix works


@pytest.mark.parametrize(
    "spec, message",
    [
        ("x:99999999999999999999", "invalid version 99999999999999999999: versions count from 1"),
        ("x:²", "invalid version '²': versions are whole numbers"),
        ("x:0", "invalid version 0: versions count from 1"),
        ("x:-1", "invalid version '-1'"),
        ("x:1.5", "invalid version '1.5'"),
    ],
)
def test_versions_that_are_not_numbers_we_keep(spec: str, message: str) -> None:
    Client().save_artifact(1, "x")
    for command in ("describe", "lineage"):
        err = error_of(holdall_process("artifact", command, spec))
        assert message in err, err
        assert "fix: holdall artifact versions" in err


def test_a_missing_version_is_not_found(cli) -> None:
    Client().save_artifact(1, "x")
    with pytest.raises(NotFoundError, match="artifact 'x' has no version 2147483647"):
        Client().get_artifact_version("x", 2**31 - 1)


def test_a_confirmation_with_no_input_says_to_pass_y(tmp_path: Path) -> None:
    for stdin in (subprocess.DEVNULL, None):
        completed = subprocess.run(
            [sys.executable, "-m", "holdall", "integration", "uninstall", "s3"],
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 1
        assert "cannot ask for confirmation: there is no input" in completed.stderr
        assert "fix: pass -y" in completed.stderr
    closed = subprocess.run(
        f"{sys.executable} -m holdall integration uninstall s3 <&-",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert closed.returncode == 1 and "fix: pass -y" in closed.stderr, closed.stderr


def test_ctrl_c_at_a_prompt_ends_it_with_one_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "holdall", "integration", "uninstall", "s3"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.read(len("Uninstall")) == "Uninstall"  # it is asking now
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert_interrupted(process, err)


INTERRUPTED_SAVE = """
    import os, signal
    from holdall import Client
    from holdall.materializers import BaseMaterializer, register_materializer

    @register_materializer
    class Interrupted(BaseMaterializer):
        ASSOCIATED_TYPES = ("builtins.bytearray",)

        def save(self, data):
            with self.artifact_store.open(self.path("part.bin"), "wb") as handle:
                handle.write(b"x" * 4096)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, halfway through the save

    try:
        Client().save_artifact(bytearray(b"data"), "interrupted")
    except KeyboardInterrupt:
        print("interrupted")
"""


def test_ctrl_c_during_a_save_leaves_no_version_and_no_data(tmp_path: Path) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent(INTERRUPTED_SAVE))
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=os.environ
    )
    assert completed.stdout.strip() == "interrupted", completed.stderr
    client = Client()
    with pytest.raises(NotFoundError, match="no artifact called 'interrupted'"):
        client.get_artifact_version("interrupted")
    store = client.active_stack.artifact_store
    assert not store.exists(f"{store.path}/_saved/interrupted/1")


def test_an_empty_setting_file_is_refused(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    err = error_of(cli("artifact-store", "register", "e", "--flavor=local", f"--path=@{empty}"))
    assert f"--path from '{empty}' is empty" in err, err
    assert "e" not in [
        s["name"] for s in json.loads(cli("artifact-store", "list", "-o", "json").out)
    ]


def test_a_setting_is_piped_in_with_at_dash(tmp_path: Path) -> None:
    folder = tmp_path / "piped"
    done = holdall_process(
        "artifact-store", "register", "piped", "--flavor=local", "--path=@-",
        input=f"{folder}\n",
    )  # fmt: skip
    assert done.code == 0, done.err
    assert Client().get_artifact_store("piped").config["path"] == str(folder)
    nothing = holdall_process(
        "artifact-store", "register", "none", "--flavor=local", "--path=@-", input=""
    )
    assert nothing.code == 1 and "--path from standard input is empty" in nothing.err


def test_a_setting_is_typed_at_a_hidden_prompt_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, @- asks for the value without echoing it (a secret stays off screen)."""
    import pty

    folder = str(tmp_path / "typed")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, its standard input a terminal
        os.execv(
            sys.executable,
            [sys.executable, "-m", "holdall", "artifact-store", "register", "typed",
             "--flavor=local", "--path=@-"],
        )  # fmt: skip
    screen = b""
    while b"--path" not in screen:  # the prompt, seen
        screen += os.read(terminal, 1024)
    os.write(terminal, folder.encode() + b"\r")
    while True:
        try:
            chunk = os.read(terminal, 1024)
        except OSError:  # the command ended, and the terminal with it
            break
        if not chunk:
            break
        screen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    typed, _, after = screen.partition(b"\n")
    assert typed.strip() == b"--path:", screen  # what was typed was never echoed
    assert b"Registered artifact store 'typed'" in after
    assert Client().get_artifact_store("typed").config["path"] == folder


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("SSECustomerKey", True),
        ("aws_secret_access_key", True),
        ("Password", True),
        ("x-api-token", True),
        ("Authorization", True),
        ("SSEKMSKeyId", False),  # names a key; the key itself stays in KMS
        ("BucketKeyEnabled", False),
        ("region_name", False),
        ("max_pool_connections", False),
    ],
)
def test_free_form_settings_refuse_names_that_carry_a_credential(
    name: str, credential: bool
) -> None:
    from holdall.artifact_stores.config import is_credential_name

    assert is_credential_name(name) is credential
