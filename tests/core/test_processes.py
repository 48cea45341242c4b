"""Telling whether the process that reserved a version is alive: only certainty counts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from holdall.processes import process_alive, process_tag


def test_this_process_is_alive() -> None:
    tag = process_tag()
    host, pid, namespace, start, boot = tag.split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert namespace.isdigit() and start.startswith("c") and boot.startswith("b")
    assert abs(float(start[1:]) - time.time()) < 24 * 3600 and float(boot[1:]) < float(start[1:])
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
    earlier = float(start[1:]) - 60
    assert process_alive(f"{host}:{pid}:{namespace}:c{earlier:.2f}:{boot}") is False


def test_a_clock_moved_by_a_second_still_finds_the_process_alive() -> None:
    # On Linux, psutil derives start times from a boot time that NTP may have moved since
    # the tag was written: a live process must never be declared gone for it.
    host, pid, namespace, start, boot = process_tag().split(":")
    moved = f"c{float(start[1:]) + 1:.2f}"
    reboot = f"b{float(boot[1:]) - 1:.0f}"
    assert process_alive(f"{host}:{pid}:{namespace}:{moved}:{reboot}") is True


def test_a_restarted_machine_ran_none_of_its_old_processes() -> None:
    host, pid, namespace, start, boot = process_tag().split(":")
    assert process_alive(f"{host}:{pid}:{namespace}:{start}:b{float(boot[1:]) - 3600:.0f}") is False


def test_tags_of_holdall_0_2_are_judged_as_0_2_judged_them() -> None:
    # start: clock ticks from boot to the process's start (/proc/PID/stat's 22nd field);
    # boot: Linux's boot id. Where no /proc has them, 0.2 wrote no such tags.
    stat = Path(f"/proc/{os.getpid()}/stat").read_text().rpartition(")")[2].split()
    ticks = int(stat[19])
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    host, pid, namespace = socket.gethostname(), os.getpid(), process_tag().split(":")[2]
    assert process_alive(f"{host}:{pid}:{namespace}:{ticks}:{boot_id}") is True
    reused = ticks - 60 * os.sysconf("SC_CLK_TCK")
    assert process_alive(f"{host}:{pid}:{namespace}:{reused}:{boot_id}") is False
    other_boot = "00000000-0000-0000-0000-000000000000"
    assert process_alive(f"{host}:{pid}:{namespace}:{ticks}:{other_boot}") is False


def test_what_this_machine_cannot_judge_is_unknown() -> None:
    host, pid, namespace, start, boot = process_tag().split(":")
    # Another container under the same hostname: its PIDs are not ours to look up.
    assert process_alive(f"{host}:{pid}:{int(namespace) + 1}:{start}:{boot}") is None
    assert process_alive(f"another-host:{pid}:{namespace}:{start}:{boot}") is None
    assert process_alive("garbage") is None
    assert process_alive(f"{host}:{pid}:{namespace}:cnot-a-time:{boot}") is None


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
