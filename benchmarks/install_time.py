"""Installing holdall and one cloud beside installing ZenML and the same cloud, in one run.

For each cloud, each round makes two fresh virtual environments and times, in each, what a
user types: `pip install holdall` (from a package index on 127.0.0.1 serving this tree's
wheels, the machine's usual index as the extra one) then `holdall integration install s3 -y`;
`pip install zenml` then `zenml integration install s3 -y`. A first round fills pip's cache
and is not counted (both then fetch from the same cache); then the medians of the rounds.
It prints, for each cloud and tool, the packages installed, the environment's size and the
time. Targets (issue 21): holdall's time and size at most 0.7 of ZenML's.
Run from the repository root: `python -m benchmarks.install_time [--rounds 3] [--clouds s3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import venv
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures.package_index import build_wheels, serving
from tests.fixtures.venvs import tracked_copy

ROOT = Path(__file__).resolve().parents[1]
ZENML_NAMES = {"s3": "s3", "gcp": "gcp", "azure": "azure"}
TARGET = 0.7


@dataclass(frozen=True)
class Install:
    seconds: float
    mib: float
    packages: int
    sizes: dict[str, float]  # MiB of each installed distribution


# Run inside an environment: the bytes of each installed distribution's files.
SIZES = """
import json
from importlib import metadata
sizes = {}
for d in metadata.distributions():
    total = 0
    for f in d.files or []:
        try:
            total += d.locate_file(f).stat().st_size
        except OSError:
            pass
    sizes[d.metadata["Name"].lower().replace("_", "-")] = total / 2**20
print(json.dumps(sizes))
"""


def _environment(where: Path) -> Path:
    venv.create(where, with_pip=True)
    _run(where, {}, "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    return where


def _run(environment: Path, env: dict[str, str], program: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(environment / "bin" / program), *args],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_NO_COMPILE": "1", **env},
        cwd=environment,
    )
    return time.perf_counter() - start


def _measure(environment: Path, seconds: float) -> Install:
    sizes = json.loads(
        subprocess.run(
            [str(environment / "bin" / "python"), "-c", SIZES],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    size = sum(p.stat().st_size for p in environment.rglob("*") if p.is_file())
    return Install(seconds, size / 2**20, len(sizes), sizes)


def holdall_round(folder: Path, cloud: str, index: dict[str, str]) -> Install:
    environment = _environment(folder / "holdall")
    env = {**index, "HOLDALL_CONFIG_DIR": str(folder / "holdall-config")}
    seconds = _run(environment, env, "python", "-m", "pip", "install", "--quiet", "holdall")
    seconds += _run(environment, env, "holdall", "integration", "install", cloud, "-y")
    return _measure(environment, seconds)


def zenml_round(folder: Path, cloud: str) -> Install:
    environment = _environment(folder / "zenml")
    env = {"ZENML_CONFIG_PATH": str(folder / "zenml-config"), "ZENML_ANALYTICS_OPT_IN": "false"}
    seconds = _run(environment, env, "python", "-m", "pip", "install", "--quiet", "zenml")
    seconds += _run(environment, env, "zenml", "integration", "install", ZENML_NAMES[cloud], "-y")
    return _measure(environment, seconds)


def _median(installs: list[Install]) -> Install:
    return Install(
        statistics.median(i.seconds for i in installs),
        statistics.median(i.mib for i in installs),
        round(statistics.median(i.packages for i in installs)),
        installs[-1].sizes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clouds", nargs="+", default=list(ZENML_NAMES))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        wheels = build_wheels(tracked_copy(Path(scratch) / "checkout"))
        with serving(wheels) as index:
            for cloud in arguments.clouds:
                _compare(cloud, arguments.rounds, index.pip_env())


def _compare(cloud: str, rounds: int, index: dict[str, str]) -> None:
    ours: list[Install] = []
    theirs: list[Install] = []
    for number in range(rounds + 1):  # the first fills pip's cache
        with tempfile.TemporaryDirectory() as folder:
            holdall = holdall_round(Path(folder), cloud, index)
            zenml = zenml_round(Path(folder), cloud)
        if number:
            ours.append(holdall)
            theirs.append(zenml)
        print(
            f"{cloud} round {number}{' (cache)' if not number else ''}: holdall "
            f"{holdall.seconds:.1f} s, zenml {zenml.seconds:.1f} s",
            flush=True,
        )
    holdall, zenml = _median(ours), _median(theirs)
    time_ratio, size_ratio = holdall.seconds / zenml.seconds, holdall.mib / zenml.mib
    for name, result in (("holdall", holdall), ("zenml", zenml)):
        print(
            f"  {cloud} {name}: {result.packages} packages, {result.mib:.0f} MiB, "
            f"{result.seconds:.1f} s"
        )
    # What both environments hold (the cloud's SDK, pip) weighs the same in each: beside it,
    # what each tool brings of its own.
    shared = set(holdall.sizes) & set(zenml.sizes)
    both = sum(min(holdall.sizes[d], zenml.sizes[d]) for d in shared)
    biggest = sorted(shared, key=lambda d: -holdall.sizes[d])[:3]
    print(
        f"  {cloud} both hold {len(shared)} distributions, {both:.0f} MiB (biggest: "
        + ", ".join(f"{d} {holdall.sizes[d]:.0f}" for d in biggest)
        + f"); beyond them holdall {holdall.mib - both:.0f} MiB, zenml {zenml.mib - both:.0f}"
    )
    for name, result, other in (("holdall", holdall, zenml), ("zenml", zenml, holdall)):
        own = sorted(set(result.sizes) - set(other.sizes), key=lambda d: -result.sizes[d])
        print(
            f"  {cloud} only {name} holds {len(own)}, "
            f"{sum(result.sizes[d] for d in own):.0f} MiB: "
            + ", ".join(f"{d} {result.sizes[d]:.1f}" for d in own[:6])
        )
    verdict = "ok" if max(time_ratio, size_ratio) <= TARGET else "OVER TARGET"
    print(
        f"  {cloud}: time {time_ratio:.2f}, size {size_ratio:.2f} of zenml's | {verdict} "
        f"(target <= {TARGET})",
        flush=True,
    )


if __name__ == "__main__":
    main()
