"""`make demo`'s script works on a fresh config dir, and again on the same one."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_quickstart_runs_twice_in_a_row() -> None:
    outputs = [
        subprocess.run(
            [sys.executable, str(REPO / "examples" / "quickstart.py")],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for _ in range(2)
    ]
    assert "registered stack 'quickstart'" in outputs[0]
    assert "registered" not in outputs[1]
    assert "runs/latest/metrics.json" in outputs[1]
    assert "active stack is still 'default'" in outputs[1]
