"""`holdall integration install s3` beside `zenml integration install s3`, in the same run.

Each round makes two fresh virtual environments: one with the core of this checkout, one with
zenml; then times only the integration install in each. A first round of each fills pip's
cache (both tools then fetch from the same cache), and is not counted. Target (issue 10): no
slower than ZenML's install of the same cloud (ratio = zenml time / holdall time >= 1).
Run from the repository root: `python -m benchmarks.install_time [--rounds 2]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _environment(where: Path) -> Path:
    venv.create(where, with_pip=True)
    _run(where, "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    return where


def _run(environment: Path, program: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(environment / "bin" / program), *args], check=True, capture_output=True)
    return time.perf_counter() - start


def holdall_round(folder: Path) -> float:
    environment = _environment(folder / "holdall")
    _run(environment, "python", "-m", "pip", "install", "--quiet", str(ROOT))
    return _run(environment, "holdall", "integration", "install", "s3", "-y")


def zenml_round(folder: Path) -> float:
    environment = _environment(folder / "zenml")
    _run(environment, "python", "-m", "pip", "install", "--quiet", "zenml")
    return _run(environment, "zenml", "integration", "install", "s3", "-y")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    holdall, zenml = [], []
    for number in range(rounds + 1):  # the first fills pip's cache
        with tempfile.TemporaryDirectory() as folder:
            ours = holdall_round(Path(folder))
            theirs = zenml_round(Path(folder))
        if number:
            holdall.append(ours)
            zenml.append(theirs)
        print(
            f"round {number}{' (cache)' if not number else ''}: holdall {ours:.1f} s, "
            f"zenml {theirs:.1f} s",
            flush=True,
        )
    ours, theirs = statistics.median(holdall), statistics.median(zenml)
    verdict = "ok" if theirs / ours >= 1 else "SLOWER"
    print(
        f"integration install s3: holdall {ours:.1f} s | zenml {theirs:.1f} s "
        f"(ratio {theirs / ours:.2f}) | {verdict} target: no slower than zenml"
    )


if __name__ == "__main__":
    main()
