"""Telling whether the process that reserved a version is alive: only certainty counts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from holdall.processes import process_alive, process_tag


def test_this_process_is_alive() -> None:
    tag = process_tag()
    host, pid, namespace, start, boot = tag.split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert namespace.isdigit() and start.isdigit() and len(boot) == 36
    assert process_alive(tag) is True


def test_a_process_that_ended_is_gone() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "from holdall.processes import process_tag; print(process_tag())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert process_alive(child.stdout.strip()) is False


def test_a_reused_pid_is_not_taken_for_the_process_that_had_it() -> None:
    host, pid, namespace, start, boot = process_tag().split(":")
    assert process_alive(f"{host}:{pid}:{namespace}:{int(start) - 1}:{boot}") is False


def test_a_restarted_machine_ran_none_of_its_old_processes() -> None:
    host, pid, namespace, start, _boot = process_tag().split(":")
    other_boot = "00000000-0000-0000-0000-000000000000"
    assert process_alive(f"{host}:{pid}:{namespace}:{start}:{other_boot}") is False


def test_what_this_machine_cannot_judge_is_unknown() -> None:
    host, pid, namespace, start, boot = process_tag().split(":")
    # Another container under the same hostname: its PIDs are not ours to look up.
    assert process_alive(f"{host}:{pid}:{int(namespace) + 1}:{start}:{boot}") is None
    assert process_alive(f"another-host:{pid}:{namespace}:{start}:{boot}") is None
    assert process_alive("garbage") is None


def test_tags_of_holdall_0_1_0_are_judged_by_host_and_pid() -> None:
    assert process_alive(f"{socket.gethostname()}:{os.getpid()}") is True
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_alive(f"{socket.gethostname()}:{child.pid}") is False


def test_a_spool_file_names_its_process() -> None:
    from holdall.processes import spool_owner_alive, spool_prefix

    assert spool_owner_alive(spool_prefix() + "abc123") is True
    child = subprocess.run(
        [sys.executable, "-c", "from holdall.processes import spool_prefix; print(spool_prefix())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert spool_owner_alive(child.stdout.strip() + "abc123") is False
    assert spool_owner_alive(".holdall-staged_garbage") is None
    assert spool_owner_alive("unrelated.tmp") is None
