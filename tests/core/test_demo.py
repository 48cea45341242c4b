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
    for version, output in enumerate(outputs, start=1):
        assert "on stack 'default': completed" in output
        assert f"/training_pipeline/train/model/{version}" in output
        assert f"model:{version}  <- train" in output
        assert f"dataset: dataset:{version}  <- load_data" in output
